package sqlite

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/masker-dev/sessions"
)

// Tails of one account share their reads of the feed. Every write of this store wakes every
// waiting tail at once, and the tails of an account that keep up all wait at the same position:
// without sharing, 200 streams of one account run 200 identical queries per write. A tail that
// needs the rows after a position asks sharedReads, which hands it a read of that account and
// position under way or done that sees every write the tail must see, and otherwise starts one.
//
// What a tail must see: every write of this store whose wake-up it will not get, and every
// other change of what a read returns (a purge, an agent's new name). A tail takes its wake-up
// channel (Store.feed.Wait) and then counts the changes of this store so far
// (sharedReads.changes, counted after each change commits, and before a write wakes the tails).
// A read that started when that count had been reached sees those changes, which committed
// before it; a later write wakes the tail, which reads again. Changes of another process are
// not counted: a tail that reads because its poll timer fired, or for the first time, needs a
// read that started after it asked (its ticket), as a read of its own would.
//
// The rows are shared; each tail filters them itself and gives fn a copy of the mutable parts
// (the map of redactions).

// maxSharedReads is the number of reads kept for reuse above which finished ones are dropped: a
// read is reused only by tails that asked before it started, so a finished read soon serves no
// one.
const maxSharedReads = 64

// tailRow is a row of the feed: a session and its position.
type tailRow struct {
	s   sessions.Session
	pos int64
}

// sharedReads are the reads of the feed under way or just done, by account and position. The
// zero value is ready to use. It is safe for concurrent use.
type sharedReads struct {
	tickets atomic.Uint64 // orders the tails' requests and the reads' starts
	changes atomic.Uint64 // the changes of this store that committed: writes, purges, agents

	mu    sync.Mutex
	reads map[readKey]*sharedRead
}

type readKey struct {
	account string
	after   int64
}

// sharedRead is one read of the feed: its rows and error, set before done is closed.
type sharedRead struct {
	started uint64 // the ticket taken before the query began
	changes uint64 // the changes counted before the query began
	done    chan struct{}
	rows    []tailRow
	err     error
}

// readNeed is what a read must have seen to serve a tail: it started after the ticket (0: any),
// when at least changes changes had committed.
type readNeed struct {
	ticket, changes uint64
}

// changed counts a change of this store that committed: a write of sessions (counted before it
// wakes the tails), a purge, an agent put.
func (sr *sharedReads) changed() { sr.changes.Add(1) }

// need returns what a read must have seen to serve a tail that has just taken its wake-up
// channel: the changes so far, and, when fresh (a tail that polls, or reads for the first time),
// a start after now.
func (sr *sharedReads) need(fresh bool) readNeed {
	n := readNeed{changes: sr.changes.Load()}
	if fresh {
		n.ticket = sr.tickets.Add(1)
	}
	return n
}

// serves reports whether r serves a tail of need n.
func (r *sharedRead) serves(n readNeed) bool { return r.started > n.ticket && r.changes >= n.changes }

// read returns the rows of the feed of account after the position after, from a read that
// serves need: another tail's read, under way or done, or, when there is none, one that read
// runs itself with query, on ctx. It returns the read's error, or ctx's (as
// sessions.ContextError gives it) when ctx ends while it waits for another tail's read; when
// another tail's read failed because that tail's context ended, it reads again. The rows are
// shared: the caller must not change them.
func (sr *sharedReads) read(ctx context.Context, account string, after int64, need readNeed,
	query func(ctx context.Context) ([]tailRow, error)) ([]tailRow, error) {
	key := readKey{account, after}
	for {
		sr.mu.Lock()
		if r := sr.reads[key]; r != nil && r.serves(need) {
			sr.mu.Unlock()
			select {
			case <-r.done:
			case <-ctx.Done():
				return nil, sessions.ContextError(ctx)
			}
			if r.err != nil && isContextErr(r.err) && ctx.Err() == nil {
				// The tail that ran the read went away; this one has not.
				need.ticket = r.started
				continue
			}
			return r.rows, r.err
		}
		r := &sharedRead{started: sr.tickets.Add(1), done: make(chan struct{})}
		r.changes = sr.changes.Load()
		if len(sr.reads) >= maxSharedReads {
			for k, old := range sr.reads {
				select {
				case <-old.done:
					delete(sr.reads, k)
				default: // under way: tails wait for it
				}
			}
		}
		if sr.reads == nil {
			sr.reads = map[readKey]*sharedRead{}
		}
		sr.reads[key] = r
		sr.mu.Unlock()
		r.rows, r.err = query(ctx)
		close(r.done)
		return r.rows, r.err
	}
}

// isContextErr reports whether err is that of a context that ended.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
