package rollup

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
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
		{"since only", sessions.Filter{Since: h.Add(time.Millisecond)}, Plan{Hours: Range{h.Add(Hour), end}, Raw: []Range{{h.Add(time.Millisecond), h.Add(Hour)}}}},
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
