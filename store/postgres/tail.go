package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
)

// defaultTailPoll is how often a waiting tail reads the feed without being woken: the delay of a
// write whose notification was lost (the listening connection dropped), and the longest wait for
// a row held back by the watermark when no write wakes the tail.
const defaultTailPoll = time.Second

// heldBackPoll is how soon a tail reads again after it met a row held back by the watermark (a
// transaction older than the row's is still running): the transaction that holds the watermark
// back may not write sessions, and so may end without a notification.
const heldBackPoll = 20 * time.Millisecond

// tailBatch is the most rows that one read of a tail returns.
const tailBatch = 256

// watermarkSQL is the visibility watermark: every transaction whose ID is below it has ended,
// committed or aborted, and every transaction that has not yet written gets a larger ID.
const watermarkSQL = `pg_snapshot_xmin(pg_current_snapshot())::text::bigint`

// tailQuery reads the feed of one account after the feedPosition ($2, $3), in order, on the index
// sessions_feed, with the watermark of the statement's snapshot: rows from feed_xid = watermark
// on may still be joined by rows of transactions in flight, so the tail stops before them. The
// filter's other fields are applied in Go (Filter.Match), so that a tail reads each row of its
// account once, whether it matches or not, and passes it for good.
const tailQuery = `SELECT s.id, s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind,
	s.upstream_model, a.name, s.feed_xid, s.feed_seq, ` + watermarkSQL + `
FROM sessions s JOIN agents a ON a.id = s.agent_id
WHERE s.account_id = $1 AND (s.feed_xid, s.feed_seq) > ($2, $3)
ORDER BY s.feed_xid, s.feed_seq
LIMIT $4`

// feedPosition is a place in the feed: the order of (xid, seq).
type feedPosition struct{ xid, seq int64 }

func (p feedPosition) String() string {
	return strconv.FormatInt(p.xid, 10) + "." + strconv.FormatInt(p.seq, 10)
}

// parsePosition reads a feedPosition of TailPosition or Tail: "XID.SEQ", two decimal numbers.
func parsePosition(s string) (feedPosition, error) {
	x, q, ok := strings.Cut(s, ".")
	xid, err1 := strconv.ParseInt(x, 10, 64)
	seq, err2 := strconv.ParseInt(q, 10, 64)
	p := feedPosition{xid, seq}
	if !ok || err1 != nil || err2 != nil || xid < 0 || seq < 0 || p.String() != s {
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return feedPosition{}, &sessions.ValidationError{Subject: "tail", Field: "after",
			Reason: fmt.Sprintf("want a feedPosition that this store handed out, got %q", s)}
	}
	return p, nil
}

// TailPosition returns the feedPosition of the end of the feed now: the watermark, before every row
// of the transactions that were in flight or not yet begun. It runs on the primary. It returns
// the context and connection errors of the package. It is safe for concurrent use.
func (s *Store) TailPosition(ctx context.Context) (string, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return "", err
	}
	var xid int64
	err := s.retry(ctx, s.pool, func() error {
		return s.pool.QueryRow(ctx, "SELECT "+watermarkSQL).Scan(&xid)
	})
	if err != nil {
		return "", err
	}
	return feedPosition{xid: xid}.String(), nil
}

// Tail calls fn with each session of f written after the feedPosition after, in the feed's order,
// and waits for more, as [sessions.Tailer] describes. It reads on the primary, also with
// WithReadPool. A write through any store on the same schema, of this process or another,
// wakes it by LISTEN/NOTIFY on one connection of the store that all its tails share; it also
// reads every second, should a notification be lost. It returns a *sessions.ValidationError for
// a filter that [sessions.TailFilter] refuses or a feedPosition that this package did not make,
// fn's error as it is, ctx's error (mapped as [sessions.ContextError] maps it) when ctx ends,
// and the connection errors of the package. It is safe for concurrent use; fn is called on the
// caller's goroutine.
func (s *Store) Tail(ctx context.Context, f sessions.Filter, after string, fn func(sessions.Session, string) error) error {
	f, err := sessions.TailFilter(f)
	if err != nil {
		return err
	}
	var pos feedPosition
	if after != "" {
		if pos, err = parsePosition(after); err != nil {
			return err
		}
	}
	if err := sessions.ContextError(ctx); err != nil {
		return err
	}
	wake := s.listener().wait
	if after == "" {
		p, err := s.TailPosition(ctx)
		if err != nil {
			return err
		}
		pos, _ = parsePosition(p)
	}
	poll := time.NewTimer(s.tailPoll)
	defer poll.Stop()
	for {
		woken := wake() // before the read: a write after it closes woken
		n, heldBack, err := s.tailRead(ctx, f, &pos, fn)
		if err != nil {
			return err
		}
		if n == tailBatch && !heldBack {
			continue
		}
		if heldBack {
			poll.Reset(heldBackPoll)
		} else {
			poll.Reset(s.tailPoll)
		}
		select {
		case <-ctx.Done():
			return sessions.ContextError(ctx)
		case <-woken:
		case <-poll.C:
		}
	}
}

// tailRow is one row of tailQuery.
type tailRow struct {
	s   sessions.Session
	pos feedPosition
}

// tailRead reads one batch of the feed of f after *pos, calls fn with each session below the
// watermark that f selects, and moves *pos past every such row. It returns how many rows it
// read, and whether it stopped at a row held back by the watermark.
func (s *Store) tailRead(ctx context.Context, f sessions.Filter, pos *feedPosition, fn func(sessions.Session, string) error) (int, bool, error) {
	var batch []tailRow
	var watermark int64
	err := s.retry(ctx, s.pool, func() error {
		batch = batch[:0]
		rows, err := s.pool.Query(ctx, tailQuery, f.AccountID, pos.xid, pos.seq, tailBatch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := tailRow{s: sessions.Session{AccountID: f.AccountID}}
			var status string
			if err := rows.Scan(&r.s.ID, &r.s.AgentID, &r.s.StartedAt, &r.s.EndedAt, &status,
				(*kindsColumn)(&r.s.RedactionsByKind), &r.s.UpstreamModel, &r.s.AgentName,
				&r.pos.xid, &r.pos.seq, &watermark); err != nil {
				return err
			}
			r.s.Status = sessions.Status(status)
			r.s.StartedAt, r.s.EndedAt = r.s.StartedAt.UTC(), r.s.EndedAt.UTC()
			if r.s.RedactionsByKind == nil {
				r.s.RedactionsByKind = map[string]int{}
			}
			batch = append(batch, r)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, false, err
	}
	for _, r := range batch {
		if r.pos.xid >= watermark {
			return len(batch), true, nil
		}
		*pos = r.pos
		if f.Match(r.s) {
			if err := fn(r.s, r.pos.String()); err != nil {
				return 0, false, err
			}
		}
	}
	return len(batch), false, nil
}
