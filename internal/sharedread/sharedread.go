// Package sharedread lets the live tails of a store share their reads of the feed. Every write
// wakes every waiting tail at once, and the tails of an account that keep up all wait at the
// same position: without sharing, 200 streams of one account run 200 identical queries per
// write. A tail that needs the rows after a position asks Reads, which hands it a read of that
// key (account and position) under way or done that sees every change the tail must see, and
// otherwise runs one.
//
// What a tail must see: every change whose wake-up it will not get. A tail takes its wake-up
// channel and then asks Need, which counts the changes so far (Changed, which the store calls
// after each change commits and before it wakes the tails). A read that started when that count
// had been reached sees those changes, which committed before it; a later change wakes the
// tail, which reads again. Changes that the store does not count (those of another process
// without a wake-up) are covered by fresh reads: a tail that reads because its poll timer fired,
// or for the first time, needs a read that started after it asked (its ticket), as a read of
// its own would.
//
// The values are shared: a tail must not change them, and copies their mutable parts before it
// hands them on.
package sharedread

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/masker-dev/sessions"
)

// maxReads is the number of reads kept for reuse above which finished ones are dropped: a read
// is reused only by tails that asked before it started, so a finished read soon serves no one.
const maxReads = 64

// Reads are the reads under way or just done, by key K, each giving a value V. The zero value
// is ready to use. It is safe for concurrent use.
type Reads[K comparable, V any] struct {
	tickets atomic.Uint64 // orders the tails' requests and the reads' starts
	changes atomic.Uint64 // the changes counted so far

	mu    sync.Mutex
	reads map[K]*read[V]
}

// read is one read: its value and error, set before done is closed.
type read[V any] struct {
	started uint64 // the ticket taken before the query began
	changes uint64 // the changes counted before the query began
	done    chan struct{}
	v       V
	err     error
}

// Need is what a read must have seen to serve a tail: it started after the ticket (0: any),
// when at least changes changes had been counted.
type Need struct {
	ticket, changes uint64
}

// Changed counts a change: a write that committed (counted before it wakes the tails), or any
// other change of what a read returns.
func (r *Reads[K, V]) Changed() { r.changes.Add(1) }

// Need returns what a read must have seen to serve a tail that has just taken its wake-up
// channel: the changes so far, and, when fresh (a tail that polls, or reads for the first time),
// a start after now.
func (r *Reads[K, V]) Need(fresh bool) Need {
	n := Need{changes: r.changes.Load()}
	if fresh {
		n.ticket = r.tickets.Add(1)
	}
	return n
}

// serves reports whether x serves a tail of need n.
func (x *read[V]) serves(n Need) bool { return x.started > n.ticket && x.changes >= n.changes }

// Read returns the value of key from a read that serves need: another tail's read, under way or
// done, or, when there is none, one that Read runs itself with query, on ctx. It returns the
// read's error, or ctx's (as sessions.ContextError gives it) when ctx ends while it waits for
// another tail's read; when another tail's read failed because that tail's context ended, it
// reads again. The value is shared: the caller must not change it.
func (r *Reads[K, V]) Read(ctx context.Context, key K, need Need, query func(ctx context.Context) (V, error)) (V, error) {
	for {
		r.mu.Lock()
		if x := r.reads[key]; x != nil && x.serves(need) {
			r.mu.Unlock()
			select {
			case <-x.done:
			case <-ctx.Done():
				var zero V
				return zero, sessions.ContextError(ctx)
			}
			if x.err != nil && isContextErr(x.err) && ctx.Err() == nil {
				// The tail that ran the read went away; this one has not.
				need.ticket = x.started
				continue
			}
			return x.v, x.err
		}
		x := &read[V]{started: r.tickets.Add(1), done: make(chan struct{})}
		x.changes = r.changes.Load()
		if len(r.reads) >= maxReads {
			for k, old := range r.reads {
				select {
				case <-old.done:
					delete(r.reads, k)
				default: // under way: tails wait for it
				}
			}
		}
		if r.reads == nil {
			r.reads = map[K]*read[V]{}
		}
		r.reads[key] = x
		r.mu.Unlock()
		x.v, x.err = query(ctx)
		close(x.done)
		return x.v, x.err
	}
}

// isContextErr reports whether err is that of a context that ended.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
