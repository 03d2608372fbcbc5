package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// putWindow stores sessions of A1, A2 and B1 around the env's 24-hour window, with every status,
// several kinds and different durations, and returns them.
func (e *env) putWindow(tb testing.TB) []sessions.Session {
	tb.Helper()
	var out []sessions.Session
	statuses := []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}
	kinds := []map[string]int{{"PHONE": 1}, {"NAME": 2, "DOB": 1}, {}, {"SSN": 3, "NAME": 1}}
	for i, ago := range []time.Duration{time.Minute, time.Hour, 5 * time.Hour, 23*time.Hour + 59*time.Minute, 24 * time.Hour, 25 * time.Hour, 3 * 24 * time.Hour} {
		for j, agent := range []string{e.agentA1, e.agentA2, e.agentB1} {
			account := accountA
			if agent == e.agentB1 {
				account = accountB
			}
			s := session(account, agent, ago+time.Duration(j)*time.Second)
			s.Status = statuses[(i+j)%3]
			s.RedactionsByKind = kinds[(i+2*j)%len(kinds)]
			s.EndedAt = s.StartedAt.Add(time.Duration(1+i) * time.Second)
			e.put(tb, s)
			out = append(out, s)
		}
	}
	return out
}

// summaryBody is a decoded summary response.
type summaryBody struct {
	Summary struct {
		Since            string           `json:"since"`
		Until            *string          `json:"until"`
		Sessions         int64            `json:"sessions"`
		ByStatus         map[string]int64 `json:"by_status"`
		RedactionCount   int64            `json:"redaction_count"`
		RedactionsByKind map[string]int64 `json:"redactions_by_kind"`
		DurationMS       int64            `json:"duration_ms"`
	} `json:"summary"`
}

// foldBody returns the summary body that the fold of a walk of f gives, with the bounds given.
func foldBody(tb testing.TB, s sessions.Store, f sessions.Filter, since string, until *string) summaryBody {
	tb.Helper()
	sum := sessions.NewSummary()
	for sess, err := range sessions.All(context.Background(), s, f) {
		if err != nil {
			tb.Fatal(err)
		}
		sum.Add(sess)
	}
	var b summaryBody
	b.Summary.Since, b.Summary.Until = since, until
	b.Summary.Sessions = sum.Sessions
	b.Summary.ByStatus = map[string]int64{}
	for st, n := range sum.ByStatus {
		b.Summary.ByStatus[string(st)] = n
	}
	b.Summary.RedactionCount = sum.RedactionCount
	b.Summary.RedactionsByKind = sum.RedactionsByKind
	b.Summary.DurationMS = sum.Duration.Milliseconds()
	return b
}

func ptr(s string) *string { return &s }

