package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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
// writer of the account older than the row's is still running, or a transaction ended during the
// read of the watermark, see watermarkSQL): the transaction that holds the watermark back may end
// without a notification (it rolls back, or it ended before the read).
const heldBackPoll = 20 * time.Millisecond

// tailBatch is the most rows that one read of a tail returns.
const tailBatch = 256

// accountKeySQL returns the SQL of the key of the advisory lock of the account that the SQL
// account names, in the store's schema, a bigint (pg_advisory_xact_lock_shared(bigint)):
// PutSessions holds it, shared or exclusive, for each account that it writes, from before its
// transaction's first write (and so before the transaction has an ID) to its end
// (lockAccountsSQL), and a tail of the account looks for its holders, in either mode
// (watermarkSQL).
func accountKeySQL(account string) string {
	return `hashtextextended(` + account + `::text, hashtextextended(current_schema()::text, 0))`
}

// watermarkSQL is the visibility watermark of the account $1, read in its own statement before
// the tail reads the rows (tailQuery): every transaction that has written or will write a row of
// the account with a feed_xid below it has ended, so that the rows below it that the next
// statement sees are final. The watermark is the least of:
//
//   - xmax, the xmax of the statement's snapshot: a transaction that gets its ID after the
//     snapshot gets one at or above it.
//   - The smallest ID of the transactions that hold the account's lock and have an ID, read in
//     pg_locks (readable by any role) as the lock of locktype transactionid and mode
//     ExclusiveLock that every transaction holds on each of its IDs, its top ID the smallest,
//     and widened from 32 bits to a full ID relative to xmax. pg_locks is one consistent view
//     of the lock table, taken after the snapshot.
//   - When a holder of the account's lock shows no ID: the smallest ID of the snapshot's
//     transactions in flight (xip) that shows no transactionid lock in that view. The server
//     gives a transaction its ID, then makes the lock of that ID: a holder caught between the
//     two has an ID at or above xmax (it was given after the snapshot), or one in xip with no
//     lock yet. That set also holds the transactions that ended between the snapshot and the
//     view, which lower the watermark for that read only; never a long transaction, whose ID
//     has its lock.
//
// So a writer of the account either had not taken the lock when pg_locks was read, and gets its
// ID later, at or above xmax; or holds it, and its ID bounds the watermark; or had ended, and its
// rows are visible to the row statement, which begins after this one ends. Transactions that do
// not write the account, however long, do not hold its watermark back.
var watermarkSQL = `WITH l AS MATERIALIZED (
	SELECT locktype, database, classid, objid, objsubid, virtualtransaction, transactionid, mode
	FROM pg_locks
), snap AS (
	SELECT pg_current_snapshot() AS s, pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
), xids AS (
	SELECT l.virtualtransaction AS vxid,
		snap.xmax + ((l.transactionid::text::bigint - snap.xmax % 4294967296 + 6442450944) % 4294967296
			- 2147483648) AS xid
	FROM l, snap
	WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock'
), holders AS (
	SELECT DISTINCT l.virtualtransaction AS vxid
	FROM l
	WHERE l.locktype = 'advisory' AND l.objsubid = 1
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND ((l.classid::bigint << 32) | l.objid::bigint) = ` + accountKeySQL("$1") + `
)
SELECT least(snap.xmax,
	(SELECT min(xids.xid) FROM holders JOIN xids USING (vxid)),
	CASE WHEN EXISTS (SELECT FROM holders WHERE vxid NOT IN (SELECT vxid FROM xids)) THEN
		(SELECT min(x::text::bigint) FROM pg_snapshot_xip(snap.s) AS x
		WHERE x::text::bigint NOT IN (SELECT xid FROM xids))
	END)
FROM snap`

// tailQuery reads the feed of one account after the feedPosition ($2, $3), in order, on the index
// sessions_feed. Its caller reads the account's watermark (watermarkSQL) first: rows from
// feed_xid = watermark on may still be joined by rows of transactions in flight, so the tail stops
// before them. The filter's other fields are applied in Go (Filter.Match), so that a tail reads
// each row of its account once, whether it matches or not, and passes it for good.
const tailQuery = `SELECT s.id, s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind,
	s.upstream_model, a.name, s.feed_xid, s.feed_seq
FROM sessions s JOIN agents a ON a.id = s.agent_id
WHERE s.account_id = $1 AND (s.feed_xid, s.feed_seq) > ($2, $3)
ORDER BY s.feed_xid, s.feed_seq
LIMIT $4`

