package rollup

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

func TestPlanFor(t *testing.T) {
	h := time.Date(2026, 5, 3, 21, 0, 0, 0, time.UTC)
	end := sessions.MaxTime.Add(time.Millisecond)
	for _, c := range []struct {
		name string
		f    sessions.Filter
		want Plan
	}{
		{"unbounded", sessions.Filter{}, Plan{Hours: Range{sessions.MinTime, end}}},
		{"whole hours", sessions.Filter{Since: h, Until: h.Add(3 * Hour)}, Plan{Hours: Range{h, h.Add(3 * Hour)}}},
		{"edges inside hours", sessions.Filter{Since: h.Add(-time.Millisecond), Until: h.Add(2*Hour + 5*time.Minute)},
			Plan{Hours: Range{h, h.Add(2 * Hour)}, Raw: []Range{{h.Add(-time.Millisecond), h}, {h.Add(2 * Hour), h.Add(2*Hour + 5*time.Minute)}}}},
		{"within one hour", sessions.Filter{Since: h.Add(time.Minute), Until: h.Add(59 * time.Minute)},
			Plan{Raw: []Range{{h.Add(time.Minute), h.Add(59 * time.Minute)}}}},
		{"across one boundary", sessions.Filter{Since: h.Add(-time.Minute), Until: h.Add(time.Minute)},
			Plan{Raw: []Range{{h.Add(-time.Minute), h.Add(time.Minute)}}}},
		{"since only", sessions.Filter{Since: h.Add(time.Millisecond)}, Plan{Hours: Range{h, end}, Minus: []Range{{h, h.Add(time.Millisecond)}}}},
		{"since in the second half", sessions.Filter{Since: h.Add(31 * time.Minute)}, Plan{Hours: Range{h.Add(Hour), end}, Raw: []Range{{h.Add(31 * time.Minute), h.Add(Hour)}}}},
		{"half an edge hour each", sessions.Filter{Since: h.Add(30 * time.Minute), Until: h.Add(2*Hour + 30*time.Minute)},
			Plan{Hours: Range{h.Add(Hour), h.Add(2 * Hour)}, Raw: []Range{{h.Add(30 * time.Minute), h.Add(Hour)}, {h.Add(2 * Hour), h.Add(2*Hour + 30*time.Minute)}}}},
		{"most of both edge hours", sessions.Filter{Since: h.Add(10 * time.Minute), Until: h.Add(2*Hour + 50*time.Minute)},
			Plan{Hours: Range{h, h.Add(3 * Hour)}, Minus: []Range{{h, h.Add(10 * time.Minute)}, {h.Add(2*Hour + 50*time.Minute), h.Add(3 * Hour)}}}},
		{"empty window", sessions.Filter{Since: h, Until: h}, Plan{}},
		{"status", sessions.Filter{Since: h, Status: sessions.StatusError}, Plan{Hours: Range{h, end}}},
		{"min redactions", sessions.Filter{Since: h, MinRedactions: 1}, Plan{Raw: []Range{{h, end}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, PlanFor(c.f)); diff != "" {
				t.Errorf("PlanFor (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTotal checks that a Total of Sums makes the summary that sessions.Summary.Add makes of the
// same sessions, and takes them out again with sign -1: a summary of a and b less the sums of a
// is the summary of b, kinds that fall to zero included (Add makes no zero entries). A session
// of more than 292 years stops the duration at the longest time.Duration, as Add does, and
// taken out again leaves the exact sum of the others.
func TestTotal(t *testing.T) {
	h := time.Date(2026, 5, 3, 21, 0, 0, 0, time.UTC)
	a := sessions.Session{Status: sessions.StatusError, StartedAt: h, EndedAt: h.Add(time.Minute),
		RedactionsByKind: map[string]int{"NAME": 2, "DOB": 1, "SSN": 0}}
	b := sessions.Session{Status: sessions.StatusOK, StartedAt: h, EndedAt: h.Add(time.Second),
		RedactionsByKind: map[string]int{"NAME": 3}}
	long := sessions.Session{Status: sessions.StatusPartial, StartedAt: h, EndedAt: h.AddDate(400, 0, 0),
		RedactionsByKind: map[string]int{"PHONE": 1}}
	sumsOf := func(ss ...sessions.Session) *Sums {
		var x Sums
		for _, s := range ss {
			if err := x.AddSession(s.Status, s.EndedAt.UnixMilli()-s.StartedAt.UnixMilli(), int64(s.RedactionCount()), kindsjson.Append(nil, s.RedactionsByKind)); err != nil {
				t.Fatal(err)
			}
		}
		return &x
	}
	fold := func(ss ...sessions.Session) sessions.Summary {
		m := sessions.NewSummary()
		for _, s := range ss {
			m.Add(s)
		}
		return m
	}
	total := func(parts ...func(*Total)) sessions.Summary {
		var x Total
		for _, p := range parts {
			p(&x)
		}
		return x.Summary()
	}
	plus := func(ss ...sessions.Session) func(*Total) { return func(x *Total) { x.Add(sumsOf(ss...), 1) } }
	minus := func(ss ...sessions.Session) func(*Total) { return func(x *Total) { x.Add(sumsOf(ss...), -1) } }
	for _, c := range []struct {
		name string
		want sessions.Summary
		got  sessions.Summary
	}{
		{"a and b", fold(a, b), total(plus(a, b))},
		{"a and b, less a", fold(b), total(plus(a, b), minus(a))},
		{"nothing", fold(), total()},
		{"a session of 400 years", fold(a, long, b), total(plus(a, long), plus(b))},
		{"less the session of 400 years", fold(a, b), total(plus(a, long, b), minus(long))},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-fold +Total):\n%s", c.name, diff)
		}
	}
	if got := fold(long, long).Duration; got != math.MaxInt64 {
		t.Errorf("Summary.Add of two sessions of 400 years: duration %v, want the longest time.Duration", got)
	}
	var x Sums
	if err := x.AddSession("lost", 0, 0, []byte("{}")); err == nil {
		t.Errorf("AddSession of an unknown status returned no error")
	}
}
