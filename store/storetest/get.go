package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// testGetSession checks Store.GetSession: it returns what a list returns for the same session,
// with the agent's current name and the newest write; and one answer, ErrSessionNotFound, for an
// unknown ID, a malformed one, and a session of another account.
func testGetSession(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	b := h.newAgent("globex", "Billing")
	s1 := newSession(a, base.In(zonePST), map[string]int{"PHONE": 1, "NAME": 2})
	s2 := newSession(a, base.Add(-time.Hour), nil)
	s3 := newSession(b, base, map[string]int{"DOB": 1})
	h.put(s1, s2, s3)

	check := func(t *testing.T, account, id string) {
		t.Helper()
		got, err := h.store.GetSession(h.ctx, account, id)
		if err != nil {
			t.Fatalf("GetSession(%q, %s): %v", account, id, err)
		}
		checkStored(t, got)
		want := h.model.sessions[id].Clone()
		want.AgentName = h.model.agents[want.AgentID].Name
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetSession(%q, %s) (-want +got):\n%s", account, id, diff)
		}
		// The same session as a list returns it.
		p, err := h.store.ListSessions(h.ctx, sessions.Filter{AccountID: account, Limit: sessions.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p.Sessions {
			if x.ID == id {
				if diff := cmp.Diff(x, got); diff != "" {
					t.Errorf("GetSession(%q, %s) differs from the list (-list +get):\n%s", account, id, diff)
				}
			}
		}
	}
	t.Run("found", func(t *testing.T) {
		check(t, "acme", s1.ID)
		check(t, "acme", s2.ID)
		check(t, "globex", s3.ID)
	})
	t.Run("newest write and current agent name", func(t *testing.T) {
		h := h.with(t)
		rewritten := s1
		rewritten.Status = sessions.StatusPartial
		rewritten.RedactionsByKind = map[string]int{"SSN": 3}
		rewritten.UpstreamModel = ""
		h.put(rewritten)
		h.putAgent(sessions.Agent{ID: a.ID, AccountID: "acme", Name: "Renamed"})
		check(t, "acme", s1.ID)
	})
	t.Run("not found", func(t *testing.T) {
		for _, c := range []struct{ name, account, id string }{
			{"unknown ID", "acme", sessions.NewSessionID(base)},
			{"another account's session", "acme", s3.ID},
			{"the right ID in a wrong account", "globex", s1.ID},
			{"an account that differs in case", "ACME", s1.ID},
			{"an empty account", "", s1.ID},
			{"empty ID", "acme", ""},
			{"malformed ID", "acme", "sess_123"},
			{"lower-case ULID", "acme", "sess_" + lower(s1.ID[len("sess_"):])},
			{"an agent ID", "acme", a.ID},
			{"SQL in the ID", "acme", "sess_' OR '1'='1"},
		} {
			_, err := h.store.GetSession(h.ctx, c.account, c.id)
			if !errors.Is(err, sessions.ErrSessionNotFound) {
				t.Errorf("%s: GetSession(%q, %q): %v; want sessions.ErrSessionNotFound", c.name, c.account, c.id, err)
			}
		}
	})
	t.Run("context", func(t *testing.T) {
		cancelled, cancel := context.WithCancel(h.ctx)
		cancel()
		if _, err := h.store.GetSession(cancelled, "acme", s1.ID); !errors.Is(err, context.Canceled) {
			t.Errorf("GetSession with a cancelled context: %v; want context.Canceled", err)
		}
		expired, cancelExpired := context.WithDeadline(h.ctx, time.Unix(1, 0))
		defer cancelExpired()
		if _, err := h.store.GetSession(expired, "acme", s1.ID); !errors.Is(err, sessions.ErrUnavailable) {
			t.Errorf("GetSession with a passed deadline: %v; want sessions.ErrUnavailable", err)
		}
	})
}

// testAll checks that sessions.All over the store yields every matching session once, in list
// order, whatever the page size, and stops when the loop breaks.
func testAll(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	var ss []sessions.Session
	for i := range 250 {
		ss = append(ss, newSession(a, base.Add(-time.Duration(i/3)*time.Second), map[string]int{"NAME": i % 4}))
	}
	h.putInBatches(100, ss)
	for _, f := range []sessions.Filter{
		{AccountID: "acme"},
		{AccountID: "acme", AgentID: a.ID, Limit: 7},
		{AccountID: "acme", MinRedactions: 2, Limit: 1},
		{AccountID: "acme", Since: base.Add(-30 * time.Second), Until: base.Add(-10 * time.Second)},
		{AccountID: "globex"},
	} {
		var got []sessions.Session
		for s, err := range sessions.All(h.ctx, h.store, f) {
			if err != nil {
				t.Fatalf("All(%s): %v", formatFilter(f), err)
			}
			got = append(got, s)
		}
		want := h.model.list(f.Normalize())
		if len(want) == 0 {
			want = nil
		}
		if diff := diffSessions(want, got); diff != "" {
			t.Errorf("All(%s) (-want +got):\n%s", formatFilter(f), diff)
		}
	}
	n := 0
	for range sessions.All(h.ctx, h.store, sessions.Filter{AccountID: "acme", Limit: 10}) {
		n++
		if n == 15 {
			break
		}
	}
	if n != 15 {
		t.Errorf("All yielded %d sessions before the break; want 15", n)
	}
}

// lower returns s in lower case (ASCII).
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