// feedPosition is a place in the feed: the order of (xid, seq). A position from TailPosition
// also carries the snapshot it was taken in (xmax and the transactions in flight, xip), and so do
// the positions a tail from it hands out until it passes xmax: transactions above the position's
// xid may have committed before the snapshot, and their rows come before the position although
// they sort after it.
//
// A position of this version also names the cluster whose transaction IDs it counts (system, the
// server's system_identifier, which its physical replicas share): the same ID is another point
// of another cluster's history, and a tail refuses a position of another one (see start).
type feedPosition struct {
	system   string // the decimal system_identifier; "" before this version, or when not readable
	xid, seq int64
	xmax     int64   // 0: no snapshot
	xip      []int64 // ascending, each >= xid and < xmax
}

// before reports whether a row of transaction xid was committed before the position's snapshot.
func (p feedPosition) before(xid int64) bool {
	return p.xmax != 0 && xid < p.xmax && !slices.Contains(p.xip, xid)
}

// at returns the position of a row of transaction xid, seq, read after p: with p's snapshot,
// trimmed to what is still ahead, while it matters.
func (p feedPosition) at(xid, seq int64) feedPosition {
	q := feedPosition{system: p.system, xid: xid, seq: seq}
	if xid < p.xmax {
		q.xmax = p.xmax
		for _, x := range p.xip {
			if x >= xid {
				q.xip = append(q.xip, x)
			}
		}
	}
	return q
}

// String returns "SYSTEM:XID.SEQ" ("XID.SEQ" without a system), followed by "~DXMAX~D,D..."
// when it carries a snapshot: xmax and the IDs in flight as differences, xmax from xid, the
// first ID from xid and each other from the one before, so that a snapshot of many transactions
// in flight (each ID 10 digits or more, most differences a few) keeps the position short enough
// for a resume token (httpapi refuses those of more than 8 KiB).
func (p feedPosition) String() string { return p.format(true) }

// format writes p as String does, or with the snapshot's IDs in full, "/XMAX/XIP,XIP...", as the
// positions of earlier versions did (deltas false).
func (p feedPosition) format(deltas bool) string {
	var b []byte
	if p.system != "" {
		b = append(append(b, p.system...), ':')
	}
	b = strconv.AppendInt(b, p.xid, 10)
	b = strconv.AppendInt(append(b, '.'), p.seq, 10)
	if p.xmax == 0 {
		return string(b)
	}
	sep, last, xmax := byte('~'), p.xid, p.xmax-p.xid
	if !deltas {
		sep, last, xmax = '/', 0, p.xmax
	}
	b = strconv.AppendInt(append(b, sep), xmax, 10)
	b = append(b, sep)
	for i, x := range p.xip {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x-last, 10)
		if deltas {
			last = x
		}
	}
	return string(b)
}

// parsePosition reads a position of TailPosition or Tail, as String writes it, or as the
// versions before it did (format with deltas false).
func parsePosition(s string) (feedPosition, error) {
	var p feedPosition
	var errSystem error
	rest := s
	if system, r, ok := strings.Cut(s, ":"); ok {
		if n, err := strconv.ParseUint(system, 10, 64); err != nil || n == 0 || strconv.FormatUint(n, 10) != system {
			errSystem = errors.New("bad system")
		}
		p.system, rest = system, r
	}
	deltas := !strings.Contains(rest, "/")
	sep := "~"
	if !deltas {
		sep = "/"
		if p.system != "" { // the IDs in full came before the system: one spelling per position
			errSystem = errors.New("a system with the earlier format")
		}
	}
	head, snap, hasSnap := strings.Cut(rest, sep)
	x, q, ok := strings.Cut(head, ".")
	var err1, err2, err3 error
	p.xid, err1 = strconv.ParseInt(x, 10, 64)
	p.seq, err2 = strconv.ParseInt(q, 10, 64)
	if hasSnap {
		m, list, _ := strings.Cut(snap, sep)
		var last int64
		if deltas {
			last = p.xid
		}
		p.xmax, err3 = strconv.ParseInt(m, 10, 64)
		p.xmax += last
		for x := range strings.SplitSeq(list, ",") {
			if x == "" {
				continue
			}
			d, err := strconv.ParseInt(x, 10, 64)
			n := last + d
			if err != nil || d < 0 || n < p.xid || n >= p.xmax || (len(p.xip) > 0 && n <= p.xip[len(p.xip)-1]) {
				err3 = errors.New("bad snapshot")
			}
			p.xip = append(p.xip, n)
			if deltas {
				last = n
			}
		}
		if p.xmax <= 0 || p.xmax < p.xid {
			err3 = errors.New("bad snapshot")
		}
	}
	if !ok || errSystem != nil || err1 != nil || err2 != nil || err3 != nil || p.xid < 0 || p.seq < 0 || p.format(deltas) != s {
		return feedPosition{}, badPosition(s, "want a position that this store handed out")
	}
	return p, nil
}

