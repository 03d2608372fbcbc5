package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// TestSession checks GET /api/v1/sessions/{session_id}: the item of the account-wide list, and
// one 404 for an unknown ID, a malformed one and another account's session, after
// authentication and before any store call for a malformed ID.
func TestSession(t *testing.T) {
	e := newEnv(t)
	s := session(accountA, e.agentA1, time.Minute)
	s.StartedAt = s.StartedAt.Add(794 * time.Millisecond)
	s.RedactionsByKind = map[string]int{"PHONE": 1, "NAME": 2}
	s.UpstreamModel = "gpt-4o-mini"
	other := session(accountB, e.agentB1, time.Minute)
	e.put(t, s, other)

	res := e.do(t, http.MethodGet, "/api/v1/sessions/"+s.ID, e.cookieA)
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	want := fmt.Sprintf(`{"session":{"id":%q,"agent_id":%q,"agent_name":"Front desk","started_at":"2026-05-04T11:59:00.794Z",`+
		`"ended_at":"2026-05-04T11:59:01.5Z","duration_ms":706,"status":"ok","redaction_count":3,`+
		`"redactions_by_kind":{"NAME":2,"PHONE":1},"upstream_model":"gpt-4o-mini"}}`, s.ID, e.agentA1)
	if diff := cmp.Diff(want, string(res.body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	// The same item as the account-wide list gives.
	var got struct{ Session map[string]any }
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatal(err)
	}
	list := e.do(t, http.MethodGet, "/api/v1/sessions", e.cookieA).page(t)
	if diff := cmp.Diff(list.Data[0], got.Session); diff != "" {
		t.Errorf("the session differs from the list's item (-list +session):\n%s", diff)
	}

	head := e.do(t, http.MethodHead, "/api/v1/sessions/"+s.ID, e.cookieA)
	if head.status != http.StatusOK || len(head.body) != 0 {
		t.Errorf("HEAD: status %d, %d bytes of body; want 200 and none", head.status, len(head.body))
	}

	tests := []struct {
		name, method, target, cookie string
		status                       int
		code                         string
	}{
		{"no cookie", "GET", "/api/v1/sessions/" + s.ID, "", 401, "unauthenticated"},
		{"no cookie, malformed ID", "GET", "/api/v1/sessions/nope", "", 401, "unauthenticated"},
		{"no cookie, parameters", "GET", "/api/v1/sessions/" + s.ID + "?x=1", "", 401, "unauthenticated"},
		{"another account's session", "GET", "/api/v1/sessions/" + other.ID, e.cookieA, 404, "session_not_found"},
		{"unknown session", "GET", "/api/v1/sessions/" + sessions.NewSessionID(now), e.cookieA, 404, "session_not_found"},
		{"malformed ID", "GET", "/api/v1/sessions/sess_123", e.cookieA, 404, "session_not_found"},
		{"an agent ID", "GET", "/api/v1/sessions/" + e.agentA1, e.cookieA, 404, "session_not_found"},
		{"lower-case ID", "GET", "/api/v1/sessions/sess_01hyz3n5tv0qw3y0b7vq6j3rfb", e.cookieA, 404, "session_not_found"},
		{"a parameter", "GET", "/api/v1/sessions/" + s.ID + "?since=7d", e.cookieA, 422, "validation_failed"},
		{"POST", "POST", "/api/v1/sessions/" + s.ID, e.cookieA, 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.target, tt.cookie)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if got := res.envelope(t).Code; got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
		})
	}
	// Another account's session and an unknown one get the same body, but for the request ID.
	a := e.do(t, "GET", "/api/v1/sessions/"+other.ID, e.cookieA)
	b := e.do(t, "GET", "/api/v1/sessions/"+sessions.NewSessionID(now), e.cookieA)
	if withoutRequestID(a) != withoutRequestID(b) {
		t.Errorf("another account's session: %s; an unknown one: %s", a.body, b.body)
	}
	if res := e.do(t, "GET", "/api/v1/sessions/"+s.ID+"?since=7d", e.cookieA); res.envelope(t).Details[0].Message != "unknown parameter; this endpoint accepts no parameter" {
		t.Errorf("a parameter: %s", res.body)
	}
}

// downStore is a store whose GetSession is unavailable.
type downStore struct{ sessions.Store }

func (downStore) GetSession(ctx context.Context, accountID, sessionID string) (sessions.Session, error) {
	return sessions.Session{}, fmt.Errorf("disk on fire: %w", sessions.ErrUnavailable)
}

// TestSessionUnavailable checks that a store outage gives 503 with Retry-After, and no internal
// text.
func TestSessionUnavailable(t *testing.T) {
	e := newEnv(t)
	e2 := newEnv(t, func(c *Config) { c.Store = downStore{e.store} })
	res := e2.do(t, "GET", "/api/v1/sessions/"+sessions.NewSessionID(now), e.cookieA)
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	if env := res.envelope(t); env.Code != "unavailable" || env.Message != "The session store is unavailable; retry later." {
		t.Errorf("envelope %+v", env)
	}
}

// TestSessionConfigSessionID checks Config.SessionID, for routers that keep path parameters
// elsewhere.
func TestSessionConfigSessionID(t *testing.T) {
	e := newEnv(t)
	s := session(accountA, e.agentA1, time.Minute)
	e.put(t, s)
	e2 := newEnv(t, func(c *Config) {
		c.Store = e.store
		c.SessionID = func(r *http.Request) string { return r.Header.Get("X-Session") }
	})
	r := httptestRequest("GET", "/anywhere", e.cookieA)
	r.Header.Set("X-Session", s.ID)
	res := serveRequest(t, e2.h.Session(), r)
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
}
