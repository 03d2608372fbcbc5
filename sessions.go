// Package sessions records the call sessions of AI voice agents and lists them for audit: every
// call an agent handled, with how many pieces of protected health information were redacted in it,
// filtered by time window, status and redaction count, and paged with keyset cursors.
//
// The package holds the domain types and their rules and does no I/O. A [Store] keeps sessions:
// store/memory, store/sqlite and store/postgres are the stores of this module, and store/storetest
// is the conformance suite that each of them passes. Package httpapi serves the list over HTTP.
// Beyond the Store, the stores of this module have four optional capabilities, found by type
// assertion: [Purger] (retention), [Summarizer] (totals over a window), [Tailer] (the live
// feed of writes) and [Scanner] (every session of a filter, in large batches: exports).
//
// Every rule is written once, here: [Session.Validate], [Agent.Validate] and [Filter.Validate] say
// what is accepted; [Session.Normalize] and [Filter.Normalize] say how values are stored and
// compared (UTC, whole milliseconds, no zero counts), and [PurgeCutoff] what a purge deletes;
// [Filter.Match], [Cursor.Before] and [Filter.StartAfter] say what a list holds, in which order
// and from where; [ListPage] runs the steps of every store's ListSessions around the store's
// read. Stores translate these rules and do not restate them.
package sessions

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Status is the outcome of a session.
type Status string

// The statuses a session can have.
const (
	StatusOK      Status = "ok"      // the call completed normally
	StatusError   Status = "error"   // the call failed
	StatusPartial Status = "partial" // the call completed with some stages failed
)

// Valid reports whether s is one of StatusOK, StatusError and StatusPartial.
func (s Status) Valid() bool {
	switch s {
	case StatusOK, StatusError, StatusPartial:
		return true
	}
	return false
}

// Agent is an AI voice agent. It belongs to exactly one account.
type Agent struct {
	ID        string // "agt_" + ULID, see NewAgentID
	AccountID string // the tenant that owns the agent; opaque, non-empty
	Name      string // optional, shown as AgentName on the agent's sessions
}

// Session is one call handled by an agent. It holds counts of redacted protected health
// information, never the information itself.
type Session struct {
	ID               string         // "sess_" + ULID, see NewSessionID
	AccountID        string         // the tenant; must be the agent's account
	AgentID          string         // the agent that handled the call
	StartedAt        time.Time      // when the call began; the list's order and its windows use it
	EndedAt          time.Time      // not before StartedAt, at most MaxSessionDuration after it
	Status           Status         // StatusOK, StatusError or StatusPartial
	RedactionsByKind map[string]int // e.g. {"PHONE": 1, "NAME": 2, "DOB": 1}
	UpstreamModel    string         // optional, e.g. "gpt-4o-mini"
	AgentName        string         // read-only: ListSessions fills it from the agent's current name; PutSessions ignores it
}

// Duration returns EndedAt - StartedAt.
func (s Session) Duration() time.Duration { return s.EndedAt.Sub(s.StartedAt) }

// RedactionCount returns the sum of RedactionsByKind.
func (s Session) RedactionCount() int {
	n := 0
	for _, c := range s.RedactionsByKind {
		n += c
	}
	return n
}

// Cursor returns the position of s in the list order, for use as Filter.After.
func (s Session) Cursor() Cursor { return Cursor{StartedAt: s.StartedAt, ID: s.ID} }

