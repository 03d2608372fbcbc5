package sqlite

import (
	"context"
	"fmt"
	"maps"
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

// tailRow is a row of the feed: a session and its position.
type tailRow struct {
	s   sessions.Session
	pos int64
}

// readKey is the key of a read of the feed that the tails share: the rows of account after a
// position.
type readKey struct {
	account string
	after   int64
}

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
// at once; it also reads every second, for writes of another process on the same file. The
// tails of one account that wait at the same position share their reads (package internal/sharedread). It
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
	fresh := true // a read that started after now: the first, and after a poll
	for {
		wake := s.feed.Wait() // before the read: a write after it closes wake
		need := s.reads.Need(fresh)
		rows, err := s.reads.Read(ctx, readKey{f.AccountID, pos}, need, func(ctx context.Context) ([]tailRow, error) {
			return s.tailRead(ctx, f.AccountID, pos)
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			pos = r.pos
			if f.Match(r.s) {
				x := r.s
				x.RedactionsByKind = maps.Clone(x.RedactionsByKind) // the rows are shared
				if err := fn(x, strconv.FormatInt(r.pos, 10)); err != nil {
					return err
				}
			}
		}
		if len(rows) == tailBatch {
			continue
		}
		poll.Reset(s.tailPoll)
		fresh = false
		select {
		case <-ctx.Done():
			return sessions.ContextError(ctx)
		case <-wake:
		case <-poll.C:
			fresh = true
		}
	}
}

// tailRead reads one batch of the feed of account after the position after, in order. It
// reads it whole before it returns, so that a slow fn holds no read transaction open (which
// would keep checkpoints from finishing).
func (s *Store) tailRead(ctx context.Context, account string, after int64) ([]tailRow, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return nil, err
	}
	stmt, err := s.prepared(ctx, tailQuery)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	rows, err := stmt.QueryContext(ctx, account, after, tailBatch)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	defer rows.Close()
	var batch []tailRow
	for rows.Next() {
		x := sessions.Session{AccountID: account}
		var started, ended, p int64
		var status string
		var kinds []byte
		if err := rows.Scan(&x.ID, &x.AgentID, &started, &ended, &status, &kinds, &x.UpstreamModel, &x.AgentName, &p); err != nil {
			return nil, mapError(ctx, err)
		}
		x.Status = sessions.Status(status)
		x.StartedAt = time.UnixMilli(started).UTC()
		x.EndedAt = time.UnixMilli(ended).UTC()
		if x.RedactionsByKind, err = kindsjson.Parse(kinds); err != nil {
			return nil, fmt.Errorf("sqlite: session %s: %w", x.ID, err)
		}
		batch = append(batch, tailRow{x, p})
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(ctx, err)
	}
	return batch, nil
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
