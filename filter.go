package sessions

import (
	"context"
	"time"
)

// Page sizes for Filter.Limit.
const (
	DefaultLimit = 25  // the page size of a Filter whose Limit is 0
	MaxLimit     = 100 // the largest page size
)

// Filter selects the sessions that ListSessions returns, and which page of them.
type Filter struct {
	AccountID     string    // required; results never cross accounts
	AgentID       string    // "" lists every agent of the account
	Since         time.Time // StartedAt >= Since; zero: no lower bound
	Until         time.Time // StartedAt <  Until; zero: no upper bound
	Status        Status    // "": any status
	MinRedactions int       // RedactionCount() >= MinRedactions
	Limit         int       // 1..MaxLimit; 0 means DefaultLimit
	After         *Cursor   // resume strictly after this position; nil: first page
}

// Page is one page of a list.
type Page struct {
	Sessions []Session // newest first: StartedAt descending, then ID descending
	Next     *Cursor   // nil exactly when no further matching session exists
}

// Validate checks a filter: an account ID, an agent ID that is empty or well-formed, Limit from 0
// to MaxLimit, a Status that is empty or known, MinRedactions not negative, Until not before Since
// when both are set, and a cursor whose ID is empty or well-formed. It returns a *ValidationError
// with Subject "filter" and the field.
func (f Filter) Validate() error {
	const subject = "filter"
	switch {
	case checkAccountID(f.AccountID) != nil:
		return invalid(subject, "AccountID", "%s", checkAccountID(f.AccountID))
	case f.AgentID != "" && !IsAgentID(f.AgentID):
		return invalid(subject, "AgentID", "want empty, or %q and a ULID, got %q", AgentIDPrefix, truncate(f.AgentID))
	case f.Limit < 0 || f.Limit > MaxLimit:
		return invalid(subject, "Limit", "want 0 (the default, %d) to %d, got %d", DefaultLimit, MaxLimit, f.Limit)
	case f.Status != "" && !f.Status.Valid():
		return invalid(subject, "Status", "want empty, %q, %q or %q, got %q", StatusOK, StatusError, StatusPartial, truncate(string(f.Status)))
	case f.MinRedactions < 0:
		return invalid(subject, "MinRedactions", "want 0 or more, got %d", f.MinRedactions)
	case !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since):
		return invalid(subject, "Until", "is before Since")
	case f.After != nil && f.After.ID != "" && !IsSessionID(f.After.ID):
		return invalid(subject, "After", "want a cursor ID that is empty or a session ID, got %q", truncate(f.After.ID))
	}
	return nil
}

// Normalize returns f in the form that stores query with, and that selects the same sessions:
//   - Since and Until rounded up to whole milliseconds in UTC (stored times are whole
//     milliseconds, so the bounds select the same sessions);
//   - bounds beyond MinTime and MaxTime clamped to them, a lower bound at or before MinTime
//     dropped, and an upper bound after MaxTime dropped;
//   - Limit 0 replaced by DefaultLimit;
//   - After copied, and a cursor time with a fraction of a millisecond (or before MinTime) moved
//     to the next whole millisecond (or MinTime) with an empty ID, which selects the same
//     sessions.
//
// It does not validate: call Validate first.
func (f Filter) Normalize() Filter {
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if !f.Since.IsZero() {
		f.Since = clamp(ceilMillis(f.Since))
		if !f.Since.After(MinTime) {
			f.Since = time.Time{}
		}
	}
	if !f.Until.IsZero() {
		f.Until = clamp(ceilMillis(f.Until))
		if f.Until.After(MaxTime) {
			f.Until = time.Time{}
		}
	}
	if f.After != nil {
		c := *f.After
		if t := ceilMillis(c.StartedAt); !t.Equal(c.StartedAt) {
			c.ID = ""
			c.StartedAt = t
		}
		if c.StartedAt.Before(MinTime) {
			c = Cursor{StartedAt: MinTime} // before every stored session
		}
		c.StartedAt = clamp(c.StartedAt.UTC())
		f.After = &c
	}
	return f
}

// StartAfter returns the position that the page of f starts after: every session of the page
// comes strictly after it in list order. It is the later, in list order, of the cursor f.After
// and the position of Until, which is (Until, ""): a session comes after that position exactly
// when it started before Until, since every session ID is greater than "". ok is false when f
// has neither a cursor nor Until, and the page starts at the newest session. A store that seeks
// with one bound seeks to this position. f should be normalized (see Normalize), so that the
// position is in the form of stored times.
func (f Filter) StartAfter() (position Cursor, ok bool) {
	switch {
	case f.After == nil && f.Until.IsZero():
		return Cursor{}, false
	case f.After == nil:
		return Cursor{StartedAt: f.Until}, true
	case f.Until.IsZero():
		return *f.After, true
	}
	if until := (Cursor{StartedAt: f.Until}); f.After.Before(until) {
		return until, true
	}
	return *f.After, true
}

// clamp limits t to the range of stored times, with one millisecond past MaxTime, which is
// after every stored time.
func clamp(t time.Time) time.Time {
	switch {
	case t.Before(MinTime):
		return MinTime
	case t.After(MaxTime):
		return MaxTime.Add(time.Millisecond)
	}
	return t
}

// Match reports whether the session s, as stored (normalized), is in the list that f selects,
// leaving aside the page: After and Limit are not considered.
func (f Filter) Match(s Session) bool {
	return s.AccountID == f.AccountID &&
		(f.AgentID == "" || s.AgentID == f.AgentID) &&
		(f.Since.IsZero() || !s.StartedAt.Before(f.Since)) &&
		(f.Until.IsZero() || s.StartedAt.Before(f.Until)) &&
		(f.Status == "" || s.Status == f.Status) &&
		s.RedactionCount() >= f.MinRedactions
}

// ListPage is the ListSessions of every store around the store's own read: it validates f
// (returning its *ValidationError), returns ContextError(ctx) when ctx has ended, normalizes f
// (see Normalize), calls read with the normalized filter, and makes the page of what read returns
// (see NewPage). read returns, in list order, up to f.Limit+1 of the sessions that f matches
// after f's position (StartAfter), or an error, which ListPage returns as it is. A store's
// ListSessions is one call of ListPage, so that a store states only how it reads.
func ListPage(ctx context.Context, f Filter, read func(ctx context.Context, f Filter) ([]Session, error)) (Page, error) {
	if err := f.Validate(); err != nil {
		return Page{}, err
	}
	if err := ContextError(ctx); err != nil {
		return Page{}, err
	}
	f = f.Normalize()
	ss, err := read(ctx, f)
	if err != nil {
		return Page{}, err
	}
	return NewPage(ss, f.Limit), nil
}

// NewPage makes the page of a filter from the matching sessions that follow the filter's
// position, in list order. A store reads up to limit+1 of them: NewPage keeps the first limit,
// and sets Next to the position of the last one kept when there were more. A limit below 1 is
// DefaultLimit, as a Filter's Limit of 0 is.
func NewPage(ss []Session, limit int) Page {
	if limit < 1 {
		limit = DefaultLimit
	}
	if len(ss) <= limit {
		if ss == nil {
			ss = []Session{}
		}
		return Page{Sessions: ss}
	}
	ss = ss[:limit]
	next := ss[limit-1].Cursor()
	return Page{Sessions: ss, Next: &next}
}