// Store keeps agents and their sessions. Every implementation passes storetest.Run, which checks
// the rules below, and is safe for concurrent use by multiple goroutines.
//
// Every method honours its context: a cancelled context gives an error that matches
// context.Canceled, and a passed deadline or a database that cannot be reached gives an error that
// matches ErrUnavailable.
type Store interface {
	// PutAgent creates the agent, or replaces the name of an agent of the same account.
	// It returns a *ValidationError for an invalid agent, and ErrConflict when the ID belongs
	// to an agent of another account.
	PutAgent(ctx context.Context, a Agent) error

	// GetAgent returns the agent with this ID in this account. It returns ErrAgentNotFound alike
	// for an unknown ID, a malformed ID, and an agent of another account.
	GetAgent(ctx context.Context, accountID, agentID string) (Agent, error)

	// GetSession returns the session with this ID in this account, with AgentName filled from
	// its agent's current name. It returns ErrSessionNotFound alike for an unknown ID, a
	// malformed ID, and a session of another account.
	GetSession(ctx context.Context, accountID, sessionID string) (Session, error)

	// PutSessions writes every session, or none of them. A session ID is an upsert key within its
	// account and agent: writing it again replaces the session. AgentName is ignored.
	// It returns a *ValidationError naming the first invalid session, ErrAgentNotFound when a
	// session's agent was not put in the session's account, and ErrConflict when a session ID
	// already belongs to another account or agent. Calling it with no sessions does nothing.
	PutSessions(ctx context.Context, ss ...Session) error

	// ListSessions returns one page of the sessions that match f, newest first (StartedAt
	// descending, then ID descending), with AgentName filled from the agent's current name.
	// Page.Next is nil exactly when no further session matches. It returns a *ValidationError
	// for an invalid filter, and an empty page for an agent that does not exist.
	ListSessions(ctx context.Context, f Filter) (Page, error)

	// Close releases the store's resources. The store must not be used afterwards.
	Close() error
}

// Purger deletes old sessions: retention (the product keeps session rows 90 days by default).
// Every store of this module implements it.
type Purger interface {
	// PurgeSessions deletes the sessions of every account that started before the given time,
	// and returns how many it deleted. It deletes in bounded batches, so that it never blocks
	// writers or readers for long; when it returns an error, the batches already deleted stay
	// deleted. A walk through pages that is under way goes on correctly past purged sessions.
	PurgeSessions(ctx context.Context, before time.Time) (deleted int64, err error)
}

// PurgeCutoff returns the time that a purge compares stored start times with: a stored session
// started before the time before exactly when its StartedAt is before cutoff. Stored times are
// whole milliseconds in UTC, so cutoff is before rounded up to the next whole millisecond, and
// clamped as [Filter.Normalize] clamps Since: no later than one millisecond past MaxTime, which
// is after every stored time. ok is false when before is at or before MinTime: no stored session
// started before it, and a purge has nothing to delete.
func PurgeCutoff(before time.Time) (cutoff time.Time, ok bool) {
	cutoff = clamp(ceilMillis(before))
	return cutoff, cutoff.After(MinTime)
}

// The errors of a Store. Test them with errors.Is.
var (
	// ErrAgentNotFound means that the agent does not exist in the account: it may not exist at
	// all, or belong to another account, or its ID may be malformed. Callers cannot tell which.
	ErrAgentNotFound = errors.New("sessions: agent not found")

	// ErrSessionNotFound means that the session does not exist in the account: it may not exist
	// at all, or belong to another account, or its ID may be malformed. Callers cannot tell which.
	ErrSessionNotFound = errors.New("sessions: session not found")

	// ErrConflict means that an ID already belongs to another account or agent.
	ErrConflict = errors.New("sessions: ID belongs to another account or agent")

	// ErrUnavailable means that the store cannot be reached or that a deadline passed.
	// The caller may retry later.
	ErrUnavailable = errors.New("sessions: store unavailable")
)

// ValidationError reports a value that breaks a rule of this package: which value, which field or
// parameter, and why. Find it with errors.As.
type ValidationError struct {
	Subject string // what holds the field: "session sess_01H...", "agent agt_01H...", "filter"; "" for a lone parameter
	Field   string // the field or parameter: "Status", "RedactionsByKind[\"phone\"]", "since"
	Reason  string // what was wrong and what was expected
}

// Error returns "sessions: SUBJECT: FIELD: REASON", leaving out an empty subject.
func (e *ValidationError) Error() string {
	if e.Subject == "" {
		return "sessions: " + e.Field + ": " + e.Reason
	}
	return "sessions: " + e.Subject + ": " + e.Field + ": " + e.Reason
}

func invalid(subject, field, format string, args ...any) *ValidationError {
	return &ValidationError{Subject: subject, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ContextError returns nil while ctx is live, and otherwise its error in this package's terms:
// context.Canceled as it is, and a passed deadline wrapped so that it matches both ErrUnavailable
// and context.DeadlineExceeded. Stores call it, and pass other errors from ctx through it too.
func ContextError(ctx context.Context) error {
	return FromContextError(ctx.Err())
}

// FromContextError maps err the way ContextError does: a context.DeadlineExceeded anywhere in
// err's chain also matches ErrUnavailable. Other errors, and nil, are returned unchanged.
func FromContextError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
