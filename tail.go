package sessions

import "context"

// Tailer follows the sessions of an account as they are written: the live tail. Every store of
// this module implements it; find it with a type assertion.
//
// Each session that a successful PutSessions writes, created or replaced, moves to a new
// position in the feed, after every position already handed out. Positions are opaque strings
// of the store; a tail hands each one out with the write it belongs to, so that a later tail can
// resume after it.
type Tailer interface {
	// TailPosition returns the position of the end of the feed now. A Tail after it receives
	// every write that returns after TailPosition returned.
	TailPosition(ctx context.Context) (string, error)

	// Tail calls fn, in feed order, with each session that f selects (AccountID required;
	// AgentID, Status, MinRedactions apply; Since, Until, Limit and After must be zero) whose
	// latest write is after the position after, together with the position of that write, and
	// then waits for new writes, until ctx ends (it returns ctx's error) or fn returns an error
	// (it returns that error). after == "" means TailPosition's position. A session rewritten
	// before the tail reaches it may be delivered once, with its newest content.
	Tail(ctx context.Context, f Filter, after string, fn func(s Session, position string) error) error
}

// PositionChecker is implemented by the Tailers of this module. A position that a client kept
// may come from a server of another database (blue/green deployments, one database per region,
// a restored backup): a tail after it would skip what was written, or repeat it. CheckPosition
// returns a *ValidationError for such a position, one the store did not make, and one ahead of
// its feed, before anything is streamed; Tail refuses them too, with the same error. httpapi
// asks it before it answers a stream resumed with Last-Event-ID, so that the client gets 422
// instead of a stream that silently misses sessions.
type PositionChecker interface {
	CheckPosition(ctx context.Context, position string) error
}

// TailFilter checks f as Tail reads it: a valid filter with Since, Until, Limit and After zero.
// It returns a *ValidationError naming the first field that is set. Stores call it first.
func TailFilter(f Filter) (Filter, error) {
	const subject = "tail filter"
	switch {
	case !f.Since.IsZero():
		return Filter{}, invalid(subject, "Since", "a tail has no time window: leave it zero")
	case !f.Until.IsZero():
		return Filter{}, invalid(subject, "Until", "a tail has no time window: leave it zero")
	case f.Limit != 0:
		return Filter{}, invalid(subject, "Limit", "a tail has no pages: leave it zero")
	case f.After != nil:
		return Filter{}, invalid(subject, "After", "a tail resumes from a position: leave it nil")
	}
	if err := f.Validate(); err != nil {
		return Filter{}, err
	}
	return f, nil
}
