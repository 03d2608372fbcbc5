package rollup

import (
	"fmt"
	"math"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// Statuses are the statuses of Sums.ByStatus, in order: those that the stores' tables allow.
var Statuses = [...]sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}

// Sums are the sums of the rows that a summary reads, rollup rows or sessions, before they go into
// the summary: what sessions.Summary.Add makes of the sessions that the rows stand for. The zero
// value is ready to use.
type Sums struct {
	ByStatus       [len(Statuses)]int64 // the sessions, by Statuses
	Redactions     int64                // the sum of their redaction counts (each the sum of the kinds)
	DurationMillis int64                // the sum of their durations, in milliseconds, as stored
	Kinds          kindsjson.Sums       // the sums of their kinds
}

// AddRollup adds a rollup row: n sessions of status, with their sums of redactions, duration (in
// milliseconds) and kinds (the text of a JSON object).
func (x *Sums) AddRollup(status sessions.Status, n, redactions, durationMillis int64, kinds []byte) error {
	i, err := statusIndex(status)
	if err != nil {
		return err
	}
	x.ByStatus[i] += n
	x.Redactions += redactions
	x.DurationMillis += durationMillis
	return x.Kinds.Add(kinds)
}

// AddSession adds a session, as a store reads it: its status, duration in milliseconds, redaction
// count and kinds (the text of a JSON object).
func (x *Sums) AddSession(status sessions.Status, durationMillis, redactions int64, kinds []byte) error {
	return x.AddRollup(status, 1, redactions, durationMillis, kinds)
}

// Total is the exact sum of the parts of a summary, each part's Sums added with sign 1 or taken
// out with sign -1 (the sessions of Plan.Minus, which the rollups of its hours hold), before it
// becomes the summary. The duration stays in milliseconds until then: a part may exceed what the
// summary keeps, and the longest time.Duration (292 years) is where the summary stops, as
// sessions.Summary.Add does. The zero value is ready to use.
type Total struct {
	byStatus       [len(Statuses)]int64
	redactions     int64
	durationMillis int64
	kinds          map[string]int64
}

// Add adds x to t with sign 1, or takes it out of t with sign -1.
func (t *Total) Add(x *Sums, sign int64) {
	for i := range Statuses {
		t.byStatus[i] += sign * x.ByStatus[i]
	}
	t.redactions += sign * x.Redactions
	t.durationMillis += sign * x.DurationMillis
	kinds := map[string]int64{}
	x.Kinds.AddTo(kinds)
	if t.kinds == nil {
		t.kinds = map[string]int64{}
	}
	for kind, n := range kinds {
		t.kinds[kind] += sign * n
	}
}

// Summary returns the summary that t sums, as sessions.Summary.Add would make it from the
// sessions: no kind of a zero sum, and a duration that stops at the longest time.Duration.
func (t *Total) Summary() sessions.Summary {
	m := sessions.NewSummary()
	for i, status := range Statuses {
		m.Sessions += t.byStatus[i]
		m.ByStatus[status] = t.byStatus[i]
	}
	m.RedactionCount = t.redactions
	m.Duration = Duration(t.durationMillis)
	for kind, n := range t.kinds {
		if n != 0 {
			m.RedactionsByKind[kind] = n
		}
	}
	return m
}

// Summarize returns the summary of plan from a store's reads, which it calls in turn: rollups, the
// sums of the rollup rows of plan.Hours (when it is not empty); raw, those of the sessions that
// started in a range, for each range of plan.Raw, and of plan.Minus, which it takes out again. It
// returns the first error of a read.
func Summarize(plan Plan, rollups, raw func(Range) (*Sums, error)) (sessions.Summary, error) {
	var t Total
	add := func(read func(Range) (*Sums, error), r Range, sign int64) error {
		x, err := read(r)
		if err != nil {
			return err
		}
		t.Add(x, sign)
		return nil
	}
	if plan.Hours.Since.Before(plan.Hours.Until) {
		if err := add(rollups, plan.Hours, 1); err != nil {
			return sessions.Summary{}, err
		}
	}
	for _, r := range plan.Raw {
		if err := add(raw, r, 1); err != nil {
			return sessions.Summary{}, err
		}
	}
	for _, r := range plan.Minus {
		if err := add(raw, r, -1); err != nil {
			return sessions.Summary{}, err
		}
	}
	return t.Summary(), nil
}

// Duration returns ms milliseconds as a time.Duration, or the longest time.Duration when they do
// not fit in one (292 years and more), as sessions.Summary.Add sums durations.
func Duration(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// statusIndex returns the index of status in Statuses.
func statusIndex(status sessions.Status) (int, error) {
	for i, s := range Statuses {
		if s == status {
			return i, nil
		}
	}
	return 0, fmt.Errorf("a row of status %q", status)
}
