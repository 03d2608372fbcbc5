package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// scanRules are the rules of sessions.Scanner, which Run checks when a store implements it.
var scanRules = []rule{
	{"Scan", testScan},
}

// testScan checks ScanSessions: it passes what a walk of the same filter returns, in list order,
// across several batches; it stops at fn's first error and returns it; it rejects an invalid
// filter before any call of fn; it honours its context; and it keeps the walk's guarantee while
// sessions are written between the calls of fn.
func testScan(t *testing.T, h *harness) {
	t.Run("equals the walk", func(t *testing.T) { testScanEqualsWalk(t, start(t, h.open)) })
	t.Run("stops", func(t *testing.T) { testScanStops(t, start(t, h.open)) })
	t.Run("context", func(t *testing.T) { testScanContext(t, start(t, h.open)) })
	t.Run("during writes", func(t *testing.T) { testScanDuringWrites(t, start(t, h.open)) })
	t.Run("renamed during the scan", func(t *testing.T) { testScanRename(t, start(t, h.open)) })
}

// testScanRename checks that a session's AgentName is its agent's name when its batch was read:
// an agent renamed while fn passes on the first session has its new name in the sessions of the
// batches read after the rename returned (with the batch read ahead, from the third batch on).
func testScanRename(t *testing.T, h *harness) {
	agent := h.newAgent("acme", "Front desk")
	n := 2*sessions.ScanBatch + 500
	var ss []sessions.Session
	for i := range n {
		ss = append(ss, newSession(agent, base.Add(-time.Duration(i)*time.Second), nil))
	}
	h.put(ss...)
	renamed := agent
	renamed.Name = "Reception"
	i := 0
	err := h.scanner().ScanSessions(h.ctx, sessions.Filter{AccountID: "acme"}, func(s sessions.Session) error {
		if i == 0 {
			h.putAgent(renamed)
		}
		i++
		switch {
		case i == 1 && s.AgentName != agent.Name:
			return fmt.Errorf("the first session, read before the rename, named %q", s.AgentName)
		case i > 2*sessions.ScanBatch && s.AgentName != renamed.Name:
			return fmt.Errorf("session %d, of a batch read after the rename returned, named %q; want %q", i, s.AgentName, renamed.Name)
		}
		return nil
	})
	if err != nil || i != n {
		t.Errorf("ScanSessions passed %d sessions of %d, then: %v", i, n, err)
	}
}

// scanner returns the store as a sessions.Scanner. Only the rules of scanRules call it, which
// Run runs for a store that is one.
func (h *harness) scanner() sessions.Scanner {
	return h.store.(sessions.Scanner)
}

// scan runs ScanSessions(f), which must succeed, and returns what it passed to fn.
func (h *harness) scan(f sessions.Filter) []sessions.Session {
	h.tb.Helper()
	var got []sessions.Session
	err := h.scanner().ScanSessions(h.ctx, f, func(s sessions.Session) error {
		got = append(got, s)
		return nil
	})
	if err != nil {
		h.tb.Fatalf("ScanSessions(%s): %v", formatFilter(f), err)
	}
	return got
}

// scanSize returns the number of sessions of the scan cases: with the large data sets, more
// than two batches of the stores of this module (sessions.ScanBatch), with ties of StartedAt
// across the batches' edges; with the small ones, 337, within one batch (the tests of
// sessions.ScanBatches cross batches of 3 on their own).
func scanSize() int {
	return testscale.Pick(337, 2*sessions.ScanBatch+137)
}

