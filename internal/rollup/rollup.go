// Package rollup splits the window of a summary between the hourly rollups of the SQL stores and
// their raw rows: the whole hours come from the rollups, and the two partial hours at the window's
// edges from the sessions themselves, or, when the window holds most of an edge hour, from that
// hour's rollups less the sessions of the hour outside the window. Both SQL stores keep the same
// rollups (see their migrations) and ask this package which parts to read (PlanFor), so that they
// split a window alike, and how the rows they read go into the summary (Sums).
package rollup

import (
	"time"

	"github.com/masker-dev/sessions"
)

// Hour is the width of a rollup's time bucket, aligned on UTC hours.
const Hour = time.Hour

// Range is a range of StartedAt, Since inclusive, Until exclusive.
type Range struct {
	Since, Until time.Time
}

// Plan says where to read the summary of a filter.
type Plan struct {
	// Hours is the range of whole hours to read from the rollups: the rows whose hour is at or
	// after Hours.Since and before Hours.Until. It is empty (Since equal to Until) when the
	// rollups have nothing to give.
	Hours Range
	// Raw are the ranges of StartedAt to read from the sessions: the partial hours at the edges,
	// or the whole window when the rollups cannot answer the filter.
	Raw []Range
	// Minus are the ranges of StartedAt to read from the sessions and take out of the summary
	// (Sums.AddTo with sign -1): the parts of an edge hour outside the window, when Hours holds that hour
	// because the window has more than half of it. A summary then reads at most half an hour of
	// raw rows at each edge.
	Minus []Range
}

// PlanFor returns the plan of f, a filter that sessions.SummaryFilter returned. An unbounded
// side of the window is taken as MinTime, or one millisecond after MaxTime: every stored time is
// within them. The rollups are kept by account, agent, hour and status, not by redaction count:
// the plan of a MinRedactions above 0 reads the whole window from the sessions.
func PlanFor(f sessions.Filter) Plan {
	since, until := f.Since, f.Until
	if since.IsZero() {
		since = sessions.MinTime
	}
	if until.IsZero() {
		until = sessions.MaxTime.Add(time.Millisecond)
	}
	var p Plan
	if !since.Before(until) {
		return p
	}
	from := since.Truncate(Hour)
	if from.Before(since) {
		from = from.Add(Hour)
	}
	to := until.Truncate(Hour)
	if f.MinRedactions > 0 || !from.Before(to) {
		p.Raw = []Range{{since, until}}
		return p
	}
	p.Hours = Range{from, to}
	switch {
	case from.Sub(since) > Hour/2:
		p.Hours.Since = from.Add(-Hour)
		p.Minus = append(p.Minus, Range{p.Hours.Since, since})
	case since.Before(from):
		p.Raw = append(p.Raw, Range{since, from})
	}
	switch {
	case until.Sub(to) > Hour/2:
		p.Hours.Until = to.Add(Hour)
		p.Minus = append(p.Minus, Range{until, p.Hours.Until})
	case to.Before(until):
		p.Raw = append(p.Raw, Range{to, until})
	}
	return p
}