// badPosition returns the error of a tail after the position v, which this server's feed cannot
// start from, for the reason why.
func badPosition(v, why string) error {
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return &sessions.ValidationError{Subject: "tail", Field: "after", Reason: fmt.Sprintf("%s, got %q", why, v)}
}

// TailPosition returns the position of the end of the feed now: the snapshot of the server's
// transactions ("xmin:xmax:xip"), so that a tail from it delivers the rows of the transactions
// that were in flight or not yet begun, and none of those that had committed. It runs on the
// primary. It returns the context and connection errors of the package. It is safe for
// concurrent use.
func (s *Store) TailPosition(ctx context.Context) (string, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return "", err
	}
	var snap string
	err := s.retry(ctx, s.pool, func() error {
		return s.pool.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&snap)
	})
	if err != nil {
		return "", err
	}
	// xmin:xmax:xip,... with xip ascending, each in [xmin, xmax).
	parts := strings.Split(snap, ":")
	if len(parts) != 3 {
		return "", fmt.Errorf("postgres: unexpected snapshot %q", snap)
	}
	xmin, _ := strconv.ParseInt(parts[0], 10, 64)
	xmax, _ := strconv.ParseInt(parts[1], 10, 64)
	pos := feedPosition{system: s.system, xid: xmin, xmax: xmax}
	if parts[2] != "" {
		for x := range strings.SplitSeq(parts[2], ",") {
			n, _ := strconv.ParseInt(x, 10, 64)
			pos.xip = append(pos.xip, n)
		}
	}
	if _, err := parsePosition(pos.String()); err != nil {
		return "", fmt.Errorf("postgres: unexpected snapshot %q", snap)
	}
	return pos.String(), nil
}

// CheckPosition reports whether a tail may start after the position p, as
// [sessions.PositionChecker] describes: it returns a *sessions.ValidationError for a position
// that this package did not make, one of another cluster (whose transaction IDs count another
// history: a restore into a new cluster, another database server), and one ahead of this
// server's transactions (a position of a later point of a backup's history); and the context
// and connection errors of the package. It runs on the primary. It is safe for concurrent use.
func (s *Store) CheckPosition(ctx context.Context, p string) error {
	_, err := s.start(ctx, p)
	return err
}

// start returns the position after, checked as CheckPosition checks it, with this server's
// system; the zero position for "".
func (s *Store) start(ctx context.Context, after string) (feedPosition, error) {
	if err := sessions.ContextError(ctx); err != nil || after == "" {
		return feedPosition{}, err
	}
	pos, err := parsePosition(after)
	if err != nil {
		return feedPosition{}, err
	}
	if pos.system != "" && s.system != "" && pos.system != s.system {
		return feedPosition{}, badPosition(after, "a position of another PostgreSQL cluster")
	}
	var xmax int64
	err = s.retry(ctx, s.pool, func() error {
		return s.pool.QueryRow(ctx, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&xmax)
	})
	switch {
	case err != nil:
		return feedPosition{}, err
	case pos.xid > xmax || pos.xmax > xmax: // a snapshot without transactions in flight has xid = xmax
		return feedPosition{}, badPosition(after, "a position ahead of this server's transactions")
	}
	pos.system = s.system
	return pos, nil
}