// testScanEqualsWalk checks ScanSessions against the model on filters of every kind, each over
// several batches or none, from the start and from a position, with AgentName filled, renames
// included.
func testScanEqualsWalk(t *testing.T, h *harness) {
	rng := rand.New(rand.NewPCG(seed(t), 7))
	a1, a2 := h.newAgent("acme", "Front desk"), h.newAgent("acme", "Night shift")
	g := h.newAgent("globex", "Front desk")
	var ss []sessions.Session
	n := scanSize()
	for i := range n {
		a := []sessions.Agent{a1, a1, a2, g}[rng.IntN(4)]
		s := newSession(a, base.Add(-time.Duration(rng.IntN(n/3))*time.Second), map[string]int{"NAME": rng.IntN(4)})
		s.ID = randomSessionID(rng)
		if i%7 == 0 {
			s.Status = sessions.StatusError
		}
		ss = append(ss, s)
	}
	h.putInBatches(500, ss)
	a2.Name = "Reception"
	h.putAgent(a2)
	all := h.model.list(sessions.Filter{AccountID: "acme"})
	middle := all[len(all)/2].Cursor()
	for _, f := range []sessions.Filter{
		{AccountID: "acme"},
		{AccountID: "acme", Limit: 3}, // Limit is ignored
		{AccountID: "acme", AgentID: a1.ID},
		{AccountID: "acme", AgentID: a2.ID, Status: sessions.StatusOK, MinRedactions: 2},
		{AccountID: "acme", Since: base.Add(-500 * time.Second), Until: base.Add(-100 * time.Second)},
		{AccountID: "acme", After: &middle},
		{AccountID: "acme", AgentID: a1.ID, After: &middle, Status: sessions.StatusError},
		{AccountID: "globex"},
		{AccountID: "initech"},
		{AccountID: "acme", AgentID: sessions.NewAgentID()},
	} {
		t.Run(formatFilter(f), func(t *testing.T) {
			h := h.with(t)
			want := after(h.model.list(f.Normalize()), f.After)
			got := h.scan(f)
			if len(want) == 0 {
				want = nil
			}
			if diff := diffSessions(want, got); diff != "" {
				t.Errorf("ScanSessions(%s) (-want +got):\n%s", formatFilter(f), diff)
			}
		})
	}
}

// testScanStops checks that ScanSessions returns fn's first error, unwrapped, without calling
// fn again, at every place in a batch (at its edges with the large data sets), and that it
// rejects an invalid filter before calling fn.
func testScanStops(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	var ss []sessions.Session
	batch := testscale.Pick(100, sessions.ScanBatch)
	for i := range batch + 10 {
		ss = append(ss, newSession(a, base.Add(-time.Duration(i)*time.Second), nil))
	}
	h.putInBatches(500, ss)
	stop := errors.New("enough")
	for _, n := range []int{1, 2, batch, batch + 1, batch + 10} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			calls := 0
			err := h.scanner().ScanSessions(h.ctx, sessions.Filter{AccountID: "acme"}, func(sessions.Session) error {
				calls++
				if calls == n {
					return stop
				}
				return nil
			})
			if err != stop {
				t.Errorf("ScanSessions returned %v; want fn's error %v, unwrapped", err, stop)
			}
			if calls != n {
				t.Errorf("fn called %d times; want %d", calls, n)
			}
		})
	}
	for _, c := range []struct {
		field string
		f     sessions.Filter
	}{
		{"AccountID", sessions.Filter{}},
		{"Status", sessions.Filter{AccountID: "acme", Status: "fine"}},
		{"MinRedactions", sessions.Filter{AccountID: "acme", MinRedactions: -1}},
		{"Until", sessions.Filter{AccountID: "acme", Since: base, Until: base.Add(-time.Hour)}},
	} {
		t.Run("invalid "+c.field, func(t *testing.T) {
			calls := 0
			err := h.scanner().ScanSessions(h.ctx, c.f, func(sessions.Session) error { calls++; return nil })
			wantValidation(t, "ScanSessions", err, c.field)
			if calls != 0 {
				t.Errorf("fn called %d times for an invalid filter", calls)
			}
		})
	}
}

// testScanContext checks that ScanSessions honours its context as testContext checks the
// methods of sessions.Store: a context that has ended before the scan gives an error that
// matches context.Canceled or sessions.ErrUnavailable, without calling fn; a context cancelled
// by fn in the middle of the scan stops it at once, with an error that matches context.Canceled.
func testScanContext(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	var ss []sessions.Session
	batch := testscale.Pick(100, sessions.ScanBatch)
	for i := range 2*batch + 5 {
		ss = append(ss, newSession(a, base.Add(-time.Duration(i)*time.Second), nil))
	}
	h.putInBatches(500, ss)
	cancelled, cancel := context.WithCancel(h.ctx)
	cancel()
	expired, cancelExpired := context.WithDeadline(h.ctx, time.Unix(1, 0))
	defer cancelExpired()
	f := sessions.Filter{AccountID: "acme"}
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", expired, sessions.ErrUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			err := h.scanner().ScanSessions(c.ctx, f, func(sessions.Session) error { calls++; return nil })
			wantIs(t, "ScanSessions", err, c.want)
			if calls != 0 {
				t.Errorf("fn called %d times", calls)
			}
		})
	}
	t.Run("cancelled midway", func(t *testing.T) {
		ctx, cancel := context.WithCancel(h.ctx)
		defer cancel()
		calls := 0
		err := h.scanner().ScanSessions(ctx, f, func(sessions.Session) error {
			calls++
			if calls == batch/2 {
				cancel()
			}
			return nil
		})
		wantIs(t, "ScanSessions", err, context.Canceled)
		if calls != batch/2 {
			t.Errorf("fn called %d times; want %d: no call after its context was cancelled", calls, batch/2)
		}
	})
	t.Run("store works afterwards", func(t *testing.T) {
		h := h.with(t)
		if diff := diffSessions(h.model.list(f), h.scan(f)); diff != "" {
			t.Errorf("ScanSessions (-want +got):\n%s", diff)
		}
	})
}

