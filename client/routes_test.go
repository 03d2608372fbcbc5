package client_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
	"github.com/masker-dev/sessions/store/memory"
)

// pathRecorder passes requests to h and records the path and query of each.
type pathRecorder struct {
	h     http.Handler
	mu    sync.Mutex
	paths []string
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.paths = append(p.paths, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	p.mu.Unlock()
	p.h.ServeHTTP(w, r)
}

// take returns the recorded paths and forgets them.
func (p *pathRecorder) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.paths
	p.paths = nil
	return out
}

// TestRoutes checks that the client speaks every route of the API: the summary, the export and
// the tail of an agent on the agent's routes, with the same answers as the account's routes; the
// list on the account's route, and AgentSessions on the agent's, whose items have no agent name
// or upstream model.
func TestRoutes(t *testing.T) {
	st := &outageStore{Store: memory.New(), positioned: make(chan bool, 16)}
	defer st.Close()
	ctx := t.Context()
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: account, Name: "Front desk"}
	other := sessions.Agent{ID: sessions.NewAgentID(), AccountID: account, Name: "Billing"}
	for _, a := range []sessions.Agent{agent, other} {
		if err := st.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var ss []sessions.Session
	for i := range 30 {
		start := now.Add(-time.Duration(i+1) * time.Minute)
		a := agent
		if i%3 == 0 {
			a = other
		}
		ss = append(ss, sessions.Session{
			ID: sessions.NewSessionID(start), AccountID: account, AgentID: a.ID,
			StartedAt: start, EndedAt: start.Add(time.Minute), Status: sessions.StatusOK,
			RedactionsByKind: map[string]int{"NAME": i % 4}, UpstreamModel: "gpt-4o-mini",
		})
	}
	if err := st.PutSessions(ctx, ss...); err != nil {
		t.Fatal(err)
	}
	rec := &pathRecorder{h: newHandler(t, st)}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithBearerToken(token))
	if err != nil {
		t.Fatal(err)
	}
	q := client.Query{AgentID: agent.ID, Since: "1h", MinRedactions: 1, PageSize: 7}
	collect := func(seq func(func(sessions.Session, error) bool)) []sessions.Session {
		t.Helper()
		var out []sessions.Session
		for s, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	want := withoutAccount(walk(t, st, sessions.Filter{AccountID: account, AgentID: agent.ID, Since: now.Add(-time.Hour), MinRedactions: 1}))
	agentPath := "/api/v1/agents/" + agent.ID + "/sessions"

	t.Run("list", func(t *testing.T) {
		got := collect(c.Sessions(ctx, q))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Sessions (-want +got):\n%s", diff)
		}
		if paths := rec.take(); len(paths) != 3 || paths[0] != "/api/v1/sessions?agent_id="+agent.ID+"&limit=7&min_redactions=1&since=1h" {
			t.Errorf("requests %q, want 3 pages of /api/v1/sessions", paths)
		}
		got = collect(c.AgentSessions(ctx, agent.ID, client.Query{Since: "1h", MinRedactions: 1}))
		bare := make([]sessions.Session, len(want))
		for i, s := range want {
			s.AgentName, s.UpstreamModel = "", ""
			bare[i] = s
		}
		if diff := cmp.Diff(bare, got); diff != "" {
			t.Errorf("AgentSessions (-want +got):\n%s", diff)
		}
		if paths := rec.take(); len(paths) != 1 || paths[0] != agentPath+"?limit=100&min_redactions=1&since=1h" {
			t.Errorf("requests %q, want one page of the agent's route", paths)
		}
		for _, err := range c.AgentSessions(ctx, agent.ID, client.Query{AgentID: other.ID}) {
			if ve := new(sessions.ValidationError); !errors.As(err, &ve) || ve.Field != "agent_id" {
				t.Errorf("AgentSessions with another Query.AgentID: %v", err)
			}
		}
		for _, err := range c.AgentSessions(ctx, sessions.NewAgentID(), client.Query{}) {
			if !errors.Is(err, sessions.ErrAgentNotFound) {
				t.Errorf("AgentSessions of an unknown agent: %v", err)
			}
		}
		rec.take()
	})

	t.Run("summary", func(t *testing.T) {
		got, err := c.Summary(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		viaAccount, err := c.Summary(ctx, client.Query{Since: "1h", MinRedactions: 1})
		if err != nil {
			t.Fatal(err)
		}
		wantSum := client.Summary{Summary: sessions.NewSummary(), Since: now.Add(-time.Hour)}
		for _, s := range want {
			wantSum.Add(s)
		}
		if diff := cmp.Diff(wantSum, got); diff != "" {
			t.Errorf("agent summary (-want +got):\n%s", diff)
		}
		if viaAccount.Sessions <= got.Sessions {
			t.Errorf("account summary of %d sessions, agent's %d: want more on the account", viaAccount.Sessions, got.Sessions)
		}
		wantPaths := []string{agentPath + "/summary?min_redactions=1&since=1h", "/api/v1/sessions/summary?min_redactions=1&since=1h"}
		if diff := cmp.Diff(wantPaths, rec.take()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})

	t.Run("export", func(t *testing.T) {
		var viaAgent bytes.Buffer
		if _, err := c.Export(ctx, q, client.NDJSON, &viaAgent); err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(viaAgent.Bytes(), []byte("\n")); n != len(want) {
			t.Errorf("agent export of %d lines, want %d", n, len(want))
		}
		wantPaths := []string{agentPath + "/export?format=ndjson&min_redactions=1&since=1h"}
		if diff := cmp.Diff(wantPaths, rec.take()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		// The account's route, filtered to the agent, gives the same file.
		var viaFilter bytes.Buffer
		srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.URL.Path, r.URL.RawPath = "/api/v1/sessions/export", ""
			r.URL.RawQuery += "&agent_id=" + agent.ID
			rec.ServeHTTP(w, r)
		}))
		defer srv2.Close()
		c2, _ := client.New(srv2.URL, client.WithBearerToken(token))
		if _, err := c2.Export(ctx, client.Query{Since: "1h", MinRedactions: 1}, client.NDJSON, &viaFilter); err != nil {
			t.Fatal(err)
		}
		rec.take()
		if diff := cmp.Diff(viaFilter.String(), viaAgent.String()); diff != "" {
			t.Errorf("agent route (-account route +agent route):\n%s", diff)
		}
	})

	t.Run("tail", func(t *testing.T) {
		for _, tc := range []struct {
			q    client.Query
			path string
		}{
			{client.Query{AgentID: agent.ID, MinRedactions: 1}, agentPath + "/stream?min_redactions=1"},
			{client.Query{MinRedactions: 1}, "/api/v1/sessions/stream?min_redactions=1"},
		} {
			tailCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			events := make(chan client.Event, 1)
			done := make(chan error, 1)
			go func() {
				for ev, err := range c.Tail(tailCtx, tc.q, "") {
					if err != nil {
						done <- err
						return
					}
					events <- ev
					break
				}
				done <- nil
			}()
			<-st.positioned
			start := now.Add(time.Hour)
			s := sessions.Session{
				ID: sessions.NewSessionID(start), AccountID: account, AgentID: agent.ID,
				StartedAt: start, EndedAt: start.Add(time.Minute), Status: sessions.StatusOK,
				RedactionsByKind: map[string]int{"DOB": 2}, UpstreamModel: "m",
			}
			if err := st.PutSessions(ctx, s); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			ev := <-events
			s.AccountID, s.AgentName = "", agent.Name
			if diff := cmp.Diff(s, ev.Session); diff != "" {
				t.Errorf("%s: event (-want +got):\n%s", tc.path, diff)
			}
			cancel()
			if paths := rec.take(); len(paths) != 1 || paths[0] != tc.path {
				t.Errorf("requests %q, want %q", paths, tc.path)
			}
		}
	})
}