// Tail calls fn with each session of f written after the feedPosition after, in the feed's order,
// and waits for more, as [sessions.Tailer] describes. It reads on the primary, also with
// WithReadPool. A write through any store on the same schema, of this process or another, wakes it
// by LISTEN/NOTIFY on one connection of the store that all its tails share; it also reads every
// second, should a notification be lost. The tails of one account of this store that wait at the
// same position share their reads (package internal/sharedread). It returns a
// *sessions.ValidationError for a filter that [sessions.TailFilter] refuses or a feedPosition that
// this package did not make, fn's error as it is, ctx's error (mapped as [sessions.ContextError]
// maps it) when ctx ends, the connection errors of the package, and an error that matches
// sessions.ErrUnavailable after Close (which it does not reopen a listening connection for). It
// is safe for concurrent use; fn is called on the caller's goroutine.
func (s *Store) Tail(ctx context.Context, f sessions.Filter, after string, fn func(sessions.Session, string) error) error {
	f, err := sessions.TailFilter(f)
	if err != nil {
		return err
	}
	pos, err := s.start(ctx, after)
	if err != nil {
		return err
	}
	l := s.listener()
	if l == nil {
		return errClosed
	}
	wake := l.wait
	if after == "" {
		p, err := s.TailPosition(ctx)
		if err != nil {
			return err
		}
		pos, _ = parsePosition(p)
	}
	poll := time.NewTimer(s.tailPoll)
	defer poll.Stop()
	fresh := true // a read that started after now: the first, and after a poll
	for {
		woken := wake() // before the read: a write after it closes woken
		need := s.reads.Need(fresh)
		read, err := s.reads.Read(ctx, feedKey{f.AccountID, pos.xid, pos.seq}, need, func(ctx context.Context) (feedRead, error) {
			return s.readFeed(ctx, f.AccountID, pos)
		})
		if err != nil {
			return err
		}
		heldBack, err := read.deliver(f, &pos, fn)
		if err != nil {
			return err
		}
		if len(read.rows) == tailBatch && !heldBack {
			continue
		}
		if heldBack {
			poll.Reset(heldBackPoll)
		} else {
			poll.Reset(s.tailPoll)
		}
		fresh = false
		select {
		case <-ctx.Done():
			return sessions.ContextError(ctx)
		case <-woken:
		case <-poll.C:
			fresh = true
		}
	}
}

// tailRow is one row of tailQuery.
type tailRow struct {
	s   sessions.Session
	pos feedPosition
}

// feedKey is the key of a read of the feed that the tails of a store share (see package
// internal/sharedread): the rows of account after the position (xid, seq). A position's snapshot
// does not change the read, only which of its rows a tail delivers.
type feedKey struct {
	account  string
	xid, seq int64
}

// feedRead is one read of the feed of an account: the account's watermark, and then up to
// tailBatch rows after a position, in order. It is shared by the tails that wait at that
// position, and none of them changes it.
type feedRead struct {
	watermark int64
	rows      []tailRow
}

// readFeed reads the watermark of account, then the rows of its feed after pos.
func (s *Store) readFeed(ctx context.Context, account string, pos feedPosition) (feedRead, error) {
	var r feedRead
	err := s.retry(ctx, s.pool, func() error {
		r.rows = r.rows[:0]
		if err := s.pool.QueryRow(ctx, watermarkSQL, account).Scan(&r.watermark); err != nil {
			return err
		}
		rows, err := s.pool.Query(ctx, tailQuery, account, pos.xid, pos.seq, tailBatch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x := tailRow{s: sessions.Session{AccountID: account}}
			var status string
			if err := rows.Scan(&x.s.ID, &x.s.AgentID, &x.s.StartedAt, &x.s.EndedAt, &status,
				(*kindsColumn)(&x.s.RedactionsByKind), &x.s.UpstreamModel, &x.s.AgentName,
				&x.pos.xid, &x.pos.seq); err != nil {
				return err
			}
			x.s.Status = sessions.Status(status)
			x.s.StartedAt, x.s.EndedAt = x.s.StartedAt.UTC(), x.s.EndedAt.UTC()
			if x.s.RedactionsByKind == nil {
				x.s.RedactionsByKind = map[string]int{}
			}
			r.rows = append(r.rows, x)
		}
		return rows.Err()
	})
	return r, err
}

// deliver calls fn with each session of r below the watermark that f selects, and moves *pos
// past every such row. It reports whether it stopped at a row held back by the watermark. fn
// gets its own copy of each session's map of redactions: r is shared.
func (r feedRead) deliver(f sessions.Filter, pos *feedPosition, fn func(sessions.Session, string) error) (bool, error) {
	for _, row := range r.rows {
		if row.pos.xid >= r.watermark {
			return true, nil
		}
		at := pos.at(row.pos.xid, row.pos.seq)
		committedBefore := pos.before(row.pos.xid)
		*pos = at
		if !committedBefore && f.Match(row.s) {
			x := row.s
			x.RedactionsByKind = maps.Clone(x.RedactionsByKind)
			if err := fn(x, at.String()); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}
