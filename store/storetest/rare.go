package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// rareSessions returns how many sessions testRareFilters writes: with the large data sets,
// enough that a page that read every session of the window would show in the store's own
// benchmarks; with the small ones, 2,500, still more in the account, the busy agent and the
// window than the 1,000 index entries that the SQLite and PostgreSQL stores read before they
// seek the groups instead. The 1-in-100,000 case at scale is in the stores' benchmarks.
func rareSessions() int {
	return testscale.Pick(2_500, 20_000)
}

// testRareFilters checks filters that match almost nothing, which a store may answer by
// another path than a walk of its list (the SQLite and PostgreSQL stores seek the groups of
// status and redaction count): one match in all the sessions, none, a few scattered ones walked
// a page of 2 at a time, within a window and from positions inside it. Every page equals the
// model's, Next is nil exactly at the end, and no page is empty; another account's matching
// sessions never appear.
func testRareFilters(t *testing.T, h *harness) {
	rng := rand.New(rand.NewPCG(seed(t), 2))
	n := rareSessions()
	// The one match is the quiet agent's (every 20th session is), in the middle of the window;
	// six scattered ones (every 37/200 of n, from 1234/20000 of n) are the busy agent's, two
	// of them in the window.
	one := n / 2 / 20 * 20
	step, offset := n*37/200, n*1234/20_000
	busy := h.newAgent("acme", "Busy")
	quiet := h.newAgent("acme", "Quiet")
	stranger := h.newAgent("umbrella", "Other account")

	var ss []sessions.Session
	for i := range n {
		a := busy
		if i%20 == 0 {
			a = quiet
		}
		s := newSession(a, base.Add(time.Duration(i)*time.Second), map[string]int{"PHONE": rng.IntN(4)})
		if rng.IntN(100) < 7 {
			s.Status = sessions.StatusError
		}
		switch {
		case i == one: // the one match, of the quiet agent: partial, 40 redactions
			s.Status, s.RedactionsByKind = sessions.StatusPartial, map[string]int{"PHONE": 30, "NAME": 10}
		case i%step == offset: // six scattered ones of the busy agent, with 20
			s.Status, s.RedactionsByKind = sessions.StatusOK, map[string]int{"DOB": 20}
		}
		ss = append(ss, s)
	}
	for i := range 200 { // another account's sessions match every filter below
		s := newSession(stranger, base.Add(time.Duration(i)*time.Minute), map[string]int{"NAME": 1_000})
		s.Status = sessions.StatusPartial
		ss = append(ss, s)
	}
	rng.Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
	h.putInBatches(1000, ss)

	window := func(f sessions.Filter) sessions.Filter {
		f.Since, f.Until = base.Add(time.Duration(n/4)*time.Second), base.Add(time.Duration(3*n/4)*time.Second)
		return f
	}
	for _, c := range []struct {
		name string
		f    sessions.Filter
		want int // sessions of the whole walk, also checked against the model
	}{
		{"one match: min_redactions", sessions.Filter{MinRedactions: 40}, 1},
		{"one match: status", sessions.Filter{Status: sessions.StatusPartial}, 1},
		{"one match: both", sessions.Filter{Status: sessions.StatusPartial, MinRedactions: 21}, 1},
		{"one match: window", window(sessions.Filter{MinRedactions: 40}), 1},
		{"none: min_redactions", sessions.Filter{MinRedactions: 1_000_000_000}, 0},
		{"none: both", sessions.Filter{Status: sessions.StatusError, MinRedactions: 40}, 0},
		{"scattered, limit 2", sessions.Filter{MinRedactions: 20, Limit: 2}, 7},
		{"scattered in a window, limit 1", window(sessions.Filter{MinRedactions: 20, Limit: 1}), 3},
		{"scattered with a status, limit 2", sessions.Filter{Status: sessions.StatusOK, MinRedactions: 20, Limit: 2}, 6},
	} {
		for _, scope := range []sessions.Agent{{}, busy, quiet} {
			f := c.f
			f.AccountID, f.AgentID = "acme", scope.ID
			name := fmt.Sprintf("%s/%s", c.name, agentLabel(f, busy, quiet))
			t.Run(name, func(t *testing.T) {
				got := h.with(t).walk(f, nil)
				if scope.ID == "" && len(got) != c.want {
					t.Errorf("%d sessions, want %d", len(got), c.want)
				}
				// From inside the window: a walk that starts at each session of the full
				// walk (and between two of them) still finds the rest.
				for _, s := range got {
					g := f
					g.After = &sessions.Cursor{StartedAt: s.StartedAt, ID: s.ID}
					h.with(t).walk(g, nil)
					g.After = &sessions.Cursor{StartedAt: s.StartedAt.Add(-time.Millisecond)}
					h.with(t).walk(g, nil)
				}
			})
		}
	}
}

// testRareFilterDuringUpserts checks that a filtered page holds only sessions that match its
// filter, each once, while a writer keeps moving a few sessions in and out of it (a status that
// flips between error and ok, a redaction count that changes, a start that moves by minutes).
// The filters are rare ones, which the SQLite and PostgreSQL stores answer by seeking each
// group of status and redaction count, and then reading the sessions they found.
func testRareFilterDuringUpserts(t *testing.T, h *harness) {
	agent := h.newAgent("acme", "Busy")
	var ss []sessions.Session
	for i := range 2000 { // more than the 1,000 index entries that the stores read before they seek the groups
		ss = append(ss, newSession(agent, base.Add(time.Duration(1000+i)*time.Minute), nil))
	}
	var flip []sessions.Session
	for i := range 6 {
		s := newSession(agent, base.Add(time.Duration(i*10)*time.Minute), map[string]int{"NAME": 1})
		s.Status = sessions.StatusError
		flip = append(flip, s)
	}
	h.put(append(ss, flip...)...)

	writes := testscale.Pick(1_500, 6_000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := range writes {
			x := flip[n%len(flip)]
			if (n/len(flip))%2 == 0 {
				x.Status = sessions.StatusOK
			}
			x.StartedAt = x.StartedAt.Add(time.Duration(n%3) * time.Minute)
			x.EndedAt = x.StartedAt
			x.RedactionsByKind = map[string]int{"NAME": 1 + n%3}
			if err := h.store.PutSessions(h.ctx, x); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	filters := []sessions.Filter{
		{AccountID: "acme", Status: sessions.StatusError, Limit: 10},
		{AccountID: "acme", MinRedactions: 2, Limit: 10},
		{AccountID: "acme", AgentID: agent.ID, Status: sessions.StatusError, MinRedactions: 3, Limit: 2},
	}
	pages, bad := 0, 0
	for reading := true; reading; pages++ {
		select {
		case <-done:
			reading = false
		default:
		}
		f := filters[pages%len(filters)]
		p, err := h.store.ListSessions(h.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, x := range p.Sessions {
			if !f.Match(x) || seen[x.ID] {
				if bad++; bad <= 5 {
					t.Errorf("a page of %s holds %s, status %s, %d redactions (a second time: %t)",
						formatFilter(f), x.ID, x.Status, x.RedactionCount(), seen[x.ID])
				}
			}
			seen[x.ID] = true
		}
	}
	if bad > 0 {
		t.Errorf("%d sessions in %d pages do not belong there", bad, pages)
	}
}
