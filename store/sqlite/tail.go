package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// defaultTailPoll is how often a waiting tail reads the feed without being woken: the delay of a
// write made by another process on the same file (this store's own writes wake it at once).
const defaultTailPoll = time.Second

// tailBatch is the most sessions that one read of a tail returns.
const tailBatch = 256

// tailQuery reads the feed of one account after a position, in order, from the index
// sessions_feed. The filter's other fields are applied to the rows in Go (Filter.Match), so that
// a tail reads each row of its account once, whether it matches or not, and passes it for good.
const tailQuery = `SELECT s.id, s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind,
	s.upstream_model, a.name, s.feed_position
FROM sessions s JOIN agents a ON a.id = s.agent_id
WHERE s.account_id = ? AND s.feed_position > ?
ORDER BY s.feed_position
LIMIT ?`

// TailPosition returns the position of the end of the feed now: the last position handed out,
// as a decimal number. It returns the context and database errors of the package. It is safe
// for concurrent use.
func (s *Store) TailPosition(ctx context.Context) (string, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return "", err
	}
	var p int64
	if err := s.read.QueryRowContext(ctx, "SELECT position FROM feed WHERE id = 1").Scan(&p); err != nil {
		return "", mapError(ctx, err)
	}
	return strconv.FormatInt(p, 10), nil
}

// Tail calls fn with each session of f written after the position after, in the order of the
// writes, and waits for more, as [sessions.Tailer] describes. Writes through this store wake it
// at once; it also reads every second, for writes of another process on the same file. It
// returns a *sessions.ValidationError for a filter that [sessions.TailFilter] refuses or a
// position that this package did not make, fn's error as it is, ctx's error (mapped as
// [sessions.ContextError] maps it) when ctx ends, and the database errors of the package. It
// is safe for concurrent use; fn is called on the caller's goroutine.
func (s *Store) Tail(ctx context.Context, f sessions.Filter, after string, fn func(sessions.Session, string) error) error {
	f, err := sessions.TailFilter(f)
	if err != nil {
		return err
	}
	pos, err := parsePosition(after)
	if err != nil {
		return err
	}
	if after == "" {
		p, err := s.TailPosition(ctx)
		if err != nil {
			return err
		}
		pos, _ = strconv.ParseInt(p, 10, 64)
	}
	poll := time.NewTimer(s.tailPoll)
	defer poll.Stop()
	for {
		wake := s.feed.Wait() // before the read: a write after it closes wake
		n, err := s.tailRead(ctx, f, &pos, fn)
		if err != nil {
			return err
		}
		if n == tailBatch {
			continue
		}
		poll.Reset(s.tailPoll)
		select {
		case <-ctx.Done():
			return sessions.ContextError(ctx)
		case <-wake:
		case <-poll.C:
		}
	}
}

// tailRead reads one batch of the feed of f after *pos, calls fn with each session that f
// selects, and moves *pos past every row it read. It returns how many rows it read.
func (s *Store) tailRead(ctx context.Context, f sessions.Filter, pos *int64, fn func(sessions.Session, string) error) (int, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return 0, err
	}
	rows, err := s.read.QueryContext(ctx, tailQuery, f.AccountID, *pos, tailBatch)
	if err != nil {
		return 0, mapError(ctx, err)
	}
	// The batch is read whole before fn runs, so that a slow fn holds no read transaction open
	// (which would keep checkpoints from finishing).
	type row struct {
		s   sessions.Session
		pos int64
	}
	var batch []row
	for rows.Next() {
		x := sessions.Session{AccountID: f.AccountID}
		var started, ended, p int64
		var status string
		var kinds []byte
		if err := rows.Scan(&x.ID, &x.AgentID, &started, &ended, &status, &kinds, &x.UpstreamModel, &x.AgentName, &p); err != nil {
			rows.Close()
			return 0, mapError(ctx, err)
		}
		x.Status = sessions.Status(status)
		x.StartedAt = time.UnixMilli(started).UTC()
		x.EndedAt = time.UnixMilli(ended).UTC()
		if x.RedactionsByKind, err = kindsjson.Parse(kinds); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: session %s: %w", x.ID, err)
		}
		batch = append(batch, row{x, p})
	}
	if err := rows.Err(); err != nil {
		return 0, mapError(ctx, err)
	}
	for _, r := range batch {
		*pos = r.pos
		if f.Match(r.s) {
			if err := fn(r.s, strconv.FormatInt(r.pos, 10)); err != nil {
				return 0, err
			}
		}
	}
	return len(batch), nil
}

// parsePosition reads a position of TailPosition or Tail: a decimal number, 0 or more. It
// returns 0 for "".
func parsePosition(p string) (int64, error) {
	if p == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(p, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != p {
		return 0, &sessions.ValidationError{Subject: "tail", Field: "after",
			Reason: fmt.Sprintf("want a position that this store handed out, got %q", truncate(p))}
	}
	return n, nil
}

// truncate returns p, cut to 40 bytes, for a message.
func truncate(p string) string {
	if len(p) > 40 {
		return p[:40] + "..."
	}
	return p
}
