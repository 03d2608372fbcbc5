package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// follow walks the pages of target through h by their Link headers, and returns the IDs and the
// links.
func follow(tb testing.TB, h http.Handler, target, cookie string) (ids, links []string) {
	tb.Helper()
	for range 100 {
		res := serve(tb, h, "GET", target, cookie)
		p := res.page(tb)
		ids = append(ids, p.ids()...)
		link := res.header.Get("Link")
		if link == "" {
			return ids, links
		}
		links = append(links, link)
		target = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	}
	tb.Fatal("more than 100 pages")
	return nil, nil
}

// mountEnv returns an env with three sessions of agent A1, and their IDs.
func mountEnv(tb testing.TB, opts ...func(*Config)) (*env, []string) {
	e := newEnv(tb, opts...)
	return e, e.putSessions(tb, accountA, e.agentA1, 3)
}

// TestMountUnderPrefix checks the handler under http.StripPrefix: routes, links and errors.
func TestMountUnderPrefix(t *testing.T) {
	e, want := mountEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/audit/", http.StripPrefix("/audit", e.h))
	for _, path := range []string{"/audit/api/v1/agents/" + e.agentA1 + "/sessions", "/audit/api/v1/sessions"} {
		ids, links := follow(t, mux, path+"?limit=1", e.cookieA)
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
		for _, l := range links {
			if !strings.HasPrefix(l, "<"+path+"?limit=1&cursor=") {
				t.Errorf("%s: Link %q does not keep the prefix", path, l)
			}
		}
	}
	if res := serve(t, mux, "POST", "/audit/api/v1/sessions", e.cookieA); res.status != 405 {
		t.Errorf("POST: %d", res.status)
	}
	if res := serve(t, mux, "GET", "/audit/api/v1/openapi.yaml", ""); res.status != 200 {
		t.Errorf("openapi.yaml: %d", res.status)
	}
	bare := http.StripPrefix("/audit", e.h) // as a server's whole handler, without a parent mux
	for _, p := range []string{"/audit/api/v1//sessions", "/audit/api/v1/./sessions", "/audit/api/v1/sessions/"} {
		w := httptest.NewRecorder()
		bare.ServeHTTP(w, httptestRequest("GET", p, e.cookieA))
		if w.Code != 404 {
			t.Errorf("%s without a parent mux: %d, Location %q", p, w.Code, w.Header().Get("Location"))
		}
	}
	for _, p := range []string{"/api/v1/sessions", "/audit/api/v1//sessions", "/audit/api/v1/./sessions", "/audit/api/v1/x/../sessions", "/audit/api/v1/sessions/"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptestRequest("GET", p, e.cookieA))
		// 404, or the parent's own redirect, but never a redirect that loses the prefix.
		if loc := w.Header().Get("Location"); w.Code != 404 && !strings.HasPrefix(loc, "/audit/") {
			t.Errorf("%s: %d, Location %q", p, w.Code, w.Header().Get("Location"))
		}
	}
}

// TestMountInParentMux checks the handler inside a parent ServeMux, on a subtree and on the
// parent's own method patterns, beside the parent's other routes.
func TestMountInParentMux(t *testing.T) {
	e, want := mountEnv(t)
	for name, mux := range map[string]*http.ServeMux{
		"subtree": func() *http.ServeMux {
			m := http.NewServeMux()
			m.Handle("/api/v1/", e.h)
			m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
			return m
		}(),
		"patterns": func() *http.ServeMux {
			m := http.NewServeMux()
			m.Handle("GET /api/v1/agents/{id}/sessions", e.h)
			m.Handle("GET /api/v1/sessions", e.h)
			m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
			return m
		}(),
	} {
		for _, path := range []string{"/api/v1/agents/" + e.agentA1 + "/sessions", "/api/v1/sessions"} {
			ids, _ := follow(t, mux, path+"?limit=2", e.cookieA)
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", name, path, diff)
			}
		}
		if res := serve(t, mux, "GET", "/healthz", ""); res.status != 200 {
			t.Errorf("%s: the parent's route: %d", name, res.status)
		}
		if res := serve(t, mux, "HEAD", "/api/v1/sessions", e.cookieA); res.status != 200 || len(res.body) != 0 {
			t.Errorf("%s: HEAD: %d", name, res.status)
		}
	}
}

// botRouter is a router of another shape, with its own path parameters: /bots/ID/calls, and
// /calls. It keeps the ID in the request's context, as routers without PathValue do.
type botRouter struct {
	agentSessions, sessions http.Handler
}

type botIDKey struct{}

