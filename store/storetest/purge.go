package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// purgeRules are the rules of sessions.Purger, which Run checks when a store implements it.
var purgeRules = []rule{
	{"Purge", testPurge},
}

// testPurge checks PurgeSessions: it deletes the sessions of every account that started before
// the given time, and only those, and returns how many; it works for more sessions than any batch
// is likely to hold, while other sessions are written and read; a walk under way goes on
// correctly past purged sessions, even when the session at its cursor was purged; and it honours
// its context, deleting nothing when the context has ended.
func testPurge(t *testing.T, h *harness) {
	t.Run("boundary", func(t *testing.T) { testPurgeBoundary(t, start(t, h.open)) })
	t.Run("mid walk", func(t *testing.T) { testPurgeMidWalk(t, start(t, h.open)) })
	t.Run("many sessions", func(t *testing.T) { testPurgeMany(t, start(t, h.open)) })
	t.Run("context", func(t *testing.T) { testPurgeContext(t, start(t, h.open)) })
}

// testPurgeContext checks that PurgeSessions honours its context as testContext checks the
// methods of sessions.Store: a cancelled context gives an error that matches context.Canceled,
// a passed deadline one that matches sessions.ErrUnavailable, nothing is deleted, and the store
// purges afterwards.
func testPurgeContext(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	h.put(newSession(a, base, nil), newSession(a, base.Add(-time.Second), nil))
	cancelled, cancel := context.WithCancel(h.ctx)
	cancel()
	expired, cancelExpired := context.WithDeadline(h.ctx, time.Unix(1, 0))
	defer cancelExpired()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", expired, sessions.ErrUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.purger().PurgeSessions(c.ctx, sessions.MaxTime.Add(time.Hour))
			wantIs(t, "PurgeSessions", err, c.want)
			h.with(t).checkAll()
		})
	}
	t.Run("store works afterwards", func(t *testing.T) {
		h := h.with(t)
		h.purge(base)
		h.checkAll()
	})
}

// purge calls PurgeSessions, which must succeed and delete what the model deletes.
func (h *harness) purge(before time.Time) int64 {
	h.tb.Helper()
	want := h.model.purge(before)
	got, err := h.purger().PurgeSessions(h.ctx, before)
	if err != nil {
		h.tb.Fatalf("PurgeSessions(%s): %v", formatTime(before), err)
	}
	if got != want {
		h.tb.Errorf("PurgeSessions(%s) = %d; want %d", formatTime(before), got, want)
	}
	return got
}

func testPurgeBoundary(t *testing.T, h *harness) {
	a := h.newAgent("acme", "")
	g := h.newAgent("globex", "")
	at := func(a sessions.Agent, d time.Duration) sessions.Session { return newSession(a, base.Add(d), nil) }
	h.put(
		newSession(a, sessions.MinTime, nil),
		at(a, -time.Millisecond),
		at(a, 0), at(g, 0),
		at(a, time.Millisecond), at(g, time.Millisecond+700*time.Microsecond),
		at(a, 2*time.Millisecond),
	)
	for _, step := range []struct {
		before time.Time
		want   int64
	}{
		{time.Time{}, 0},
		{sessions.MinTime, 0},
		{sessions.MinTime.Add(time.Nanosecond), 1},
		{base.Add(-time.Millisecond), 0},
		{base, 1},
		{base.In(zonePST), 0},
		{base.Add(time.Nanosecond).In(zoneIST), 2}, // both accounts
		{base.Add(time.Millisecond), 0},
		{base.Add(time.Millisecond + 999_999*time.Nanosecond), 2},
		{base.Add(2 * time.Millisecond), 0},
	} {
		t.Run(formatTime(step.before), func(t *testing.T) {
			h := h.with(t)
			if got := h.purge(step.before); got != step.want {
				t.Errorf("deleted %d; the suite expected %d", got, step.want)
			}
			h.checkAll()
		})
	}
}

