package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// documentedSession is the session of the example response in the API documentation of
// GET /api/v1/agents/{agent_id}/sessions.
func documentedSession(e *env) sessions.Session {
	return sessions.Session{
		ID:               "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		AccountID:        accountA,
		AgentID:          e.agentA1,
		StartedAt:        time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC),
		EndedAt:          time.Date(2026, 5, 3, 21, 14, 32, 794e6, time.UTC),
		Status:           sessions.StatusOK,
		RedactionsByKind: map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1},
		UpstreamModel:    "gpt-4o-mini",
	}
}

// TestDocumentedExample checks the example response of the API documentation field by field,
// in the documentation's order.
func TestDocumentedExample(t *testing.T) {
	e := newEnv(t)
	e.put(t, documentedSession(e))
	res := e.do(t, "GET", "/api/v1/agents/"+e.agentA1+"/sessions?since=7d&limit=100", e.cookieA)
	want := `{"data":[{` +
		`"id":"sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",` +
		`"agent_id":"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",` +
		`"started_at":"2026-05-03T21:14:32Z",` +
		`"ended_at":"2026-05-03T21:14:32.794Z",` +
		`"duration_ms":794,` +
		`"status":"ok",` +
		`"redaction_count":4,` +
		`"redactions_by_kind":{"DOB":1,"NAME":2,"PHONE":1}` +
		`}],"next_cursor":null}`
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if diff := cmp.Diff(want, string(res.body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if link := res.header.Get("Link"); link != "" {
		t.Errorf("Link %q on the last page", link)
	}
}

// TestSessionsEndpointFields checks the items of /api/v1/sessions: agent_name after agent_id and
// upstream_model last, null when unknown.
func TestSessionsEndpointFields(t *testing.T) {
	e := newEnv(t)
	s1 := documentedSession(e)
	s2 := documentedSession(e)
	s2.ID = "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB"
	s2.AgentID = e.agentA2
	s2.UpstreamModel = ""
	s2.RedactionsByKind = nil
	s2.Status = sessions.StatusPartial
	e.put(t, s1, s2)
	res := e.do(t, "GET", "/api/v1/sessions", e.cookieA)
	want := `{"data":[{` +
		`"id":"sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB",` +
		`"agent_id":"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFB",` +
		`"agent_name":"",` +
		`"started_at":"2026-05-03T21:14:32Z",` +
		`"ended_at":"2026-05-03T21:14:32.794Z",` +
		`"duration_ms":794,` +
		`"status":"partial",` +
		`"redaction_count":0,` +
		`"redactions_by_kind":{},` +
		`"upstream_model":null` +
		`},{` +
		`"id":"sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",` +
		`"agent_id":"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",` +
		`"agent_name":"Front desk",` +
		`"started_at":"2026-05-03T21:14:32Z",` +
		`"ended_at":"2026-05-03T21:14:32.794Z",` +
		`"duration_ms":794,` +
		`"status":"ok",` +
		`"redaction_count":4,` +
		`"redactions_by_kind":{"DOB":1,"NAME":2,"PHONE":1},` +
		`"upstream_model":"gpt-4o-mini"` +
		`}],"next_cursor":null}`
	if diff := cmp.Diff(want, string(res.body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

// TestEmptyList checks that an empty page has data [] and next_cursor null, on both endpoints.
func TestEmptyList(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/api/v1/agents/" + e.agentA1 + "/sessions", "/api/v1/sessions"} {
		res := e.do(t, "GET", path, e.cookieA)
		if diff := cmp.Diff(`{"data":[],"next_cursor":null}`, string(res.body)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
}

// TestTimes checks that times are RFC 3339 in UTC at millisecond precision, trailing zeros
// dropped, whatever the location of the time the store returns.
func TestTimes(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC), "2026-05-03T21:14:32Z"},
		{time.Date(2026, 5, 3, 21, 14, 32, 794e6, time.UTC), "2026-05-03T21:14:32.794Z"},
		{time.Date(2026, 5, 3, 21, 14, 32, 790e6, time.UTC), "2026-05-03T21:14:32.79Z"},
		{time.Date(2026, 5, 3, 21, 14, 32, 700e6, time.UTC), "2026-05-03T21:14:32.7Z"},
		{time.Date(2026, 5, 3, 21, 14, 32, 1e6, time.UTC), "2026-05-03T21:14:32.001Z"},
		{time.Date(2026, 5, 3, 23, 14, 32, 5e6, zone), "2026-05-03T21:14:32.005Z"},
	} {
		var enc pageEncoder
		s := sessions.Session{StartedAt: tc.in, EndedAt: tc.in, Status: sessions.StatusOK}
		got := string(enc.encode(agentEndpoint, []sessions.Session{s}, ""))
		if !strings.Contains(got, `"started_at":"`+tc.want+`","ended_at":"`+tc.want+`"`) {
			t.Errorf("%v: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestHead checks that HEAD gets the headers of GET and no body.
func TestHead(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.put(t, session(accountA, e.agentA1, time.Duration(i+1)*time.Hour))
	}
	for _, path := range []string{"/api/v1/agents/" + e.agentA1 + "/sessions?limit=2", "/api/v1/sessions?limit=2", "/api/v1/sessions?limit=0"} {
		get := e.do(t, "GET", path, e.cookieA)
		head := e.do(t, "HEAD", path, e.cookieA)
		if head.status != get.status || len(head.body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, GET %d", path, head.status, len(head.body), get.status)
		}
		for _, name := range []string{"Content-Type", "Content-Length", "Cache-Control", "X-Content-Type-Options"} {
			if head.header.Get(name) != get.header.Get(name) {
				t.Errorf("HEAD %s: %s %q, GET %q", path, name, head.header.Get(name), get.header.Get(name))
			}
		}
		if (head.header.Get("Link") == "") != (get.header.Get("Link") == "") {
			t.Errorf("HEAD %s: Link %q, GET %q", path, head.header.Get("Link"), get.header.Get("Link"))
		}
	}
}

// TestMethodNotAllowed checks the 405 of every route for other methods.
func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/api/v1/agents/" + e.agentA1 + "/sessions", "/api/v1/sessions", "/api/v1/openapi.yaml"} {
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"} {
			res := e.do(t, method, path, e.cookieA)
			if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d Allow %q", method, path, res.status, res.header.Get("Allow"))
				continue
			}
			if env := res.envelope(t); env.Code != "method_not_allowed" || env.RequestID != res.header.Get("X-Request-Id") {
				t.Errorf("%s %s: %+v", method, path, env)
			}
		}
	}
}

// TestUnknownPathNeedsCredential checks that a path under /api/ that is no route, or is not
// clean, gets the 401 of every route without a valid credential, whatever the method, and
// net/http's plain 404 only once authenticated.
func TestUnknownPathNeedsCredential(t *testing.T) {
	e := newEnv(t)
	status := func(method, target, cookie string) int {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, httptestRequest(method, target, cookie))
		return w.Code
	}
	for _, p := range []string{
		"/api/v1/nope", "/api/v1", "/api/v1/agents", "/api/v1/sessions/", "/api/v1//sessions",
		"/api/v1/agents/" + e.agentA1 + "/sessions/bogus", "/api/v2/sessions",
	} {
		for _, m := range []string{"GET", "HEAD", "OPTIONS", "DELETE", "PROPFIND"} {
			if got := status(m, p, ""); got != http.StatusUnauthorized {
				t.Errorf("%s %s without a credential: %d, want 401", m, p, got)
			}
			if got := status(m, p, "masker_session=bad"); got != http.StatusUnauthorized {
				t.Errorf("%s %s with a bad credential: %d, want 401", m, p, got)
			}
			if got := status(m, p, e.cookieA); got != http.StatusNotFound {
				t.Errorf("%s %s authenticated: %d, want 404", m, p, got)
			}
		}
	}
	if got := status("GET", "/favicon.ico", ""); got != http.StatusNotFound {
		t.Errorf("a path outside /api/: %d, want net/http's 404", got)
	}
}