func (b botRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "bots" && parts[2] == "calls":
		b.agentSessions.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), botIDKey{}, parts[1])))
	case len(parts) == 1 && parts[0] == "calls":
		b.sessions.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// TestMountInOtherRouter checks the endpoints mounted one by one in a router of another shape,
// with Config.AgentID.
func TestMountInOtherRouter(t *testing.T) {
	e, want := mountEnv(t, func(cfg *Config) {
		cfg.AgentID = func(r *http.Request) string { id, _ := r.Context().Value(botIDKey{}).(string); return id }
	})
	router := botRouter{agentSessions: e.h.AgentSessions(), sessions: e.h.Sessions()}
	for _, path := range []string{"/bots/" + e.agentA1 + "/calls", "/calls"} {
		ids, links := follow(t, router, path+"?limit=1", e.cookieA)
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
		for _, l := range links {
			if !strings.HasPrefix(l, "<"+path+"?limit=1&cursor=") {
				t.Errorf("%s: Link %q", path, l)
			}
		}
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/bots/" + e.agentB1 + "/calls", 404},
		{"GET", "/bots/nope/calls", 404},
		{"GET", "/bots//calls", 500}, // no agent ID: a configuration error, never the whole account
		{"DELETE", "/bots/" + e.agentA1 + "/calls", 405},
		{"HEAD", "/calls", 200},
	} {
		if res := serve(t, router, tc.method, tc.path, e.cookieA); res.status != tc.status {
			t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, res.status, tc.status, res.body)
		}
	}
	// A cursor of one route is valid on the other mounting of the same endpoint.
	cursor := serve(t, router, "GET", "/bots/"+e.agentA1+"/calls?limit=1", e.cookieA).page(t).NextCursor
	if res := serve(t, e.h.AgentSessions(), "GET", "/anything?cursor="+cursor, e.cookieA); res.status != 500 {
		t.Errorf("without an agent ID, with a cursor of an agent: %d, want the configuration error", res.status)
	}
	if res := serve(t, router, "GET", "/calls?cursor="+cursor, e.cookieA); res.status != 422 {
		t.Errorf("agent cursor on /calls: %d", res.status)
	}
	if res := serve(t, e.h.OpenAPI(), "GET", "/docs", ""); res.status != 200 {
		t.Errorf("OpenAPI(): %d", res.status)
	}
}

// TestLinkIsEscaped checks that the Link header cannot be broken by the request's path.
func TestLinkIsEscaped(t *testing.T) {
	e, _ := mountEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/a/", http.StripPrefix("/a/x>y", e.h))
	r := httptestRequest("GET", "/a/x>y/api/v1/sessions?limit=1", e.cookieA)
	res := serveRequest(t, mux, r)
	if link := res.header.Get("Link"); !strings.HasPrefix(link, "</a/x%3Ey/api/v1/sessions?limit=1&cursor=") {
		t.Errorf("Link %q", link)
	}
}

// TestLinkPath checks the path of the Link header for a request in absolute form (through a
// proxy) and for a request made in-process, which has no RequestURI.
func TestLinkPath(t *testing.T) {
	e, _ := mountEnv(t)
	absolute := httptestRequest("GET", "http://example.com/api/v1/sessions?limit=1", e.cookieA)
	inProcess, err := http.NewRequest("GET", "http://example.com/api/v1/sessions?limit=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	inProcess.Header.Set("Cookie", e.cookieA)
	for name, r := range map[string]*http.Request{"absolute": absolute, "in-process": inProcess} {
		res := serveRequest(t, e.h, r)
		if link := res.header.Get("Link"); !strings.HasPrefix(link, "</api/v1/sessions?limit=1&cursor=") {
			t.Errorf("%s (RequestURI %q): Link %q", name, r.RequestURI, link)
		}
	}
}

// TestLinkReplacesAnEscapedCursor checks that the Link of a page asked for with the cursor's name
// percent-encoded (%63ursor) carries the next cursor alone, and can be followed.
func TestLinkReplacesAnEscapedCursor(t *testing.T) {
	e := newEnv(t)
	e.putMany(t, 5)
	first := e.do(t, "GET", "/api/v1/sessions?since=30d&limit=2", e.cookieA).page(t)
	res := e.do(t, "GET", "/api/v1/sessions?since=30d&limit=2&%63ursor="+first.NextCursor, e.cookieA)
	link := res.header.Get("Link")
	if strings.Count(link, "ursor=") != 1 || strings.Contains(link, "%63ursor") {
		t.Fatalf("Link %q: want one cursor", link)
	}
	next, _, _ := strings.Cut(strings.TrimPrefix(link, "<"), ">")
	if res := e.do(t, "GET", next, e.cookieA); res.status != http.StatusOK {
		t.Errorf("following the Link: status %d: %s", res.status, res.body)
	}
}
