package httpapi

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

type ctxKey struct{}

// TestPipelineOrder checks the order of the steps: the parameters, the cursor named with them
// when it is bad too or made for another query, agent or account (a 422 names every bad
// parameter at once), the cursor before the agent, the
// agent before the list, and the list under the request's context.
func TestPipelineOrder(t *testing.T) {
	var listed, got int
	var listCtx context.Context
	fs := &faultyStore{}
	fs.get = func(ctx context.Context, account, agent string) (sessions.Agent, error) {
		got++
		return fs.Store.GetAgent(ctx, account, agent)
	}
	fs.list = func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
		listed++
		listCtx = ctx
		return fs.Store.ListSessions(ctx, f)
	}
	e := newEnv(t, withStore(fs))
	e.put(t, session(accountA, e.agentA1, time.Minute), session(accountA, e.agentA1, 2*time.Minute))
	cursor := e.do(t, "GET", "/api/v1/agents/"+e.agentA1+"/sessions?limit=1", e.cookieA).page(t).NextCursor
	got, listed = 0, 0
	unknown := "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFZ"
	for _, tc := range []struct {
		name, target string
		status       int
		params       []string
	}{
		{"parameters and the cursor at once", "/api/v1/agents/" + e.agentA1 + "/sessions?limit=0&cursor=garbage", 422, []string{"limit", "cursor"}},
		{"parameters, and a good cursor", "/api/v1/agents/" + e.agentA1 + "/sessions?limit=0&cursor=" + cursor, 422, []string{"limit"}},
		{"parameters and a cursor of another query at once", "/api/v1/agents/" + e.agentA1 + "/sessions?limit=0&status=error&cursor=" + cursor, 422, []string{"limit", "cursor"}},
		{"parameters and a cursor of another agent at once", "/api/v1/agents/" + e.agentA2 + "/sessions?typo=1&cursor=" + cursor, 422, []string{"typo", "cursor"}},
		{"a bad parameter is not compared with the cursor", "/api/v1/agents/" + e.agentA1 + "/sessions?status=fine&cursor=" + cursor, 422, []string{"status"}},
		{"parameters before the agent", "/api/v1/agents/" + unknown + "/sessions?limit=0", 422, []string{"limit"}},
		{"parameters before the agent_id", "/api/v1/sessions?agent_id=" + unknown + "&status=x", 422, []string{"status"}},
		{"cursor before the agent", "/api/v1/agents/" + unknown + "/sessions?cursor=" + cursor, 422, []string{"cursor"}},
		{"agent before the list", "/api/v1/agents/" + unknown + "/sessions", 404, nil},
	} {
		res := e.do(t, "GET", tc.target, e.cookieA)
		if res.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, res.status, tc.status)
		}
		if tc.params != nil {
			var got []string
			for _, d := range res.envelope(t).Details {
				got = append(got, d.Param)
			}
			if !slices.Equal(got, tc.params) {
				t.Errorf("%s: details name %v, want %v", tc.name, got, tc.params)
			}
		}
	}
	if got != 1 || listed != 0 {
		t.Errorf("the store was asked %d times for an agent (want 1) and listed %d times (want 0)", got, listed)
	}

	r := httptestRequest("GET", "/api/v1/agents/"+e.agentA1+"/sessions", e.cookieA)
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, "from the request"))
	if res := serveRequest(t, e.h, r); res.status != http.StatusOK {
		t.Fatalf("status %d", res.status)
	}
	if listCtx.Value(ctxKey{}) != "from the request" {
		t.Error("ListSessions did not get the request's context")
	}
	if _, ok := listCtx.Deadline(); !ok {
		t.Error("ListSessions got no deadline")
	}
}

// TestReplicasShareCursors checks that a cursor of one handler is accepted by another with the
// same key, as replicas behind a load balancer are.
func TestReplicasShareCursors(t *testing.T) {
	one := newEnv(t, func(cfg *Config) { cfg.CursorKey = testKey('r') })
	two := newEnv(t, func(cfg *Config) { cfg.CursorKey = testKey('r'); cfg.Store = one.store })
	want := one.putSessions(t, accountA, one.agentA1, 3)
	p := one.do(t, "GET", "/api/v1/sessions?limit=1", one.cookieA).page(t)
	got := p.ids()
	p = two.do(t, "GET", "/api/v1/sessions?limit=5&cursor="+p.NextCursor, two.cookieA).page(t)
	got = append(got, p.ids()...)
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("got %v, want %v", got, want)
	}
}
