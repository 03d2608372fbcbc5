package rollup

import (
	"fmt"
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
	ByStatus   [len(Statuses)]int64 // the sessions, by Statuses
	Redactions int64                // the sum of their redaction counts (each the sum of the kinds)
	Duration   time.Duration        // the sum of their durations
	Kinds      kindsjson.Sums       // the sums of their kinds
}

// AddRollup adds a rollup row: n sessions of status, with their sums of redactions, duration and
// kinds (the text of a JSON object).
func (x *Sums) AddRollup(status sessions.Status, n, redactions int64, duration time.Duration, kinds []byte) error {
	i, err := statusIndex(status)
	if err != nil {
		return err
	}
	x.ByStatus[i] += n
	x.Redactions += redactions
	x.Duration += duration
	return x.Kinds.Add(kinds)
}

// AddSession adds a session, as a store reads it: its status, duration, redaction count and
// kinds (the text of a JSON object).
func (x *Sums) AddSession(status sessions.Status, duration time.Duration, redactions int64, kinds []byte) error {
	return x.AddRollup(status, 1, redactions, duration, kinds)
}

// AddTo adds x to m with sign 1, as sessions.Summary.Add would add the sessions that x sums, or
// takes it out of m with sign -1 (the sessions of Plan.Minus, which m holds through the rollups).
// A kind whose sum falls to zero is deleted, since Add makes no zero entries.
func (x *Sums) AddTo(m *sessions.Summary, sign int64) {
	for i, status := range Statuses {
		m.Sessions += sign * x.ByStatus[i]
		m.ByStatus[status] += sign * x.ByStatus[i]
	}
	m.RedactionCount += sign * x.Redactions
	m.Duration += time.Duration(sign) * x.Duration
	kinds := map[string]int64{}
	x.Kinds.AddTo(kinds)
	for kind, n := range kinds {
		if m.RedactionsByKind[kind] += sign * n; m.RedactionsByKind[kind] == 0 {
			delete(m.RedactionsByKind, kind)
		}
	}
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
