package compat

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/masker-dev/sessions/compat/internal/fixture"
	"github.com/masker-dev/sessions/httpapi"
)

// The mountings of the README, one per router: each serves the endpoints under /audit on the
// router's own routes. They are copied into the README as they are here.

// ginHandler adapts an http.Handler to gin, passing gin's path parameters on with
// r.SetPathValue, where the handler reads them.
func ginHandler(h http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		for _, p := range c.Params {
			c.Request.SetPathValue(p.Key, p.Value)
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

func ginRouter(api *httpapi.Handler) http.Handler {
	r := gin.New()
	audit := r.Group("/audit")
	audit.GET("/agents/:agent_id/sessions", ginHandler(api.AgentSessions()))
	audit.GET("/sessions", ginHandler(api.Sessions()))
	audit.GET("/sessions/:session_id", ginHandler(api.Session()))
	return r
}

// echoHandler adapts an http.Handler to echo, passing echo's path parameters on with
// r.SetPathValue, where the handler reads them.
func echoHandler(h http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		for i, name := range c.ParamNames() {
			r.SetPathValue(name, c.ParamValues()[i])
		}
		h.ServeHTTP(c.Response(), r)
		return nil
	}
}

func echoRouter(api *httpapi.Handler) http.Handler {
	e := echo.New()
	audit := e.Group("/audit")
	audit.GET("/agents/:agent_id/sessions", echoHandler(api.AgentSessions()))
	audit.GET("/sessions", echoHandler(api.Sessions()))
	audit.GET("/sessions/:session_id", echoHandler(api.Session()))
	return e
}

// chiConfig reads chi's path parameters with chi.URLParam.
func chiConfig(cfg *httpapi.Config) {
	cfg.AgentID = func(r *http.Request) string { return chi.URLParam(r, "agent_id") }
	cfg.SessionID = func(r *http.Request) string { return chi.URLParam(r, "session_id") }
}

func chiRouter(api *httpapi.Handler) http.Handler {
	r := chi.NewRouter()
	r.Route("/audit", func(r chi.Router) {
		r.Get("/agents/{agent_id}/sessions", api.AgentSessions().ServeHTTP)
		r.Get("/sessions", api.Sessions().ServeHTTP)
		r.Get("/sessions/{session_id}", api.Session().ServeHTTP)
	})
	return r
}

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// server starts router(api) over a store of n sessions, and returns its URL, the sessions' IDs
// in list order and the handler's log.
func server(tb testing.TB, n int, router func(*httpapi.Handler) http.Handler, opts ...func(*httpapi.Config)) (string, []string, *logBuffer) {
	tb.Helper()
	store, ss := fixture.Store(tb, n)
	logs := &logBuffer{}
	cfg := fixture.Config(store, slog.New(slog.NewTextHandler(logs, nil)))
	for _, o := range opts {
		o(&cfg)
	}
	api, err := httpapi.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(router(api))
	tb.Cleanup(srv.Close)
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return srv.URL, ids, logs
}

// response is an answer of the handler, decoded.
type response struct {
	status int
	header http.Header
	Data   []struct {
		ID string `json:"id"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
	Session    struct {
		ID string `json:"id"`
	} `json:"session"`
	Error struct {
		Code      string `json:"code"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

// get requests url with the fixture's token.
func get(tb testing.TB, url string) response {
	tb.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+fixture.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	out := response{status: res.StatusCode, header: res.Header}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		tb.Fatalf("GET %s: %d, %v", url, res.StatusCode, err)
	}
	return out
}

// walk pages through the list at base+path, following the Link header, and returns the IDs of
// each page. It checks that next_cursor and the Link header agree.
func walk(tb testing.TB, base, path string) [][]string {
	tb.Helper()
	var pages [][]string
	for target := path; target != ""; {
		res := get(tb, base+target)
		if res.status != http.StatusOK {
			tb.Fatalf("GET %s: %d %s", target, res.status, res.Error.Code)
		}
		var ids []string
		for _, d := range res.Data {
			ids = append(ids, d.ID)
		}
		pages = append(pages, ids)
		link := res.header.Get("Link")
		target = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		if (res.NextCursor != nil) != (link != "") || link != "" && !strings.HasSuffix(target, "cursor="+*res.NextCursor) {
			tb.Fatalf("GET %s: next_cursor %v, Link %q", path, res.NextCursor, link)
		}
		if len(pages) > 10 {
			tb.Fatal("more than 10 pages")
		}
	}
	return pages
}

// TestRoutersPage checks that gin, echo and chi, mounted as the README shows, each page through
// 3 pages of sessions on both lists, and serve one session.
func TestRoutersPage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		router func(*httpapi.Handler) http.Handler
		opts   []func(*httpapi.Config)
	}{
		{"gin", ginRouter, nil},
		{"echo", echoRouter, nil},
		{"chi", chiRouter, []func(*httpapi.Config){chiConfig}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, ids, logs := server(t, 7, tc.router, tc.opts...)
			want := [][]string{ids[0:3], ids[3:6], ids[6:7]}
			for _, path := range []string{"/audit/agents/" + fixture.AgentID + "/sessions?limit=3", "/audit/sessions?limit=3"} {
				if diff := cmp.Diff(want, walk(t, base, path)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", path, diff)
				}
			}
			if res := get(t, base+"/audit/sessions/"+ids[4]); res.status != http.StatusOK || res.Session.ID != ids[4] {
				t.Errorf("one session: %d %q", res.status, res.Session.ID)
			}
			if res := get(t, base+"/audit/agents/agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFB/sessions"); res.status != http.StatusNotFound || res.Error.Code != "agent_not_found" {
				t.Errorf("unknown agent: %d %q", res.status, res.Error.Code)
			}
			if l := logs.String(); strings.Contains(l, "level=ERROR") {
				t.Errorf("errors logged:\n%s", l)
			}
		})
	}
}

