package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// recorder is a slog.Handler that keeps the records it is given.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// accessLines returns the access-log lines recorded, each as its attributes (the duration
// replaced by its kind), and forgets every record.
func (r *recorder) accessLines(tb testing.TB) []map[string]any {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, rec := range r.records {
		if rec.Message != "httpapi: request" {
			continue
		}
		if rec.Level != slog.LevelInfo {
			tb.Errorf("access line at level %s", rec.Level)
		}
		line := map[string]any{}
		rec.Attrs(func(a slog.Attr) bool {
			v := a.Value.Resolve()
			switch v.Kind() {
			case slog.KindDuration:
				if v.Duration() < 0 {
					tb.Errorf("negative duration %s", v.Duration())
				}
				line[a.Key] = "duration"
			case slog.KindInt64:
				line[a.Key] = int(v.Int64())
			default:
				line[a.Key] = v.String()
			}
			return true
		})
		out = append(out, line)
	}
	r.records = nil
	return out
}

// TestAccessLog checks the one access line of each request: its request ID, method, route
// pattern (never the path with its IDs), status, duration and rows, through the whole Handler,
// under a prefix, and through the endpoints mounted one by one.
func TestAccessLog(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, func(cfg *Config) {
		cfg.Logger = slog.New(rec)
		cfg.DisableAccessLog = false
	})
	ids := e.putSessions(t, accountA, e.agentA1, 3)
	prefixed := http.NewServeMux()
	prefixed.Handle("/audit/", http.StripPrefix("/audit", e.h))
	// A parent ServeMux with its own patterns: the line names the handler's route.
	parent := http.NewServeMux()
	parent.Handle("GET /api/v1/agents/{id}/sessions", e.h)
	agentAlone := setPathValue(e.h.AgentSessions(), "agent_id", e.agentA1)
	sessionAlone := setPathValue(e.h.Session(), "session_id", ids[0])
	const ownID = "0f8fad5b-d9cb-469f-a165-70867728950e"

	line := func(method, route string, status, rows int) map[string]any {
		return map[string]any{"request_id": "", "method": method, "route": route, "status": status, "duration": "duration", "rows": rows}
	}
	for _, tc := range []struct {
		name      string
		h         http.Handler
		method    string
		target    string
		cookie    string
		requestID string
		want      map[string]any
	}{
		{"agent page", e.h, "GET", "/api/v1/agents/" + e.agentA1 + "/sessions?limit=2", e.cookieA, "", line("GET", routeAgentSessions, 200, 2)},
		{"account page", e.h, "GET", "/api/v1/sessions", e.cookieA, "", line("GET", routeSessions, 200, 3)},
		{"HEAD", e.h, "HEAD", "/api/v1/sessions?limit=1", e.cookieA, "", line("HEAD", routeSessions, 200, 1)},
		{"one session", e.h, "GET", "/api/v1/sessions/" + ids[1], e.cookieA, "", line("GET", routeSession, 200, 1)},
		{"unknown session", e.h, "GET", "/api/v1/sessions/sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", e.cookieA, "", line("GET", routeSession, 404, 0)},
		{"unauthenticated", e.h, "GET", "/api/v1/agents/" + e.agentA1 + "/sessions", "", "", line("GET", routeAgentSessions, 401, 0)},
		{"invalid", e.h, "GET", "/api/v1/sessions?limit=0", e.cookieA, "", line("GET", routeSessions, 422, 0)},
		{"method", e.h, "DELETE", "/api/v1/sessions", e.cookieA, "", line("DELETE", routeSessions, 405, 0)},
		{"document", e.h, "GET", "/api/v1/openapi.yaml", "", "", line("GET", routeOpenAPI, 200, 0)},
		{"export", e.h, "GET", "/api/v1/sessions/export", e.cookieA, "", line("GET", routeExport, 200, 3)},
		{"no route", e.h, "GET", "/api/v1/agents", e.cookieA, "", line("GET", "", 404, 0)},
		{"own request ID", e.h, "GET", "/api/v1/sessions?limit=1", e.cookieA, ownID, line("GET", routeSessions, 200, 1)},
		{"under a prefix", prefixed, "GET", "/audit/api/v1/agents/" + e.agentA1 + "/sessions", e.cookieA, "", line("GET", routeAgentSessions, 200, 3)},
		{"in a parent mux", parent, "GET", "/api/v1/agents/" + e.agentA1 + "/sessions", e.cookieA, "", line("GET", routeAgentSessions, 200, 3)},
		{"agent route alone", agentAlone, "GET", "/bots/x/calls?limit=1", e.cookieA, "", line("GET", routeAgentSessions, 200, 1)},
		{"session route alone", sessionAlone, "GET", "/calls/x", e.cookieA, "", line("GET", routeSession, 200, 1)},
		{"sessions route alone", e.h.Sessions(), "GET", "/calls", e.cookieA, "", line("GET", routeSessions, 200, 3)},
		{"document alone", e.h.OpenAPI(), "GET", "/docs", "", "", line("GET", routeOpenAPI, 200, 0)},
		{"misconfigured router", e.h.AgentSessions(), "GET", "/bots/" + e.agentA1 + "/calls", e.cookieA, "", line("GET", routeAgentSessions, 500, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptestRequest(tc.method, tc.target, tc.cookie)
			if tc.requestID != "" {
				r.Header.Set("X-Request-Id", tc.requestID)
			}
			res := serveRequest(t, tc.h, r)
			got := rec.accessLines(t)
			tc.want["request_id"] = res.header.Get("X-Request-Id")
			if tc.want["request_id"] == "" { // net/http's 404 has no request ID: the line has the one made for it
				if len(got) == 1 && isRequestID(got[0]["request_id"].(string)) {
					tc.want["request_id"] = got[0]["request_id"]
				}
			}
			if tc.requestID != "" && tc.want["request_id"] != tc.requestID {
				t.Errorf("the request's own ID %q was not kept: %q", tc.requestID, tc.want["request_id"])
			}
			if diff := cmp.Diff([]map[string]any{tc.want}, got); diff != "" {
				t.Errorf("access lines (-want +got):\n%s", diff)
			}
			for _, l := range got {
				for _, id := range append([]string{e.agentA1}, ids...) {
					if strings.Contains(l["route"].(string), id) {
						t.Errorf("the route %q has an ID", l["route"])
					}
				}
			}
		})
	}
}