// TestSummaryBody checks one summary byte for byte: the resolved default since, a null until,
// every status, sorted kinds.
func TestSummaryBody(t *testing.T) {
	e := newEnv(t)
	e.putWindow(t)
	res := e.do(t, http.MethodGet, "/api/v1/agents/"+e.agentA1+"/sessions/summary", e.cookieA)
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	// A1's sessions at 1m, 1h, 5h, 23h59m and 24h ago (since is inclusive): statuses ok, error,
	// partial, ok, error; kinds PHONE:1, NAME:2+DOB:1, none, SSN:3+NAME:1, PHONE:1; durations
	// 1+2+3+4+5 s.
	want := `{"summary":{"since":"2026-05-03T12:00:00Z","until":null,"sessions":5,"by_status":{"ok":2,"error":2,"partial":1},` +
		`"redaction_count":9,"redactions_by_kind":{"DOB":1,"NAME":3,"PHONE":2,"SSN":3},"duration_ms":15000}}`
	if diff := cmp.Diff(want, string(res.body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

// TestSummaryEqualsTheFold checks both summary routes, for a table of queries, against the fold
// of a walk of the same filter, on the store's Summarizer and on a store without one.
func TestSummaryEqualsTheFold(t *testing.T) {
	base := newEnv(t)
	base.putWindow(t)
	type query struct {
		path   string
		params string
		f      sessions.Filter // AccountID is accountA
		since  string
		until  *string
	}
	day := now.Add(-24 * time.Hour)
	queries := []query{
		{"/api/v1/sessions/summary", "", sessions.Filter{Since: day}, "2026-05-03T12:00:00Z", nil},
		{"/api/v1/sessions/summary", "since=2d&status=error", sessions.Filter{Since: now.Add(-48 * time.Hour), Status: sessions.StatusError}, "2026-05-02T12:00:00Z", nil},
		{"/api/v1/sessions/summary", "agent_id=" + base.agentA2 + "&since=30d&min_redactions=3", sessions.Filter{AgentID: base.agentA2, Since: now.Add(-30 * 24 * time.Hour), MinRedactions: 3}, "2026-04-04T12:00:00Z", nil},
		{"/api/v1/sessions/summary", "since=2026-05-03T11:00:00.0005Z&until=2h", sessions.Filter{Since: time.Date(2026, 5, 3, 11, 0, 0, 1e6, time.UTC), Until: now.Add(-2 * time.Hour)}, "2026-05-03T11:00:00.001Z", ptr("2026-05-04T10:00:00Z")},
		{"/api/v1/agents/" + base.agentA1 + "/sessions/summary", "since=1w&until=2026-05-04", sessions.Filter{AgentID: base.agentA1, Since: now.Add(-7 * 24 * time.Hour), Until: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}, "2026-04-27T12:00:00Z", ptr("2026-05-04T00:00:00Z")},
		{"/api/v1/agents/" + base.agentA2 + "/sessions/summary", "status=partial&since=1d", sessions.Filter{AgentID: base.agentA2, Since: day, Status: sessions.StatusPartial}, "2026-05-03T12:00:00Z", nil},
		// The latest time a session can have, in both bounds, is stated as given (a time after
		// it is a 422, TestHostileTimes).
		{"/api/v1/sessions/summary", "since=9999-12-31T23:59:59.999Z", sessions.Filter{Since: sessions.MaxTime}, "9999-12-31T23:59:59.999Z", nil},
		{"/api/v1/sessions/summary", "since=1d&until=9999-12-31T23:59:59.999Z", sessions.Filter{Since: day, Until: sessions.MaxTime}, "2026-05-03T12:00:00Z", ptr("9999-12-31T23:59:59.999Z")},
		{"/api/v1/agents/" + base.agentA2 + "/sessions/summary", "since=1h&until=1h", sessions.Filter{AgentID: base.agentA2, Since: now.Add(-time.Hour), Until: now.Add(-time.Hour)}, "2026-05-04T11:00:00Z", ptr("2026-05-04T11:00:00Z")},
	}
	for _, store := range []struct {
		name string
		cfg  func(*Config)
	}{
		{"summarizer", func(c *Config) { c.Store = base.store }},
		{"walk", func(c *Config) { c.Store = &faultyStore{Store: base.store} }}, // no SummarizeSessions
	} {
		e := newEnv(t, store.cfg)
		if _, ok := e.h.s.store.(sessions.Summarizer); ok != (store.name == "summarizer") {
			t.Fatalf("%s: the store is a Summarizer: %v", store.name, ok)
		}
		for _, q := range queries {
			target := q.path + "?" + q.params
			res := e.do(t, http.MethodGet, target, e.cookieA)
			if res.status != http.StatusOK {
				t.Fatalf("%s %s: status %d: %s", store.name, target, res.status, res.body)
			}
			var got summaryBody
			if err := json.Unmarshal(res.body, &got); err != nil {
				t.Fatal(err)
			}
			f := q.f
			f.AccountID = accountA
			want := foldBody(t, base.store, f, q.since, q.until)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s (-fold +got):\n%s", store.name, target, diff)
			}
		}
	}
}

// TestSummaryErrors checks the summary routes' errors: authentication first, 404 for agents that
// are not the account's, 422 for the list's paging parameters and bad values, 405, and HEAD.
func TestSummaryErrors(t *testing.T) {
	e := newEnv(t)
	e.putWindow(t)
	agentPath := "/api/v1/agents/" + e.agentA1 + "/sessions/summary"
	tests := []struct {
		name, method, target, cookie string
		status                       int
		code                         string
		params                       []string
	}{
		{"no cookie", "GET", agentPath, "", 401, "unauthenticated", nil},
		{"no cookie, bad parameters", "GET", agentPath + "?limit=5&x=1", "", 401, "unauthenticated", nil},
		{"no cookie, unknown agent", "GET", "/api/v1/agents/agt_nope/sessions/summary", "", 401, "unauthenticated", nil},
		{"another account's agent", "GET", agentPath, e.cookieB, 404, "agent_not_found", nil},
		{"malformed agent", "GET", "/api/v1/agents/agt_nope/sessions/summary", e.cookieA, 404, "agent_not_found", nil},
		{"unknown agent", "GET", "/api/v1/agents/" + sessions.NewAgentID() + "/sessions/summary", e.cookieA, 404, "agent_not_found", nil},
		{"agent_id of another account", "GET", "/api/v1/sessions/summary?agent_id=" + e.agentB1, e.cookieA, 404, "agent_not_found", nil},
		{"limit", "GET", agentPath + "?limit=5", e.cookieA, 422, "validation_failed", []string{"limit"}},
		{"cursor", "GET", "/api/v1/sessions/summary?cursor=abc", e.cookieA, 422, "validation_failed", []string{"cursor"}},
		{"agent_id on the agent route", "GET", agentPath + "?agent_id=" + e.agentA1, e.cookieA, 422, "validation_failed", []string{"agent_id"}},
		{"format", "GET", agentPath + "?format=csv", e.cookieA, 422, "validation_failed", []string{"format"}},
		{"every bad value at once", "GET", "/api/v1/sessions/summary?since=1y&status=fine&min_redactions=-1&until=2h&until=3h", e.cookieA, 422, "validation_failed",
			[]string{"since", "until", "status", "min_redactions"}},
		{"until before since", "GET", agentPath + "?since=1h&until=2h", e.cookieA, 422, "validation_failed", []string{"until"}},
		{"POST", "POST", agentPath, e.cookieA, 405, "method_not_allowed", nil},
		{"DELETE on the account route", "DELETE", "/api/v1/sessions/summary", e.cookieA, 405, "method_not_allowed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.target, tt.cookie)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			env := res.envelope(t)
			if env.Code != tt.code {
				t.Errorf("code %q, want %q", env.Code, tt.code)
			}
			var params []string
			for _, d := range env.Details {
				params = append(params, d.Param)
			}
			if diff := cmp.Diff(tt.params, params); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
			if tt.status == http.StatusMethodNotAllowed && res.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", res.header.Get("Allow"))
			}
		})
	}
	// The three 404s are one answer.
	a := e.do(t, "GET", agentPath, e.cookieB)
	b := e.do(t, "GET", "/api/v1/agents/"+sessions.NewAgentID()+"/sessions/summary", e.cookieB)
	if withoutRequestID(a) != withoutRequestID(b) {
		t.Errorf("another account's agent: %s; an unknown one: %s", a.body, b.body)
	}

	get := e.do(t, http.MethodGet, "/api/v1/sessions/summary", e.cookieA)
	head := e.do(t, http.MethodHead, "/api/v1/sessions/summary", e.cookieA)
	if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Length") != get.header.Get("Content-Length") {
		t.Errorf("HEAD: status %d, %d bytes, Content-Length %q; want 200, none, %q", head.status, len(head.body),
			head.header.Get("Content-Length"), get.header.Get("Content-Length"))
	}
}

