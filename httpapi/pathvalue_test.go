package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// setPathValue returns h behind a router adapter that sets the path value name to value, as a
// gin or echo middleware does with c.Param.
func setPathValue(h http.Handler, name, value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.SetPathValue(name, value)
		h.ServeHTTP(w, r)
	})
}

// TestMissingPathValueIsAConfigurationError checks that a route with a path parameter that the
// router did not pass on answers 500 internal_error, never a 404 for every agent, and logs a
// configuration error that names the fix, with the request ID.
func TestMissingPathValueIsAConfigurationError(t *testing.T) {
	emptyID := func(cfg *Config) {
		cfg.AgentID = func(*http.Request) string { return "" }
		cfg.SessionID = func(*http.Request) string { return "" }
	}
	for _, tc := range []struct {
		name    string
		opts    []func(*Config)
		handler func(e *env) http.Handler
		target  string
		cookie  bool
		status  int
		log     []string // what the log says; nil: nothing is logged
	}{
		{
			name:    "agent route without path value",
			handler: func(e *env) http.Handler { return e.h.AgentSessions() },
			target:  "/bots/agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA/calls?limit=1", cookie: true,
			status: 500,
			log: []string{"level=ERROR", "httpapi: configuration error", `has no path value \"agent_id\"`,
				`r.SetPathValue(\"agent_id\", value)`, "Config.AgentID", "gin.WrapH"},
		},
		{
			name:    "agent route with a bad query: still the configuration error",
			handler: func(e *env) http.Handler { return e.h.AgentSessions() },
			target:  "/x?limit=abc", cookie: true,
			status: 500,
			log:    []string{"httpapi: configuration error"},
		},
		{
			name:    "agent route, Config.AgentID gives nothing",
			opts:    []func(*Config){emptyID},
			handler: func(e *env) http.Handler { return e.h.AgentSessions() },
			target:  "/x", cookie: true,
			status: 500,
			log:    []string{"httpapi: configuration error", "Config.AgentID returned an empty agent_id", `chi.URLParam(r, \"agent_id\")`},
		},
		{
			name:    "agent stream route without path value",
			handler: func(e *env) http.Handler { return e.h.AgentSessionsStream() },
			target:  "/bots/agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA/calls/stream", cookie: true,
			status: 500,
			log:    []string{"httpapi: configuration error", `has no path value \"agent_id\"`, "Config.AgentID"},
		},
		{
			name:    "session route without path value",
			handler: func(e *env) http.Handler { return e.h.Session() },
			target:  "/x", cookie: true,
			status: 500,
			log:    []string{"httpapi: configuration error", `has no path value \"session_id\"`, `r.SetPathValue(\"session_id\", value)`, "Config.SessionID"},
		},
		{
			name:    "session route, Config.SessionID gives nothing",
			opts:    []func(*Config){emptyID},
			handler: func(e *env) http.Handler { return e.h.Session() },
			target:  "/x", cookie: true,
			status: 500,
			log:    []string{"Config.SessionID returned an empty session_id"},
		},
		{
			name:    "agent summary without path value",
			handler: func(e *env) http.Handler { return e.h.AgentSummary() },
			target:  "/x", cookie: true,
			status: 500,
			log:    []string{"httpapi: configuration error", routeAgentSummary, `r.SetPathValue(\"agent_id\", value)`},
		},
		{
			name:    "agent export without path value",
			handler: func(e *env) http.Handler { return e.h.AgentExport() },
			target:  "/x", cookie: true,
			status: 500,
			log:    []string{"httpapi: configuration error", routeAgentExport, `r.SetPathValue(\"agent_id\", value)`},
		},
		{
			name:    "unauthenticated: 401 first",
			handler: func(e *env) http.Handler { return e.h.AgentSessions() },
			target:  "/x", cookie: false,
			status: 401,
		},
		{
			name: "the router sets the path value",
			handler: func(e *env) http.Handler {
				return setPathValue(e.h.AgentSessions(), "agent_id", e.agentA1)
			},
			target: "/x", cookie: true,
			status: 200,
		},
		{
			name: "the router sets an unknown agent",
			handler: func(e *env) http.Handler {
				return setPathValue(e.h.AgentSessions(), "agent_id", "agt_nope")
			},
			target: "/x", cookie: true,
			status: 404,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			e.putSessions(t, accountA, e.agentA1, 2)
			cookie := ""
			if tc.cookie {
				cookie = e.cookieA
			}
			res := serve(t, tc.handler(e), "GET", tc.target, cookie)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if tc.status == 500 {
				env := res.envelope(t)
				if env.Code != codeInternalError || strings.Contains(env.Message, "agent_id") || strings.Contains(env.Message, "Config") {
					t.Errorf("envelope %+v: want internal_error without internals", env)
				}
			}
			logs := e.logs.String()
			if tc.log == nil && logs != "" {
				t.Errorf("logged:\n%s", logs)
			}
			for _, want := range tc.log {
				if !strings.Contains(logs, want) {
					t.Errorf("log has no %s:\n%s", want, logs)
				}
			}
			if tc.log != nil && !strings.Contains(logs, "request_id="+res.header.Get("X-Request-Id")) {
				t.Errorf("log has no request ID:\n%s", logs)
			}
		})
	}
}
