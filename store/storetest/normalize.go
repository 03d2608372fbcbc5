package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// testNormalization checks that times are stored and returned in UTC, truncated to whole
// milliseconds; that RedactionsByKind is never nil and has no zero counts; and that maps are
// copied in and out, so that a caller changing a map after a call changes nothing stored.
func testNormalization(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	in := newSession(a, time.Date(2026, 5, 4, 2, 44, 32, 123_456_789, zoneIST), map[string]int{"PHONE": 1, "NAME": 0, "DOB": 2})
	in.EndedAt = time.Date(2026, 5, 3, 13, 14, 33, 917_999_999, zonePST)
	inKinds := in.RedactionsByKind
	noKinds := newSession(a, base.Add(-time.Second), nil)
	emptyKinds := newSession(a, base.Add(-2*time.Second), map[string]int{})
	zeroKinds := newSession(a, base.Add(-3*time.Second), map[string]int{"NAME": 0, "SSN": 0})
	h.put(in, noKinds, emptyKinds, zeroKinds)

	t.Run("returned form", func(t *testing.T) {
		h := h.with(t)
		got := h.walk(sessions.Filter{AccountID: "acme"}, nil)
		want := []sessions.Session{
			{
				ID: in.ID, AccountID: "acme", AgentID: a.ID, AgentName: "Front desk",
				StartedAt:        time.Date(2026, 5, 3, 21, 14, 32, 123_000_000, time.UTC),
				EndedAt:          time.Date(2026, 5, 3, 21, 14, 33, 917_000_000, time.UTC),
				Status:           sessions.StatusOK,
				RedactionsByKind: map[string]int{"PHONE": 1, "DOB": 2},
				UpstreamModel:    "gpt-4o-mini",
			},
		}
		for _, s := range []sessions.Session{noKinds, emptyKinds, zeroKinds} {
			s.RedactionsByKind = map[string]int{}
			s.AgentName = "Front desk"
			s.StartedAt, s.EndedAt = s.StartedAt.UTC(), s.EndedAt.UTC()
			want = append(want, s)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListSessions (-want +got):\n%s", diff)
		}
		if got := want[0].Duration(); got != 1794*time.Millisecond {
			t.Fatalf("bad case in the suite: duration %v", got)
		}
		if len(got) > 0 && got[0].Duration() != 1794*time.Millisecond {
			t.Errorf("Duration() of the returned session is %v; want 1.794s", got[0].Duration())
		}
	})

	t.Run("input map left as it was", func(t *testing.T) {
		if diff := cmp.Diff(map[string]int{"PHONE": 1, "NAME": 0, "DOB": 2}, inKinds); diff != "" {
			t.Errorf("PutSessions changed the caller's map (-want +got):\n%s", diff)
		}
	})

	t.Run("input map changed after PutSessions", func(t *testing.T) {
		inKinds["PHONE"] = 99
		inKinds["SSN"] = 1
		delete(inKinds, "DOB")
		h.with(t).checkAll()
	})

	t.Run("returned map changed", func(t *testing.T) {
		h := h.with(t)
		p, err := h.store.ListSessions(h.ctx, sessions.Filter{AccountID: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Sessions {
			s.RedactionsByKind["PHONE"] = 1000
			delete(s.RedactionsByKind, "DOB")
		}
		h.checkAll()
	})

	// Stored times are whole milliseconds: bounds with a fraction of a millisecond select the
	// sessions whose stored time is on the right side of them.
	t.Run("bounds with a fraction of a millisecond", func(t *testing.T) {
		h := h.with(t)
		stored := time.Date(2026, 5, 3, 21, 14, 32, 123_000_000, time.UTC)
		for _, tc := range []struct {
			name string
			f    sessions.Filter
			want bool // whether the session in is listed
		}{
			{"Since its input time", sessions.Filter{Since: in.StartedAt}, false},
			{"Since its stored time", sessions.Filter{Since: stored.In(zoneNPT)}, true},
			{"Since a nanosecond after its stored time", sessions.Filter{Since: stored.Add(time.Nanosecond)}, false},
			{"Until its input time", sessions.Filter{Until: in.StartedAt}, true},
			{"Until its stored time", sessions.Filter{Until: stored.In(zonePST)}, false},
			{"Until a nanosecond after its stored time", sessions.Filter{Until: stored.Add(time.Nanosecond)}, true},
			{"Since and Until around it within one millisecond", sessions.Filter{Since: stored.Add(-time.Nanosecond), Until: stored.Add(time.Nanosecond)}, true},
			{"Since equal to Until", sessions.Filter{Since: stored, Until: stored}, false},
			{"after a cursor a nanosecond later", sessions.Filter{After: &sessions.Cursor{StartedAt: stored.Add(time.Nanosecond), ID: in.ID}}, true},
			{"after a cursor at its input time", sessions.Filter{After: &sessions.Cursor{StartedAt: in.StartedAt}}, true},
			{"after a cursor at its stored time", sessions.Filter{After: &sessions.Cursor{StartedAt: stored}}, false},
			{"after its own position", sessions.Filter{After: &sessions.Cursor{StartedAt: stored.In(zoneIST), ID: in.ID}}, false},
		} {
			tc.f.AccountID = "acme"
			listed := false
			for _, s := range h.model.list(tc.f) {
				if s.ID == in.ID && (tc.f.After == nil || tc.f.After.Before(s.Cursor())) {
					listed = true
				}
			}
			if listed != tc.want {
				t.Fatalf("%s: bad case in the suite", tc.name)
			}
			got := false
			for _, s := range h.walk(tc.f, nil) {
				got = got || s.ID == in.ID
			}
			if got != tc.want {
				t.Errorf("%s: session listed: %t; want %t", tc.name, got, tc.want)
			}
		}
	})
}

// testFilterValidation checks that ListSessions rejects every invalid filter with a
// *sessions.ValidationError for the field, and accepts the filters at the edges.
func testFilterValidation(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	h.put(newSession(a, base, nil))
	valid := sessions.Filter{AccountID: "acme"}
	for _, tc := range []struct {
		name   string
		change func(f *sessions.Filter)
		field  string
	}{
		{"AccountID empty", func(f *sessions.Filter) { f.AccountID = "" }, "AccountID"},
		{"AccountID too long", func(f *sessions.Filter) { f.AccountID = strings.Repeat("a", sessions.MaxAccountIDLen+1) }, "AccountID"},
		{"AccountID unprintable", func(f *sessions.Filter) { f.AccountID = "acme\x00" }, "AccountID"},
		{"AgentID malformed", func(f *sessions.Filter) { f.AgentID = "agt_123" }, "AgentID"},
		{"AgentID of a session", func(f *sessions.Filter) { f.AgentID = sessions.NewSessionID(base) }, "AgentID"},
		{"AgentID lower case", func(f *sessions.Filter) { f.AgentID = strings.ToLower(a.ID) }, "AgentID"},
		{"Limit negative", func(f *sessions.Filter) { f.Limit = -1 }, "Limit"},
		{"Limit above MaxLimit", func(f *sessions.Filter) { f.Limit = sessions.MaxLimit + 1 }, "Limit"},
		{"Status upper case", func(f *sessions.Filter) { f.Status = "OK" }, "Status"},
		{"Status unknown", func(f *sessions.Filter) { f.Status = "done" }, "Status"},
		{"MinRedactions negative", func(f *sessions.Filter) { f.MinRedactions = -1 }, "MinRedactions"},
		{"Until before Since", func(f *sessions.Filter) { f.Since, f.Until = base, base.Add(-time.Hour) }, "Until"},
		{"Until a nanosecond before Since", func(f *sessions.Filter) {
			f.Since, f.Until = base.Add(500*time.Microsecond), base.Add(500*time.Microsecond-time.Nanosecond)
		}, "Until"},
		{"cursor ID of an agent", func(f *sessions.Filter) { f.After = &sessions.Cursor{StartedAt: base, ID: a.ID} }, "After"},
		{"cursor ID malformed", func(f *sessions.Filter) { f.After = &sessions.Cursor{StartedAt: base, ID: "sess_1"} }, "After"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := valid
			tc.change(&f)
			if ve := wantValidation(t, "the case itself: Filter.Validate", f.Validate(), tc.field); ve == nil || t.Failed() {
				t.Fatalf("bad case in the suite")
			}
			p, err := h.store.ListSessions(h.ctx, f)
			wantValidation(t, "ListSessions("+formatFilter(f)+")", err, tc.field)
			if err == nil {
				t.Errorf("ListSessions returned %d sessions", len(p.Sessions))
			}
		})
	}

	t.Run("accepts the edges", func(t *testing.T) {
		h := h.with(t)
		for _, f := range []sessions.Filter{
			{Limit: 0},
			{Limit: 1},
			{Limit: sessions.MaxLimit},
			{Status: sessions.StatusOK},
			{Status: sessions.StatusError},
			{Status: sessions.StatusPartial},
			{MinRedactions: 1 << 62},
			{Since: base, Until: base},
			{Since: base.Add(time.Nanosecond), Until: base.Add(time.Nanosecond)},
			{Since: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
			{Since: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Until: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
			{Since: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Until: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Since: sessions.MaxTime.Add(time.Nanosecond)},
			{Until: sessions.MinTime.Add(time.Nanosecond)},
			{After: &sessions.Cursor{}},
			{After: &sessions.Cursor{StartedAt: base}},
			{After: &sessions.Cursor{StartedAt: base.Add(time.Millisecond), ID: sessions.NewSessionID(base)}},
		} {
			f.AccountID = "acme"
			h.walk(f, nil)
		}
	})
}