// TestSummaryUnavailable checks that a store that fails or times out gives 503, the same for
// the Summarizer and the walk.
func TestSummaryUnavailable(t *testing.T) {
	e := newEnv(t, withStore(&faultyStore{list: func(context.Context, sessions.Filter) (sessions.Page, error) {
		return sessions.Page{}, fmt.Errorf("disk on fire: %w", sessions.ErrUnavailable)
	}}))
	res := e.do(t, "GET", "/api/v1/sessions/summary", e.cookieA)
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" || strings.Contains(string(res.body), "fire") {
		t.Errorf("status %d, Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	e2 := newEnv(t, func(c *Config) { c.Store = blockingSummarizer{c.Store}; c.Timeout = time.Millisecond })
	res = e2.do(t, "GET", "/api/v1/sessions/summary", e.cookieA)
	if res.status != http.StatusServiceUnavailable {
		t.Errorf("timeout: status %d: %s", res.status, res.body)
	}
}

// blockingSummarizer is a store whose SummarizeSessions waits for its context to end.
type blockingSummarizer struct{ sessions.Store }

func (blockingSummarizer) SummarizeSessions(ctx context.Context, f sessions.Filter) (sessions.Summary, error) {
	<-ctx.Done()
	return sessions.Summary{}, sessions.FromContextError(ctx.Err())
}

// TestSummaryMounted checks the handlers of the summary routes alone, in a router of another
// shape that keeps the agent ID in a header.
func TestSummaryMounted(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AgentID = func(r *http.Request) string { return r.Header.Get("X-Agent") } })
	e.putWindow(t)
	r := httptestRequest("GET", "/anywhere?since=2d", e.cookieA)
	r.Header.Set("X-Agent", e.agentA1)
	if res := serveRequest(t, e.h.AgentSummary(), r); res.status != http.StatusOK || !strings.Contains(string(res.body), `"sessions":6,`) {
		t.Errorf("AgentSummary: %d %s", res.status, res.body)
	}
	if res := serveRequest(t, e.h.Summary(), httptestRequest("GET", "/anywhere", e.cookieA)); res.status != http.StatusOK || !strings.Contains(string(res.body), `"sessions":9,`) {
		t.Errorf("Summary: %d %s", res.status, res.body)
	}
}