// TestWholeHandlerInRouters checks the other way to mount: the whole Handler on a wildcard route
// of each router, which routes the request itself and needs no adapter.
func TestWholeHandlerInRouters(t *testing.T) {
	for name, router := range map[string]func(*httpapi.Handler) http.Handler{
		"gin": func(api *httpapi.Handler) http.Handler {
			r := gin.New()
			r.Any("/api/v1/*path", gin.WrapH(api))
			return r
		},
		"echo": func(api *httpapi.Handler) http.Handler {
			e := echo.New()
			e.Any("/api/v1/*", echo.WrapHandler(api))
			return e
		},
		"chi": func(api *httpapi.Handler) http.Handler {
			r := chi.NewRouter()
			r.Handle("/api/v1/*", api)
			return r
		},
	} {
		t.Run(name, func(t *testing.T) {
			base, ids, _ := server(t, 7, router)
			want := [][]string{ids[0:3], ids[3:6], ids[6:7]}
			if diff := cmp.Diff(want, walk(t, base, "/api/v1/agents/"+fixture.AgentID+"/sessions?limit=3")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMisconfiguredRouters checks that the one-liners that do not pass the path parameter on
// (gin.WrapH, echo.WrapHandler, chi without Config.AgentID) get 500 internal_error, never a 404
// for every agent, and a log line that names the fix, with the request ID.
func TestMisconfiguredRouters(t *testing.T) {
	for name, router := range map[string]func(*httpapi.Handler) http.Handler{
		"gin.WrapH": func(api *httpapi.Handler) http.Handler {
			r := gin.New()
			r.GET("/audit/agents/:agent_id/sessions", gin.WrapH(api.AgentSessions()))
			return r
		},
		"echo.WrapHandler": func(api *httpapi.Handler) http.Handler {
			e := echo.New()
			e.GET("/audit/agents/:agent_id/sessions", echo.WrapHandler(api.AgentSessions()))
			return e
		},
		"chi without AgentID, parameter named id": func(api *httpapi.Handler) http.Handler {
			r := chi.NewRouter()
			r.Get("/audit/agents/{id}/sessions", api.AgentSessions().ServeHTTP)
			return r
		},
	} {
		t.Run(name, func(t *testing.T) {
			base, _, logs := server(t, 3, router)
			res := get(t, base+"/audit/agents/"+fixture.AgentID+"/sessions")
			if res.status != http.StatusInternalServerError || res.Error.Code != "internal_error" {
				t.Fatalf("%d %q, want 500 internal_error", res.status, res.Error.Code)
			}
			l := logs.String()
			for _, want := range []string{"level=ERROR", "httpapi: configuration error", `r.SetPathValue(\"agent_id\", value)`, "Config.AgentID", "request_id=" + res.Error.RequestID} {
				if !strings.Contains(l, want) {
					t.Errorf("log has no %s:\n%s", want, l)
				}
			}
		})
	}
}

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no route listing on stdout
	os.Exit(m.Run())
}
