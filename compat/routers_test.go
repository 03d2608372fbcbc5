package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
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
// router's own routes, for every method. TestREADMEMountings checks that the README shows them
// as they are here.

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

// ginRouter mounts the routes for every method (Any): the handler authenticates first, then
// answers HEAD, and other methods 405 with Allow, in its envelope and access log.
func ginRouter(api *httpapi.Handler) http.Handler {
	r := gin.New()
	audit := r.Group("/audit")
	audit.Any("/agents/:agent_id/sessions", ginHandler(api.AgentSessions()))
	audit.Any("/sessions", ginHandler(api.Sessions()))
	audit.Any("/sessions/:session_id", ginHandler(api.Session()))
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

// echoRouter mounts the routes for every method (Any), as ginRouter does.
func echoRouter(api *httpapi.Handler) http.Handler {
	e := echo.New()
	audit := e.Group("/audit")
	audit.Any("/agents/:agent_id/sessions", echoHandler(api.AgentSessions()))
	audit.Any("/sessions", echoHandler(api.Sessions()))
	audit.Any("/sessions/:session_id", echoHandler(api.Session()))
	return e
}

// chiConfig reads chi's path parameters with chi.URLParam.
func chiConfig(cfg *httpapi.Config) {
	cfg.AgentID = func(r *http.Request) string { return chi.URLParam(r, "agent_id") }
	cfg.SessionID = func(r *http.Request) string { return chi.URLParam(r, "session_id") }
}

// chiRouter mounts the routes for every method (Handle), as ginRouter does.
func chiRouter(api *httpapi.Handler) http.Handler {
	r := chi.NewRouter()
	r.Route("/audit", func(r chi.Router) {
		r.Handle("/agents/{agent_id}/sessions", api.AgentSessions())
		r.Handle("/sessions", api.Sessions())
		r.Handle("/sessions/{session_id}", api.Session())
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
	return send(tb, http.MethodGet, url, fixture.Token)
}

// send requests url with method, and with token as its bearer token unless it is "", and
// decodes the answer (a body that is not JSON is an error of the test, which goes on). The answer
// to HEAD must have no body, and is not decoded.
func send(tb testing.TB, method, url, token string) response {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	out := response{status: res.StatusCode, header: res.Header}
	if method == http.MethodHead {
		if body, err := io.ReadAll(res.Body); err != nil || len(body) != 0 {
			tb.Fatalf("HEAD %s: %d, a body of %d bytes, %v", url, res.StatusCode, len(body), err)
		}
		return out
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		tb.Errorf("%s %s: %d, a body that is not JSON: %v", method, url, res.StatusCode, err)
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

// mounting is one of the README's mountings: a router, and what the handler's Config needs under it.
type mounting struct {
	name   string
	router func(*httpapi.Handler) http.Handler
	opts   []func(*httpapi.Config)
}

// mountings are the README's mountings, one per router.
var mountings = []mounting{
	{"gin", ginRouter, nil},
	{"echo", echoRouter, nil},
	{"chi", chiRouter, []func(*httpapi.Config){chiConfig}},
}

// TestRoutersPage checks that gin, echo and chi, mounted as the README shows, each page through
// 3 pages of sessions on both lists, and serve one session.
func TestRoutersPage(t *testing.T) {
	for _, tc := range mountings {
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

// TestRoutersMethods checks that under gin, echo and chi, mounted as the README shows, the
// handler answers every method of each route itself, as the contract says: HEAD like GET without
// a body, other methods 405 with Allow in its envelope, and a request without credentials 401
// whatever its method; each with X-Request-Id and an access-log line. A route registered for GET
// alone left them to the router: a 404 from gin, echo's own 405 body, chi's Allow: GET.
func TestRoutersMethods(t *testing.T) {
	for _, tc := range mountings {
		t.Run(tc.name, func(t *testing.T) {
			base, ids, logs := server(t, 3, tc.router, tc.opts...)
			for _, rt := range []struct{ path, route string }{
				{"/audit/agents/" + fixture.AgentID + "/sessions", "/api/v1/agents/{agent_id}/sessions"},
				{"/audit/sessions", "/api/v1/sessions"},
				{"/audit/sessions/" + ids[1], "/api/v1/sessions/{session_id}"},
			} {
				for _, rq := range []struct {
					method, token string
					status        int
					code          string // the envelope's; "" for a success
				}{
					{http.MethodHead, fixture.Token, http.StatusOK, ""},
					{http.MethodPost, fixture.Token, http.StatusMethodNotAllowed, "method_not_allowed"},
					{http.MethodPut, fixture.Token, http.StatusMethodNotAllowed, "method_not_allowed"},
					{http.MethodDelete, "", http.StatusUnauthorized, "unauthenticated"},
					{http.MethodPost, "", http.StatusUnauthorized, "unauthenticated"},
					{http.MethodHead, "", http.StatusUnauthorized, ""}, // no body to hold the code
				} {
					what := fmt.Sprintf("%s %s (token %t)", rq.method, rt.path, rq.token != "")
					res := send(t, rq.method, base+rt.path, rq.token)
					id := res.header.Get("X-Request-Id")
					if res.status != rq.status || res.Error.Code != rq.code || id == "" {
						t.Errorf("%s: %d %q, X-Request-Id %q; want %d %q", what, res.status, res.Error.Code, id, rq.status, rq.code)
						continue
					}
					if ct := res.header.Get("Content-Type"); ct != "application/json" {
						t.Errorf("%s: Content-Type %q", what, ct)
					}
					if rq.code != "" && res.Error.RequestID != id {
						t.Errorf("%s: request_id %q, X-Request-Id %q", what, res.Error.RequestID, id)
					}
					allow := res.header.Get("Allow")
					if want := map[bool]string{true: "GET, HEAD"}[rq.status == http.StatusMethodNotAllowed]; allow != want {
						t.Errorf("%s: Allow %q, want %q", what, allow, want)
					}
					line := fmt.Sprintf(`msg="httpapi: request" request_id=%s method=%s route=%s status=%d `, id, rq.method, rt.route, rq.status)
					if !strings.Contains(logs.String(), line) {
						t.Errorf("%s: no access line %s in the log:\n%s", what, line, logs)
					}
				}
			}
		})
	}
}

// TestREADMEMountings checks that the README's section on gin, echo and chi shows the mountings
// that this file tests: the code of each adapter and router function, in one piece, the chi
// configuration, and no route registration that this file does not make.
func TestREADMEMountings(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Mounting in gin, echo and chi\n")
	if !ok {
		t.Fatal("README.md has no section Mounting in gin, echo and chi")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var shown []string // the lines of the section's Go code, trimmed, without comments
	for i, block := range strings.Split(section, "```") {
		if i%2 == 1 && strings.HasPrefix(block, "go\n") {
			shown = append(shown, codeLines(block[len("go\n"):])...)
		}
	}

	src, err := os.ReadFile("routers_test.go")
	if err != nil {
		t.Fatal(err)
	}
	file, err := parser.ParseFile(token.NewFileSet(), "routers_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]*ast.FuncDecl{}
	for _, d := range file.Decls {
		if f, ok := d.(*ast.FuncDecl); ok {
			funcs[f.Name.Name] = f
		}
	}
	offset := func(p token.Pos) int { return int(p - file.FileStart) }
	var tested []string
	for _, name := range []string{"ginHandler", "ginRouter", "echoHandler", "echoRouter", "chiRouter"} {
		f := funcs[name]
		if f == nil {
			t.Fatalf("no function %s", name)
		}
		var code []string
		if strings.HasSuffix(name, "Handler") { // the whole function
			code = codeLines(string(src[offset(f.Pos()):offset(f.End())]))
		} else { // what it registers, without making the router and returning it
			for _, l := range codeLines(string(src[offset(f.Body.Lbrace)+1 : offset(f.Body.Rbrace)])) {
				if !strings.HasPrefix(l, "return ") && !strings.HasSuffix(l, ".New()") && l != "r := chi.NewRouter()" {
					code = append(code, l)
				}
			}
		}
		tested = append(tested, code...)
		if !containsRun(shown, code) {
			t.Errorf("the README does not show %s as it is tested:\n%s", name, strings.Join(code, "\n"))
		}
	}
	for _, l := range codeLines(string(src[offset(funcs["chiConfig"].Body.Lbrace)+1 : offset(funcs["chiConfig"].Body.Rbrace)])) {
		field, value, _ := strings.Cut(strings.TrimPrefix(l, "cfg."), " = ")
		want := strings.Join(strings.Fields(field+": "+value+","), " ")
		if !slices.ContainsFunc(shown, func(s string) bool { return strings.Join(strings.Fields(s), " ") == want }) {
			t.Errorf("the README's chi configuration has no %s", want)
		}
	}
	registration := regexp.MustCompile(`^(audit|r|e)\.[A-Z][A-Za-z]*\("/`)
	for _, l := range shown {
		if registration.MatchString(l) && !slices.Contains(tested, l) {
			t.Errorf("the README registers a route that no test does: %s", l)
		}
	}
}

// codeLines returns the lines of Go code in src, trimmed, without blank lines and comments.
func codeLines(src string) []string {
	var out []string
	for _, l := range strings.Split(src, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
			out = append(out, l)
		}
	}
	return out
}

// containsRun reports whether run is found in lines in one piece.
func containsRun(lines, run []string) bool {
	for i := 0; i+len(run) <= len(lines); i++ {
		if slices.Equal(lines[i:i+len(run)], run) {
			return true
		}
	}
	return false
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