// testScanDuringWrites checks the walk's guarantee on a scan while fn writes sessions: new ones
// before and after the scan's position, ties with it, and rewrites, with the same StartedAt and
// a new status, of sessions that the scan has not reached. Every session that matched when the
// scan began, and still matches with the same StartedAt, is passed exactly once, in list order,
// and nothing that does not match.
func testScanDuringWrites(t *testing.T, h *harness) {
	rng := rand.New(rand.NewPCG(seed(t), 11))
	agents := []sessions.Agent{h.newAgent("acme", "A"), h.newAgent("acme", "B")}
	other := h.newAgent("globex", "G")
	var initial []sessions.Session
	n := scanSize()
	for range n {
		s := newSession(agents[rng.IntN(2)], base.Add(-time.Duration(rng.IntN(n/4))*time.Second), nil)
		s.ID = randomSessionID(rng)
		initial = append(initial, s)
	}
	h.putInBatches(500, initial)
	for _, f := range []sessions.Filter{
		{AccountID: "acme"},
		{AccountID: "acme", AgentID: agents[0].ID, Status: sessions.StatusOK},
	} {
		t.Run(agentLabel(f, agents...), func(t *testing.T) {
			h := h.with(t)
			var matching []sessions.Session // what the store holds when the scan begins
			for s, err := range sessions.All(h.ctx, h.store, f) {
				if err != nil {
					t.Fatal(err)
				}
				matching = append(matching, s)
			}
			var got []sessions.Session
			err := h.scanner().ScanSessions(h.ctx, f, func(s sessions.Session) error {
				got = append(got, s)
				if len(got)%97 != 0 {
					return nil
				}
				at := s.StartedAt
				var batch []sessions.Session
				for i, t := range []time.Time{base.Add(time.Hour), base.Add(-time.Hour), at, at} {
					n := newSession(agents[i%2], t, nil)
					n.ID = randomSessionID(rng)
					batch = append(batch, n)
				}
				// A rewrite of a session not yet reached: a new status, which f may no longer
				// match, and the same StartedAt.
				rest := after(matching, ptr(s.Cursor()))
				if len(rest) > 0 {
					r := rest[rng.IntN(len(rest))]
					r.Status = []sessions.Status{sessions.StatusOK, sessions.StatusError}[rng.IntN(2)]
					batch = append(batch, r)
				}
				batch = append(batch, newSession(other, at, nil))
				return h.store.PutSessions(h.ctx, batch...)
			})
			if err != nil {
				t.Fatalf("ScanSessions: %v", err)
			}
			seen := map[string]bool{}
			for i, s := range got {
				if seen[s.ID] {
					t.Errorf("session %s passed twice", s.ID)
				}
				seen[s.ID] = true
				if i > 0 && !got[i-1].Cursor().Before(s.Cursor()) {
					t.Errorf("session %s at %s is not after the previous one", s.ID, formatTime(s.StartedAt))
				}
				if !f.Match(s) {
					t.Errorf("session %s does not match %s", s.ID, formatFilter(f))
				}
			}
			// Every session of the start that still matches: a rewrite may have changed its status.
			stored := map[string]sessions.Session{}
			for s, err := range sessions.All(h.ctx, h.store, sessions.Filter{AccountID: "acme"}) {
				if err != nil {
					t.Fatal(err)
				}
				stored[s.ID] = s
			}
			missing := slices.DeleteFunc(slices.Clone(matching), func(s sessions.Session) bool {
				now, ok := stored[s.ID]
				return seen[s.ID] || !ok || !f.Match(now) || !now.StartedAt.Equal(s.StartedAt)
			})
			for i, s := range missing {
				if i < 5 {
					t.Errorf("session %s at %s, there when the scan began, was not passed", s.ID, formatTime(s.StartedAt))
				}
			}
			if min := testscale.Pick(100, sessions.ScanBatch); len(matching) < min {
				t.Errorf("bad case in the suite: a scan over %d sessions, fewer than %d", len(matching), min)
			}
		})
	}
}
