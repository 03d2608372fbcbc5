package sessions

import (
	"context"
	"math"
	"time"
)

// Summarizer folds the sessions of a filter into totals: the executive summary of a compliance
// report. Every store of this module implements it; find it with a type assertion.
type Summarizer interface {
	// SummarizeSessions folds every session that f selects (AccountID, AgentID, Since, Until,
	// Status, MinRedactions; Limit and After are ignored) into one Summary, read from one
	// consistent state of the store. The result equals the fold of what a walk of the same
	// filter returns (see All and Summary.Add). It returns a *ValidationError for an invalid
	// filter, and an empty Summary for an agent that does not exist.
	SummarizeSessions(ctx context.Context, f Filter) (Summary, error)
}

// Summary is the fold of a set of sessions.
type Summary struct {
	Sessions         int64            // how many sessions
	ByStatus         map[Status]int64 // all three statuses, always present, 0 when none
	RedactionCount   int64            // the sum of RedactionCount()
	RedactionsByKind map[string]int64 // the sum per kind; never nil; no zero entries
	Duration         time.Duration    // the sum of Duration(), at most the longest time.Duration (292 years)
}

// NewSummary returns the summary of no session: every status present with 0, and empty kinds.
func NewSummary() Summary {
	return Summary{
		ByStatus:         map[Status]int64{StatusOK: 0, StatusError: 0, StatusPartial: 0},
		RedactionsByKind: map[string]int64{},
	}
}

// Add folds one session into the summary, which comes from NewSummary, a store or the zero
// value (whose maps it makes); Add is the definition that every store's SummarizeSessions
// equals.
func (m *Summary) Add(s Session) {
	if m.ByStatus == nil {
		m.ByStatus = map[Status]int64{StatusOK: 0, StatusError: 0, StatusPartial: 0}
	}
	if m.RedactionsByKind == nil {
		m.RedactionsByKind = map[string]int64{}
	}
	m.Sessions++
	m.ByStatus[s.Status]++
	for kind, n := range s.RedactionsByKind {
		if n != 0 {
			m.RedactionsByKind[kind] += int64(n)
			m.RedactionCount += int64(n)
		}
	}
	if d := s.Duration(); m.Duration > math.MaxInt64-d {
		m.Duration = math.MaxInt64 // the longest time.Duration: sessions of 292 years and more
	} else {
		m.Duration += d
	}
}

// SummaryFilter returns f as SummarizeSessions reads it: validated with Limit and After
// ignored, then normalized. Stores call it first.
func SummaryFilter(f Filter) (Filter, error) {
	f.Limit, f.After = 0, nil
	if err := f.Validate(); err != nil {
		return Filter{}, err
	}
	return f.Normalize(), nil
}
