package storetest

import (
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// testTenantIsolation checks that a list never returns another account's sessions: not for
// account IDs that differ only in case, accents, a trailing space or a suffix, not with an agent
// ID of another account in the filter, and not when resuming from a cursor taken from another
// account's walk (a cursor is a position, which selects the same position in this account).
func testTenantIsolation(t *testing.T, h *harness) {
	accounts := []string{"acme", "Acme", "ACME", "acme ", "acmé", "acm", "acme2", "%"}
	agents := map[string][]sessions.Agent{}
	var ss []sessions.Session
	for i, acct := range accounts {
		agents[acct] = []sessions.Agent{h.newAgent(acct, acct+" front desk"), h.newAgent(acct, "")}
		for j := range 24 {
			// Eight instants shared by every account: ties within and across accounts.
			at := base.Add(-time.Duration((i+j)%8) * time.Second)
			ss = append(ss, newSession(agents[acct][j%2], at, map[string]int{"PHONE": j % 3}))
		}
	}
	h.putInBatches(64, ss)

	t.Run("own sessions only", func(t *testing.T) {
		h := h.with(t)
		for _, acct := range accounts {
			for _, f := range []sessions.Filter{
				{AccountID: acct, Limit: 5},
				{AccountID: acct, AgentID: agents[acct][0].ID},
				{AccountID: acct, Status: sessions.StatusOK, MinRedactions: 1, Since: base.Add(-5 * time.Second)},
			} {
				if got := len(h.walk(f, nil)); got == 0 {
					t.Errorf("%s: nothing listed; the suite expected sessions", formatFilter(f))
				}
			}
		}
		h.walk(sessions.Filter{AccountID: "initech"}, nil)
		h.walk(sessions.Filter{AccountID: "_"}, nil)
	})

	t.Run("agent of another account", func(t *testing.T) {
		h := h.with(t)
		for _, acct := range accounts {
			for _, other := range accounts {
				if other != acct {
					h.walk(sessions.Filter{AccountID: acct, AgentID: agents[other][0].ID}, nil)
				}
			}
		}
	})

	t.Run("cursor from another account", func(t *testing.T) {
		h := h.with(t)
		for _, from := range accounts[:4] {
			f := sessions.Filter{AccountID: from, Limit: 7}
			for {
				p := h.page(f)
				if p.Next == nil {
					break
				}
				for _, acct := range accounts {
					if acct != from {
						h.walk(sessions.Filter{AccountID: acct, After: p.Next, Limit: 10}, nil)
					}
				}
				f.After = p.Next
			}
		}
	})
}
