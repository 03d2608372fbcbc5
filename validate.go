package sessions

import (
	"fmt"
	"maps"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on the values a store accepts. They keep every value representable, and equal, in every
// store of this module.
const (
	MaxAccountIDLen     = 255     // bytes of AccountID
	MaxAgentNameLen     = 255     // bytes of Agent.Name
	MaxUpstreamModelLen = 128     // bytes of Session.UpstreamModel
	MaxKinds            = 64      // entries in Session.RedactionsByKind
	MaxKindCount        = 1 << 30 // the largest count of one kind

	// MaxSessionDuration is the longest a session may last, from StartedAt to EndedAt: a year
	// and a day. A call is minutes long; an EndedAt years after its start is a mistake (a
	// sentinel such as MaxTime, a wrong year), and it would make the sums of durations that
	// summaries keep per hour overflow their 64-bit milliseconds.
	MaxSessionDuration = 366 * 24 * time.Hour
)

// MinTime and MaxTime bound the times a session can have: StartedAt and EndedAt must lie within
// them, inclusive.
var (
	MinTime = time.Unix(0, 0).UTC()
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
)

// validKind reports whether kind matches ^[A-Z][A-Z0-9_]{0,31}$.
func validKind(kind string) bool {
	if len(kind) == 0 || len(kind) > 32 || kind[0] < 'A' || kind[0] > 'Z' {
		return false
	}
	for i := 1; i < len(kind); i++ {
		if c := kind[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

func kindField(kind string) string { return fmt.Sprintf("RedactionsByKind[%q]", truncate(kind)) }

// Validate checks an agent: a well-formed ID, an account ID, and a name of printable text.
// It returns a *ValidationError naming the agent and the field.
func (a Agent) Validate() error {
	subject := "agent " + quoteIfBad(a.ID, IsAgentID(a.ID))
	if !IsAgentID(a.ID) {
		return invalid(subject, "ID", "want %q and a ULID, like agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", AgentIDPrefix)
	}
	if err := checkAccountID(a.AccountID); err != nil {
		return invalid(subject, "AccountID", "%s", err)
	}
	if err := checkText(a.Name, MaxAgentNameLen); err != nil {
		return invalid(subject, "Name", "%s", err)
	}
	return nil
}

// Validate checks a session against the rules of every store: IDs in prefix+ULID form, an
// account ID, times within MinTime and MaxTime with EndedAt not before StartedAt and at most
// MaxSessionDuration after it, a known Status, redaction kinds matching ^[A-Z][A-Z0-9_]{0,31}$
// with counts from 0 to MaxKindCount, and an UpstreamModel of at most 128 bytes of printable
// text. AgentName is not checked: stores ignore it.
// It returns a *ValidationError naming the session and the field.
func (s Session) Validate() error {
	subject := "session " + quoteIfBad(s.ID, IsSessionID(s.ID))
	switch {
	case !IsSessionID(s.ID):
		return invalid(subject, "ID", "want %q and a ULID, like sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", SessionIDPrefix)
	case checkAccountID(s.AccountID) != nil:
		return invalid(subject, "AccountID", "%s", checkAccountID(s.AccountID))
	case !IsAgentID(s.AgentID):
		return invalid(subject, "AgentID", "want %q and a ULID, got %q", AgentIDPrefix, truncate(s.AgentID))
	case s.StartedAt.IsZero():
		return invalid(subject, "StartedAt", "required")
	case s.StartedAt.Before(MinTime) || s.StartedAt.After(MaxTime):
		return invalid(subject, "StartedAt", "want a time from %s to %s", MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
	case s.EndedAt.IsZero():
		return invalid(subject, "EndedAt", "is required: record a session when its call has ended")
	case s.EndedAt.Before(s.StartedAt):
		return invalid(subject, "EndedAt", "is before StartedAt")
	case s.EndedAt.After(MaxTime):
		return invalid(subject, "EndedAt", "want a time up to %s", MaxTime.Format(time.RFC3339))
	case s.EndedAt.Sub(s.StartedAt) > MaxSessionDuration:
		return invalid(subject, "EndedAt", "want at most %s after StartedAt (MaxSessionDuration), got %s",
			MaxSessionDuration, s.EndedAt.Sub(s.StartedAt))
	case !s.Status.Valid():
		return invalid(subject, "Status", "want %q, %q or %q, got %q", StatusOK, StatusError, StatusPartial, truncate(string(s.Status)))
	case len(s.RedactionsByKind) > MaxKinds:
		return invalid(subject, "RedactionsByKind", "want at most %d kinds, got %d", MaxKinds, len(s.RedactionsByKind))
	}
	for kind, n := range s.RedactionsByKind {
		if !validKind(kind) {
			return invalid(subject, kindField(kind), "want a kind like PHONE, matching ^[A-Z][A-Z0-9_]{0,31}$")
		}
		if n < 0 || n > MaxKindCount {
			return invalid(subject, kindField(kind), "want a count from 0 to %d, got %d", MaxKindCount, n)
		}
	}
	if err := checkText(s.UpstreamModel, MaxUpstreamModelLen); err != nil {
		return invalid(subject, "UpstreamModel", "%s", err)
	}
	return nil
}

// Normalize returns s as every store keeps it: times in UTC truncated to whole milliseconds,
// RedactionsByKind copied, without zero counts and never nil, and AgentName cleared. It does not
// validate.
func (s Session) Normalize() Session {
	s.StartedAt = Millis(s.StartedAt)
	s.EndedAt = Millis(s.EndedAt)
	kinds := make(map[string]int, len(s.RedactionsByKind))
	for k, n := range s.RedactionsByKind {
		if n != 0 {
			kinds[k] = n
		}
	}
	s.RedactionsByKind = kinds
	s.AgentName = ""
	return s
}

// Clone returns a copy of s that shares no map with s.
func (s Session) Clone() Session {
	s.RedactionsByKind = maps.Clone(s.RedactionsByKind)
	if s.RedactionsByKind == nil {
		s.RedactionsByKind = map[string]int{}
	}
	return s
}

// PrepareBatch validates and normalizes the sessions of one PutSessions call, for a store to
// write. A session ID that appears more than once keeps its last version, at that version's place;
// it returns ErrConflict when the versions name different accounts or agents, and the
// *ValidationError of the first invalid session. It does not change ss.
func PrepareBatch(ss []Session) ([]Session, error) {
	out := make([]Session, 0, len(ss))
	at := make(map[string]int, len(ss)) // ID -> index in out
	for i := range ss {
		if err := ss[i].Validate(); err != nil {
			return nil, err
		}
		s := ss[i].Normalize()
		if j, ok := at[s.ID]; ok {
			if prev := out[j]; prev.AccountID != s.AccountID || prev.AgentID != s.AgentID {
				return nil, fmt.Errorf("%w: session %s appears twice in the batch, for different agents", ErrConflict, s.ID)
			}
			out[j].ID = "" // superseded: dropped below
		}
		at[s.ID] = len(out)
		out = append(out, s)
	}
	if len(out) == len(at) {
		return out, nil
	}
	kept := out[:0]
	for _, s := range out {
		if s.ID != "" {
			kept = append(kept, s)
		}
	}
	return kept, nil
}

// Millis returns t in UTC, truncated to whole milliseconds: the precision of every store.
func Millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// ceilMillis returns t in UTC, rounded up to whole milliseconds. For a time u in whole
// milliseconds, u >= t exactly when u >= ceilMillis(t), and u < t exactly when u < ceilMillis(t).
func ceilMillis(t time.Time) time.Time {
	m := Millis(t)
	if m.Before(t) {
		m = m.Add(time.Millisecond)
	}
	return m
}

func checkAccountID(id string) error {
	if id == "" {
		return fmt.Errorf("required")
	}
	return checkText(id, MaxAccountIDLen)
}

// checkText accepts valid UTF-8 of at most max bytes, made of printable characters and spaces.
func checkText(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("want at most %d bytes, got %d", max, len(s))
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("want valid UTF-8")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("want printable text, got %U", r)
		}
	}
	return nil
}

// quoteIfBad keeps a well-formed ID as it is and quotes (and shortens) anything else, so that an
// error message never carries a huge or unprintable value.
func quoteIfBad(s string, ok bool) string {
	if ok {
		return s
	}
	return fmt.Sprintf("%q", truncate(s))
}

func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