// TestAccessLogAbortedExport checks the line of an export that the store fails after its first
// byte: status 0 (the response was aborted, whatever status line went out before), with the rows
// sent; and that the handler still panics with http.ErrAbortHandler, so that net/http aborts the
// connection and the client sees a broken transfer.
func TestAccessLogAbortedExport(t *testing.T) {
	// abortingEnv returns an env of 1000 sessions whose store fails its sixth page: the first
	// five, of MaxLimit sessions each, go out (more than the encoder buffers).
	abortingEnv := func(t *testing.T) (*env, *recorder) {
		rec := &recorder{}
		fs, _ := failingList(6, errors.New("corrupt page"))
		e := newEnv(t, withStore(fs), func(cfg *Config) {
			cfg.Logger = slog.New(rec)
			cfg.DisableAccessLog = false
		})
		e.putMany(t, 1000) // A1 has 666 of them
		return e, rec
	}
	want := func(route, requestID string) []map[string]any {
		return []map[string]any{{"request_id": requestID, "method": "GET", "route": route, "status": 0, "duration": "duration", "rows": 5 * sessions.MaxLimit}}
	}

	t.Run("over a connection", func(t *testing.T) {
		e, rec := abortingEnv(t)
		srv := httptest.NewServer(e.h)
		defer srv.Close()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/sessions/export?since=30d", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", e.cookieA)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || len(body) == 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("status %d, %d bytes, %v: want 200, some bytes, then io.ErrUnexpectedEOF", res.StatusCode, len(body), err)
		}
		// The line is logged before the panic reaches net/http, which then closes the connection.
		if diff := cmp.Diff(want(routeExport, res.Header.Get("X-Request-Id")), rec.accessLines(t)); diff != "" {
			t.Errorf("access lines (-want +got):\n%s", diff)
		}
	})

	for _, tc := range []struct {
		name   string
		h      func(e *env) http.Handler
		target string
		route  string
	}{
		{"handler", func(e *env) http.Handler { return e.h }, "/api/v1/sessions/export?since=30d", routeExport},
		{"export alone", func(e *env) http.Handler { return e.h.Export() }, "/calls.csv?since=30d&format=ndjson", routeExport},
		{"agent export alone", func(e *env) http.Handler {
			return setPathValue(e.h.AgentExport(), "agent_id", e.agentA1)
		}, "/bots/x/calls.csv?since=30d", routeAgentExport},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := abortingEnv(t)
			w := httptest.NewRecorder()
			func() {
				defer func() {
					if v := recover(); v != http.ErrAbortHandler {
						t.Errorf("recovered %v, want http.ErrAbortHandler", v)
					}
				}()
				tc.h(e).ServeHTTP(w, httptestRequest("GET", tc.target, e.cookieA))
				t.Error("the export did not abort")
			}()
			if w.Code != http.StatusOK || w.Body.Len() == 0 {
				t.Errorf("status %d, %d bytes before the abort: the test does not abort midway", w.Code, w.Body.Len())
			}
			if diff := cmp.Diff(want(tc.route, w.Header().Get("X-Request-Id")), rec.accessLines(t)); diff != "" {
				t.Errorf("access lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAccessLogOff checks that Config.DisableAccessLog turns the access line off, and nothing
// else: the configuration error is still logged.
func TestAccessLogOff(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, func(cfg *Config) {
		cfg.Logger = slog.New(rec)
		cfg.DisableAccessLog = true
	})
	for _, h := range []http.Handler{e.h, e.h.Sessions(), e.h.AgentSessions()} {
		serve(t, h, "GET", "/api/v1/sessions", e.cookieA)
	}
	if !strings.Contains(recordMessages(rec), "httpapi: configuration error") {
		t.Error("the configuration error was not logged")
	}
	if got := rec.accessLines(t); len(got) != 0 {
		t.Errorf("access lines with the log off: %v", got)
	}
}

// recordMessages returns the messages of the records kept, one a line.
func recordMessages(r *recorder) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.records {
		b.WriteString(rec.Message + "\n")
	}
	return b.String()
}
