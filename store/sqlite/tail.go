package sqlite

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
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

// TailPosition returns the position of the end of the feed now: the identity of the database's
// feed and the last position of its counter (see position). It returns the context and database
// errors of the package. It is safe for concurrent use.
func (s *Store) TailPosition(ctx context.Context) (string, error) {
	end, err := s.feedEnd(ctx)
	if err != nil {
		return "", err
	}
	return end.String(), nil
}

// CheckPosition reports whether a tail may start after the position p, as
// [sessions.PositionChecker] describes: it returns a *sessions.ValidationError for a position that
// this package did not make, one of another database, and one ahead of this database's feed (of
// a copy of the file that has not reached it yet), and the context and database errors of the
// package. It is safe for concurrent use.
func (s *Store) CheckPosition(ctx context.Context, p string) error {
	_, err := s.start(ctx, p)
	return err
}

// start returns the position that a tail after the position after starts from: after, once
// checked against the database's feed, or the end of the feed when after is "".
func (s *Store) start(ctx context.Context, after string) (position, error) {
	p, err := parsePosition(after)
	if err != nil {
		return position{}, err
	}
	end, err := s.feedEnd(ctx)
	switch {
	case err != nil:
		return position{}, err
	case after == "":
		return end, nil
	case p.identity != "" && p.identity != end.identity:
		return position{}, badPosition(after, "a position of another database's feed")
	case p.n > end.n:
		return position{}, badPosition(after, "a position ahead of this database's feed")
	}
	return position{end.identity, p.n}, nil
}

// feedEnd reads the end of the feed: its identity and the last position handed out.
func (s *Store) feedEnd(ctx context.Context) (position, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return position{}, err
	}
	var end position
	err := s.read.QueryRowContext(ctx, "SELECT identity, position FROM feed WHERE id = 1").Scan(&end.identity, &end.n)
	if err != nil {
		return position{}, mapError(ctx, err)
	}
	return end, nil
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
	start, err := s.start(ctx, after)
	if err != nil {
		return err
	}
	pos := start.n
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
				if err := fn(x, position{start.identity, r.pos}.String()); err != nil {
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

// position is a position of the feed: the identity of its database (migration 0008) and a
// number of its counter, written "identity.number". A position handed out before that migration
// is the number alone, and its identity "": it is taken as this database's.
type position struct {
	identity string
	n        int64
}

// String returns the position as TailPosition and Tail hand it out.
func (p position) String() string {
	if p.identity == "" {
		return strconv.FormatInt(p.n, 10)
	}
	return p.identity + "." + strconv.FormatInt(p.n, 10)
}

// parsePosition reads a position of TailPosition or Tail, as String writes it. It returns the
// zero position for "".
func parsePosition(v string) (position, error) {
	if v == "" {
		return position{}, nil
	}
	var p position
	num := v
	if i := strings.LastIndexByte(v, '.'); i >= 0 {
		p.identity, num = v[:i], v[i+1:]
	}
	var err error
	p.n, err = strconv.ParseInt(num, 10, 64)
	if err != nil || p.n < 0 || p.String() != v || strings.Trim(p.identity, "0123456789abcdef") != "" {
		return position{}, badPosition(v, "want a position that this store handed out")
	}
	return p, nil
}

// badPosition returns the error of a tail after the position v, which this database's feed
// cannot start from, for the reason why.
func badPosition(v, why string) error {
	return &sessions.ValidationError{Subject: "tail", Field: "after", Reason: fmt.Sprintf("%s, got %q", why, truncate(v))}
}

// truncate returns p, cut to 40 bytes, for a message.
func truncate(p string) string {
	if len(p) > 40 {
		return p[:40] + "..."
	}
	return p
}
