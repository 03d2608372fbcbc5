package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// TestParameterRules checks every parameter rule on both endpoints: each bad request gets one
// 422 whose details name every bad parameter, in order, and each good one gets 200.
func TestParameterRules(t *testing.T) {
	e := newEnv(t)
	agentPath := "/api/v1/agents/" + e.agentA1 + "/sessions"
	both := []string{agentPath, "/api/v1/sessions"}
	for _, tc := range []struct {
		query  string
		paths  []string // default: both
		params []string // the params of the details; nil: 200
	}{
		// accepted values
		{query: ""},
		{query: "limit=1"},
		{query: "limit=100"},
		{query: "limit=025"},
		{query: "since=90s"},
		{query: "since=1d12h"},
		{query: "since=2w"},
		{query: "since=2026-05-03"},
		{query: "since=2026-05-03T21:14:32Z"},
		{query: "since=2026-05-03T21:14:32.794%2B02:00"},
		{query: "since=2026-05-03T21:14:32%2B02:00&until=2026-05-04T21:14:32+02:00"}, // an unencoded +, typed in a shell
		{query: "since=2026-05-03T21:14:32"},
		{query: "since=1970-01-01"},
		{query: "until=1h"},
		{query: "until=2026-05-04"},
		{query: "since=2026-05-03&until=2026-05-03"},
		{query: "status=ok"},
		{query: "status=error"},
		{query: "status=partial"},
		{query: "min_redactions=0"},
		{query: "min_redactions=1000000000"},
		{query: "agent_id=" + e.agentA1, paths: []string{"/api/v1/sessions"}},
		{query: "&&limit=5&"},
		{query: "%6Cimit=5"}, // percent-encoded name
		// limit
		{query: "limit=0", params: []string{"limit"}},
		{query: "limit=101", params: []string{"limit"}},
		{query: "limit=-1", params: []string{"limit"}},
		{query: "limit=+5", params: []string{"limit"}},
		{query: "limit=1.5", params: []string{"limit"}},
		{query: "limit=1e2", params: []string{"limit"}},
		{query: "limit=%205", params: []string{"limit"}},
		{query: "limit=99999999999999999999999", params: []string{"limit"}},
		{query: "limit=", params: []string{"limit"}},
		{query: "limit", params: []string{"limit"}},
		{query: "limit=5&limit=5", params: []string{"limit"}},
		// since and until
		{query: "since=yesterday", params: []string{"since"}},
		{query: "since=2026-05-03T21:14:32%2002:00", params: []string{"since"}}, // a space that is no +: an offset without its sign
		{query: "since=1%20h", params: []string{"since"}},
		{query: "since=1+h", params: []string{"since"}},
		{query: "since=0h", params: []string{"since"}},
		{query: "since=-1h", params: []string{"since"}},
		{query: "since=24H", params: []string{"since"}},
		{query: "since=2026-13-01", params: []string{"since"}},
		{query: "since=", params: []string{"since"}},
		{query: "since=1h&since=2h", params: []string{"since"}},
		{query: "until=soon", params: []string{"until"}},
		{query: "until=", params: []string{"until"}},
		{query: "until=1h&until=1h", params: []string{"until"}},
		{query: "since=1h&until=2h", params: []string{"until"}},
		{query: "until=2026-05-02", params: []string{"until"}}, // before the default since, 24h
		{query: "since=2026-05-03&until=2026-05-02T23:59:59.999Z", params: []string{"until"}},
		// status
		{query: "status=OK", params: []string{"status"}},
		{query: "status=failed", params: []string{"status"}},
		{query: "status=", params: []string{"status"}},
		{query: "status=ok&status=error", params: []string{"status"}},
		// min_redactions
		{query: "min_redactions=-1", params: []string{"min_redactions"}},
		{query: "min_redactions=1000000001", params: []string{"min_redactions"}},
		{query: "min_redactions=1.0", params: []string{"min_redactions"}},
		{query: "min_redactions=many", params: []string{"min_redactions"}},
		{query: "min_redactions=", params: []string{"min_redactions"}},
		// cursor
		{query: "cursor=", params: []string{"cursor"}},
		{query: "cursor=abc", params: []string{"cursor"}},
		{query: "cursor=a&cursor=b", params: []string{"cursor"}},
		// agent_id
		{query: "agent_id=" + e.agentA1, paths: []string{agentPath}, params: []string{"agent_id"}},
		{query: "agent_id=", paths: []string{"/api/v1/sessions"}, params: []string{"agent_id"}},
		{query: "agent_id=a&agent_id=b", paths: []string{"/api/v1/sessions"}, params: []string{"agent_id"}},
		// unknown parameters, and encoding
		{query: "limt=5", params: []string{"limt"}},
		{query: "LIMIT=5", params: []string{"LIMIT"}},
		{query: "foo=1&foo=2&bar", params: []string{"foo", "bar"}},
		{query: "since%=1h", params: []string{"since%"}},
		{query: "since=%zz", params: []string{"since"}},
		{query: "status=o%6B"}, // encoded value
		// every problem at once
		{query: "limit=0&since=x&until=y&status=z&min_redactions=-1&sort=asc&limit=2", params: []string{"sort", "limit", "since", "until", "status", "min_redactions"}},
		// bounds on the query string
		{query: strings.Repeat("limit=5&", 1100), params: []string{"query"}},
		{query: strings.Repeat("a=1&", 33), params: []string{"query"}},
		{query: strings.Repeat("a=1&", 32), params: []string{"a"}},
		{query: "since=" + strings.Repeat("9", 8200), params: []string{"query"}},
		{query: "since=" + strings.Repeat("9", 2000) + "h", params: []string{"since"}},
	} {
		paths := tc.paths
		if paths == nil {
			paths = both
		}
		for _, path := range paths {
			res := e.do(t, "GET", path+"?"+tc.query, e.cookieA)
			name := path + "?" + tc.query
			if len(name) > 120 {
				name = name[:120] + "..."
			}
			if tc.params == nil {
				if res.status != http.StatusOK {
					t.Errorf("%s: status %d: %s", name, res.status, res.body)
				}
				continue
			}
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d, want 422: %.300s", name, res.status, res.body)
				continue
			}
			env := res.envelope(t)
			var got []string
			for _, d := range env.Details {
				got = append(got, d.Param)
				if d.Message == "" || len(d.Message) > 400 {
					t.Errorf("%s: message %q", name, d.Message)
				}
			}
			if env.Code != "validation_failed" {
				t.Errorf("%s: code %q", name, env.Code)
			}
			if diff := cmp.Diff(tc.params, got); diff != "" {
				t.Errorf("%s: details (-want +got):\n%s\n%s", name, diff, res.body)
			}
		}
	}
}

