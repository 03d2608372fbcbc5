package sessions

import (
	"context"
	"fmt"
)

// Scanner reads every session of a filter faster than a walk of ListSessions pages: an export.
// Every store of this module implements it; find it with a type assertion, and fall back to
// [All] when a store does not.
type Scanner interface {
	// ScanSessions calls fn with every session that f selects (AccountID, AgentID, Since, Until,
	// Status, MinRedactions; After, when set, is where the scan starts; Limit is ignored), in
	// list order (StartedAt descending, then ID descending), with AgentName filled.
	//
	// It keeps the guarantee of a walk: every session that matched f when the scan began, and
	// still matches with the same StartedAt, is passed exactly once, even while other sessions
	// are written. It reads in keyset batches, each of them one short query of its own: no
	// transaction lasts as long as the scan, memory stays flat however many sessions match, and
	// a session's AgentName is its agent's name when its batch was read.
	//
	// It returns nil after the last session; fn's error, unwrapped, as soon as fn returns one;
	// a *ValidationError, before any call of fn, for an invalid filter; and otherwise the
	// errors of ListSessions: one matching context.Canceled when ctx is cancelled and one
	// matching ErrUnavailable when its deadline passes or the store cannot be reached. ctx
	// bounds the whole scan: a caller that wants a bound per batch cancels ctx when the scan
	// makes no progress for that long (fn is not called for the whole of a batch's read).
	// It never calls fn concurrently.
	ScanSessions(ctx context.Context, f Filter, fn func(Session) error) error
}

// ScanBatch is the number of sessions of a batch of [ScanBatches] that the stores of this
// module use: at 1,000, the cost of a query (a round trip, planning, a checkout of a
// connection) is a small share of the cost of its rows, and a batch holds about 300 KB.
const ScanBatch = 1000

// ScanBatches runs the steps of every store's ScanSessions around the store's read: it checks
// f as ScanSessions reads it (Limit ignored), then calls read with f normalized, f.Limit set to
// batch, and f.After moved past each batch, and calls fn with each session it returns, until a
// batch comes back with no more than batch sessions. read is the one ListPage takes: it returns
// up to f.Limit+1 sessions that match f, in list order, after f's position.
//
// While fn runs over the sessions of one batch, ScanBatches reads the next one, on another
// goroutine: the store's query and the caller's work (an encoder, a network write) overlap. At
// most two batches are held at a time. read must therefore be safe for concurrent use with the
// store's other methods, as every Store is; it is never called twice at once by one scan.
//
// It returns as soon as ctx ends, without calling fn again, even when read does not honour ctx
// (a read under way then ends in the background). It panics if batch is less than 1.
func ScanBatches(ctx context.Context, f Filter, batch int, read func(ctx context.Context, f Filter) ([]Session, error), fn func(Session) error) error {
	if batch < 1 {
		panic(fmt.Sprintf("sessions: ScanBatches with a batch of %d", batch))
	}
	f.Limit = 0
	if err := f.Validate(); err != nil {
		return err
	}
	if err := ContextError(ctx); err != nil {
		return err
	}
	f = f.Normalize()
	f.Limit = batch

	// The reader reads ahead, with a context of its own, so that a scan that returns (fn's
	// error) also stops a read under way; the channel holds its result, so that the reader
	// never waits for a scan that has returned.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		ss  []Session
		err error
	}
	next := func(f Filter) <-chan result {
		ch := make(chan result, 1)
		go func() {
			ss, err := read(ctx, f)
			ch <- result{ss, err}
		}()
		return ch
	}
	pending := next(f)
	for {
		var r result
		select {
		case r = <-pending:
		case <-ctx.Done():
			return ContextError(ctx) // even when read does not honour ctx
		}
		if r.err != nil {
			return r.err
		}
		more := len(r.ss) > batch
		if more {
			r.ss = r.ss[:batch]
			after := r.ss[batch-1].Cursor()
			f.After = &after
			pending = next(f)
		}
		for _, s := range r.ss {
			if ctx.Err() != nil {
				return ContextError(ctx)
			}
			if err := fn(s); err != nil {
				return err // the deferred cancel stops the read ahead
			}
		}
		if !more {
			return nil
		}
	}
}