func testPurgeMidWalk(t *testing.T, h *harness) {
	a1 := h.newAgent("acme", "Front desk")
	a2 := h.newAgent("acme", "Billing")
	g := h.newAgent("globex", "Reception")
	var ss []sessions.Session
	for i := range 300 {
		ss = append(ss, newSession([]sessions.Agent{a1, a2}[i%2], base.Add(-time.Duration(i/2)*time.Second), nil))
	}
	for i := range 200 {
		ss = append(ss, newSession(g, base.Add(-time.Duration(i)*1500*time.Millisecond), nil))
	}
	h.putInBatches(100, ss)

	// step reads one page of f, compared with the model.
	step := func(t *testing.T, f sessions.Filter) sessions.Page {
		t.Helper()
		return h.with(t).page(f)
	}

	t.Run("purge ahead of the cursor", func(t *testing.T) {
		h := h.with(t)
		f := sessions.Filter{AccountID: "acme", Limit: 20}
		seen := map[string]bool{}
		for range 3 {
			p := step(t, f)
			for _, s := range p.Sessions {
				seen[s.ID] = true
			}
			f.After = p.Next
		}
		list := h.model.list(f)
		cut := list[150].StartedAt.Add(500 * time.Microsecond).In(zoneIST)
		h.purge(cut)
		for _, s := range h.walk(f, nil) {
			if seen[s.ID] {
				t.Errorf("session %s returned again after the purge", s.ID)
			}
			if s.StartedAt.Before(cut) {
				t.Errorf("purged session %s returned", s.ID)
			}
		}
		h.checkAll()
	})

	t.Run("purge of the session at the cursor", func(t *testing.T) {
		h := h.with(t)
		f := sessions.Filter{AccountID: "acme", Limit: 10}
		p := step(t, f)
		atCursor := p.Sessions[len(p.Sessions)-1]
		h.purge(atCursor.StartedAt.Add(time.Millisecond))
		f.After = p.Next
		h.walk(f, nil)
		h.checkAll()
	})

	t.Run("purge of the session at the cursor, ties kept", func(t *testing.T) {
		h := h.with(t)
		a := h.newAgent("initech", "")
		var ss []sessions.Session
		for i := range 12 {
			ss = append(ss, newSession(a, base.Add(-time.Duration(i/4)*time.Second), nil)) // 3 instants, 4 sessions each
		}
		h.put(ss...)
		f := sessions.Filter{AccountID: "initech", Limit: 6} // the cursor is in the middle of a tie
		p := step(t, f)
		h.purge(p.Sessions[len(p.Sessions)-1].StartedAt) // the instant before the cursor's
		f.After = p.Next
		if got := len(h.walk(f, nil)); got != 2 {
			t.Errorf("walk after the purge returned %d sessions; want the 2 left of the cursor's instant", got)
		}
	})
}

func testPurgeMany(t *testing.T, h *harness) {
	// With the large data sets, more sessions, in one account and in one call, than the
	// default batches of the stores of this module (1000 for memory, 2000 per account for
	// SQLite, 5000 for PostgreSQL). With the small ones, more than the batches that the tests of
	// the SQLite and PostgreSQL stores set (50).
	n := testscale.Pick(600, 7000)
	agents := []sessions.Agent{h.newAgent("acme", ""), h.newAgent("globex", ""), h.newAgent("initech", "")}
	var ss []sessions.Session
	for i := range n {
		a := agents[0]
		if i%10 >= 8 {
			a = agents[i%10-7]
		}
		ss = append(ss, newSession(a, base.Add(-time.Duration(i/2)*100*time.Millisecond), map[string]int{"NAME": i % 3}))
	}
	ss = append(ss, newSession(agents[0], sessions.MinTime, nil), newSession(agents[1], sessions.MaxTime, nil))
	ss[len(ss)-1].EndedAt = sessions.MaxTime
	h.putInBatches(500, ss)

	// While the purge runs, another goroutine writes newer sessions and reads pages.
	stop := make(chan struct{})
	done := make(chan []sessions.Session, 1)
	go func() {
		var wrote []sessions.Session
		defer func() { done <- wrote }()
		for i := 0; i < 200; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s := newSession(agents[i%3], base.Add(time.Duration(1+i)*time.Second), nil)
			if err := h.store.PutSessions(h.ctx, s); err != nil {
				t.Errorf("PutSessions during PurgeSessions: %v", err)
				return
			}
			wrote = append(wrote, s)
			if _, err := h.store.ListSessions(h.ctx, sessions.Filter{AccountID: "globex", Limit: 50}); err != nil {
				t.Errorf("ListSessions during PurgeSessions: %v", err)
				return
			}
		}
	}()
	cut := ss[n/10].StartedAt // the oldest nine tenths go
	var deleted int64
	var wrote []sessions.Session
	func() {
		defer func() { close(stop); wrote = <-done }()
		deleted = h.purge(cut)
	}()
	h.model.put(wrote...)
	if deleted < int64(n*9/10)-2 {
		t.Fatalf("bad case in the suite: only %d sessions before the cut", deleted)
	}
	h.checkAll()

	for _, before := range []time.Time{cut, sessions.MinTime, sessions.MaxTime, sessions.MaxTime.Add(time.Hour)} {
		t.Run(fmt.Sprintf("again before %s", formatTime(before)), func(t *testing.T) {
			h := h.with(t)
			h.purge(before)
			h.checkAll()
		})
	}
	if len(h.model.sessions) != 0 {
		t.Fatalf("bad case in the suite: %d sessions left", len(h.model.sessions))
	}
}
