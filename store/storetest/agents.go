package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// testAgentNotFound checks ErrAgentNotFound: for a session whose agent was not put in the
// session's account, and from GetAgent alike for an agent of another account, an unknown ID and
// a malformed one. A list of such an agent is empty.
func testAgentNotFound(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	g := h.newAgent("globex", "Reception")
	h.newAgent("Acme", "Upper case account")

	t.Run("PutSessions", func(t *testing.T) {
		h := h.with(t)
		unknown := newSession(a, base, nil)
		unknown.AgentID = sessions.NewAgentID()
		otherAccount := newSession(a, base, nil)
		otherAccount.AgentID = g.ID
		accountCase := newSession(a, base, nil)
		accountCase.AccountID = "ACME"
		for _, tc := range []struct {
			name string
			s    sessions.Session
		}{
			{"unknown agent", unknown},
			{"agent of another account", otherAccount},
			{"agent of an account that differs in case", accountCase},
		} {
			wantIs(t, "PutSessions: "+tc.name, h.store.PutSessions(h.ctx, tc.s), sessions.ErrAgentNotFound)
		}
		h.checkAll()
	})

	t.Run("GetAgent", func(t *testing.T) {
		h := h.with(t)
		got, err := h.store.GetAgent(h.ctx, "acme", a.ID)
		if err != nil {
			t.Fatalf("GetAgent(acme, %s): %v", a.ID, err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("GetAgent(acme, %s) (-want +got):\n%s", a.ID, diff)
		}
		for _, tc := range []struct {
			name, account, id string
		}{
			{"agent of another account", "globex", a.ID},
			{"other account's agent, asked from this one", "acme", g.ID},
			{"account differing in case", "ACME", a.ID},
			{"account with a trailing space", "acme ", a.ID},
			{"unknown account", "initech", a.ID},
			{"unknown ID", "acme", sessions.NewAgentID()},
			{"ID in lower case", "acme", sessions.AgentIDPrefix + strings.ToLower(strings.TrimPrefix(a.ID, sessions.AgentIDPrefix))},
			{"ID with a trailing space", "acme", a.ID + " "},
			{"ID without prefix", "acme", strings.TrimPrefix(a.ID, sessions.AgentIDPrefix)},
			{"malformed ID", "acme", "agt_123"},
			{"empty ID", "acme", ""},
			{"session ID", "acme", sessions.NewSessionID(base)},
			{"SQL in the ID", "acme", "' OR '1'='1"},
		} {
			got, err := h.store.GetAgent(h.ctx, tc.account, tc.id)
			wantIs(t, "GetAgent: "+tc.name, err, sessions.ErrAgentNotFound)
			if err == nil {
				t.Errorf("GetAgent: %s: returned %+v", tc.name, got)
			}
		}
	})

	t.Run("ListSessions", func(t *testing.T) {
		h := h.with(t)
		h.put(newSession(a, base, nil), newSession(g, base, nil))
		for _, f := range []sessions.Filter{
			{AccountID: "acme", AgentID: sessions.NewAgentID()},
			{AccountID: "acme", AgentID: g.ID},
			{AccountID: "globex", AgentID: a.ID},
		} {
			h.walk(f, nil)
		}
	})
}

// testPutAgent checks that PutAgent is an upsert within its account (a rename), gives ErrConflict
// for an agent ID of another account, and rejects an invalid agent with a ValidationError.
func testPutAgent(t *testing.T, h *harness) {
	get := func(t *testing.T, account, id string) sessions.Agent {
		t.Helper()
		got, err := h.store.GetAgent(h.ctx, account, id)
		if err != nil {
			t.Fatalf("GetAgent(%q, %s): %v", account, id, err)
		}
		return got
	}
	a := h.newAgent("acme", "Front desk")

	t.Run("rename", func(t *testing.T) {
		for _, name := range []string{"Reception", "", "Réception 24/7 \"main\"", strings.Repeat("n", sessions.MaxAgentNameLen), "Reception"} {
			a.Name = name
			h.with(t).putAgent(a)
			if diff := cmp.Diff(a, get(t, "acme", a.ID)); diff != "" {
				t.Errorf("GetAgent after renaming to %q (-want +got):\n%s", name, diff)
			}
		}
		h.with(t).putAgent(a) // the same again
	})

	t.Run("ID of another account", func(t *testing.T) {
		stolen := sessions.Agent{ID: a.ID, AccountID: "globex", Name: "Stolen"}
		wantIs(t, "PutAgent", h.store.PutAgent(h.ctx, stolen), sessions.ErrConflict)
		if diff := cmp.Diff(a, get(t, "acme", a.ID)); diff != "" {
			t.Errorf("GetAgent after the conflict (-want +got):\n%s", diff)
		}
		_, err := h.store.GetAgent(h.ctx, "globex", a.ID)
		wantIs(t, "GetAgent(globex) after the conflict", err, sessions.ErrAgentNotFound)
	})

	t.Run("concurrent accounts", func(t *testing.T) {
		h := h.with(t)
		for i := range 20 {
			x := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "x"}
			y := sessions.Agent{ID: x.ID, AccountID: "globex", Name: "y"}
			errs := race2(
				func() error { return h.store.PutAgent(h.ctx, x) },
				func() error { return h.store.PutAgent(h.ctx, y) },
			)
			winner, loser := x, y
			switch {
			case errs[0] == nil && errors.Is(errs[1], sessions.ErrConflict):
			case errs[1] == nil && errors.Is(errs[0], sessions.ErrConflict):
				winner, loser = y, x
			default:
				t.Fatalf("round %d: PutAgent of one ID for two accounts at once returned %v and %v; want nil and ErrConflict", i, errs[0], errs[1])
			}
			if diff := cmp.Diff(winner, get(t, winner.AccountID, winner.ID)); diff != "" {
				t.Errorf("round %d: GetAgent of the winner (-want +got):\n%s", i, diff)
			}
			_, err := h.store.GetAgent(h.ctx, loser.AccountID, loser.ID)
			wantIs(t, "GetAgent of the loser", err, sessions.ErrAgentNotFound)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			agent sessions.Agent
			field string
		}{
			{"ID empty", sessions.Agent{AccountID: "acme"}, "ID"},
			{"ID malformed", sessions.Agent{ID: "agt_123", AccountID: "acme"}, "ID"},
			{"ID of a session", sessions.Agent{ID: sessions.NewSessionID(base), AccountID: "acme"}, "ID"},
			{"ID lower case", sessions.Agent{ID: strings.ToLower(sessions.NewAgentID()), AccountID: "acme"}, "ID"},
			{"AccountID empty", sessions.Agent{ID: sessions.NewAgentID()}, "AccountID"},
			{"AccountID too long", sessions.Agent{ID: sessions.NewAgentID(), AccountID: strings.Repeat("a", sessions.MaxAccountIDLen+1)}, "AccountID"},
			{"AccountID unprintable", sessions.Agent{ID: sessions.NewAgentID(), AccountID: "ac\tme"}, "AccountID"},
			{"Name too long", sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: strings.Repeat("n", sessions.MaxAgentNameLen+1)}, "Name"},
			{"Name unprintable", sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "Front\ndesk"}, "Name"},
			{"Name not UTF-8", sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "Front \xff"}, "Name"},
			{"rename to an invalid name", sessions.Agent{ID: a.ID, AccountID: "acme", Name: "\x00"}, "Name"},
		} {
			if ve := wantValidation(t, tc.name+": the case itself: Agent.Validate", tc.agent.Validate(), tc.field); ve == nil {
				t.Fatalf("bad case in the suite")
			}
			wantValidation(t, tc.name+": PutAgent", h.store.PutAgent(h.ctx, tc.agent), tc.field)
			if tc.agent.ID == a.ID {
				if diff := cmp.Diff(a, get(t, "acme", a.ID)); diff != "" {
					t.Errorf("%s: GetAgent after the failed PutAgent (-want +got):\n%s", tc.name, diff)
				}
			} else if sessions.IsAgentID(tc.agent.ID) && tc.agent.AccountID != "" {
				_, err := h.store.GetAgent(h.ctx, tc.agent.AccountID, tc.agent.ID)
				wantIs(t, tc.name+": GetAgent after the failed PutAgent", err, sessions.ErrAgentNotFound)
			}
		}
	})
}