// TestParameterMessages checks that messages say what was expected.
func TestParameterMessages(t *testing.T) {
	e := newEnv(t)
	res := e.do(t, "GET", "/api/v1/sessions?limit=0&since=x&status=z&min_redactions=-1&sort=asc&until=1h&until=2h&cursor=", e.cookieA)
	want := []problem{
		{"sort", "unknown parameter; this endpoint accepts limit, cursor, since, until, status, min_redactions, agent_id"},
		{"limit", `want a whole number from 1 to 100, got "0"`},
		{"cursor", "empty; give a value or leave the parameter out"},
		{"since", `"x": want a duration like 24h or 7d, or an RFC 3339 timestamp`},
		{"until", "given 2 times; give it at most once"},
		{"status", `want ok, error or partial, got "z"`},
		{"min_redactions", `want a whole number from 0 to 1000000000, got "-1"`},
	}
	if diff := cmp.Diff(want, res.envelope(t).Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	res = e.do(t, "GET", "/api/v1/agents/"+e.agentA1+"/sessions?agent_id=x&since=1h&until=2h", e.cookieA)
	want = []problem{
		{"agent_id", "unknown parameter; this endpoint accepts limit, cursor, since, until, status, min_redactions"},
		{"until", "is before since (2026-05-04T11:00:00Z); want a time at or after it"},
	}
	if diff := cmp.Diff(want, res.envelope(t).Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	res = e.do(t, "GET", "/api/v1/sessions?since=%zz&%zz=1", e.cookieA)
	want = []problem{
		{"%zz", "the parameter name is not valid percent-encoding"},
		{"since", "the value is not valid percent-encoding"},
	}
	if diff := cmp.Diff(want, res.envelope(t).Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	long := strings.Repeat("é", 100)
	res = e.do(t, "GET", "/api/v1/sessions?status="+long, e.cookieA)
	if msg := res.envelope(t).Details[0].Message; !strings.Contains(msg, strings.Repeat("é", 32)+`..."`) || strings.Contains(msg, strings.Repeat("é", 33)) {
		t.Errorf("a long value is not shortened: %s", msg)
	}
}

// TestFilters checks what each parameter selects.
func TestFilters(t *testing.T) {
	e := newEnv(t)
	mk := func(agent string, ago time.Duration, status sessions.Status, redactions int) sessions.Session {
		s := session(accountA, agent, ago)
		s.Status = status
		s.RedactionsByKind = map[string]int{}
		if redactions > 0 {
			s.RedactionsByKind["NAME"] = redactions
		}
		return s
	}
	s1 := mk(e.agentA1, 1*time.Hour, sessions.StatusOK, 0)
	s2 := mk(e.agentA2, 2*time.Hour, sessions.StatusError, 3)
	s3 := mk(e.agentA1, 25*time.Hour, sessions.StatusPartial, 5)
	s4 := mk(e.agentA1, 8*24*time.Hour, sessions.StatusOK, 1)
	e.put(t, s1, s2, s3, s4)
	agentPath := "/api/v1/agents/" + e.agentA1 + "/sessions"
	for _, tc := range []struct {
		target string
		want   []sessions.Session
	}{
		{"/api/v1/sessions", []sessions.Session{s1, s2}}, // since=24h by default
		{"/api/v1/sessions?since=2d", []sessions.Session{s1, s2, s3}},
		{"/api/v1/sessions?since=30d", []sessions.Session{s1, s2, s3, s4}},
		{"/api/v1/sessions?since=30d&limit=2", []sessions.Session{s1, s2}},
		{"/api/v1/sessions?since=30d&until=90m", []sessions.Session{s2, s3, s4}},
		{"/api/v1/sessions?since=30d&until=" + formatTime(s2.StartedAt), []sessions.Session{s3, s4}}, // until excludes
		{"/api/v1/sessions?since=" + formatTime(s2.StartedAt), []sessions.Session{s1, s2}},           // since includes
		{"/api/v1/sessions?since=30d&status=ok", []sessions.Session{s1, s4}},
		{"/api/v1/sessions?since=30d&status=partial", []sessions.Session{s3}},
		{"/api/v1/sessions?since=30d&min_redactions=3", []sessions.Session{s2, s3}},
		{"/api/v1/sessions?since=30d&agent_id=" + e.agentA1, []sessions.Session{s1, s3, s4}},
		{agentPath + "?since=30d", []sessions.Session{s1, s3, s4}},
		{agentPath + "?since=30d&min_redactions=1&status=ok", []sessions.Session{s4}},
		{"/api/v1/agents/" + e.agentA2 + "/sessions?since=30d", []sessions.Session{s2}},
	} {
		var want []string
		for _, s := range tc.want {
			want = append(want, s.ID)
		}
		got := e.do(t, "GET", tc.target, e.cookieA).page(t).ids()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.target, diff)
		}
	}
}