// testAgentName checks that ListSessions fills AgentName from the agent's current name, so that a
// rename shows at once on every session of the agent, and that PutSessions ignores AgentName.
func testAgentName(t *testing.T, h *harness) {
	a1 := h.newAgent("acme", "Front desk")
	a2 := h.newAgent("acme", "")
	g := h.newAgent("globex", "Front desk")
	var ss []sessions.Session
	for i := range 30 {
		s := newSession([]sessions.Agent{a1, a2, g}[i%3], base.Add(-time.Duration(i)*time.Second), nil)
		s.AgentName = "Mallory" // ignored
		ss = append(ss, s)
	}
	h.put(ss...)

	check := func(t *testing.T, want map[string]string) {
		t.Helper()
		h := h.with(t)
		for _, f := range []sessions.Filter{
			{AccountID: "acme", Limit: 7},
			{AccountID: "acme", AgentID: a1.ID},
			{AccountID: "acme", AgentID: a2.ID},
			{AccountID: "globex"},
		} {
			for _, s := range h.walk(f, nil) {
				if s.AgentName != want[s.AgentID] {
					t.Fatalf("session %s of agent %s: AgentName %q; want %q", s.ID, s.AgentID, s.AgentName, want[s.AgentID])
				}
			}
		}
	}
	t.Run("initial names", func(t *testing.T) {
		check(t, map[string]string{a1.ID: "Front desk", a2.ID: "", g.ID: "Front desk"})
	})
	t.Run("after renames", func(t *testing.T) {
		a1.Name, a2.Name = "", "Night shift"
		h.with(t).putAgent(a1)
		h.with(t).putAgent(a2)
		check(t, map[string]string{a1.ID: "", a2.ID: "Night shift", g.ID: "Front desk"})
		a1.Name = "Reception"
		h.with(t).putAgent(a1)
		check(t, map[string]string{a1.ID: "Reception", a2.ID: "Night shift", g.ID: "Front desk"})
	})
	t.Run("rewrite with another AgentName", func(t *testing.T) {
		s := ss[0]
		s.AgentName = "Eve"
		h.with(t).put(s)
		check(t, map[string]string{a1.ID: "Reception", a2.ID: "Night shift", g.ID: "Front desk"})
	})
}
