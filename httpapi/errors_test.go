package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// faultyStore is a store whose GetAgent and ListSessions can be replaced.
type faultyStore struct {
	sessions.Store
	get  func(ctx context.Context, accountID, agentID string) (sessions.Agent, error)
	list func(ctx context.Context, f sessions.Filter) (sessions.Page, error)
}

func (s *faultyStore) GetAgent(ctx context.Context, accountID, agentID string) (sessions.Agent, error) {
	if s.get != nil {
		return s.get(ctx, accountID, agentID)
	}
	return s.Store.GetAgent(ctx, accountID, agentID)
}

func (s *faultyStore) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	if s.list != nil {
		return s.list(ctx, f)
	}
	return s.Store.ListSessions(ctx, f)
}

// withStore wraps the env's store in a faultyStore.
func withStore(fs *faultyStore) func(*Config) {
	return func(cfg *Config) {
		fs.Store = cfg.Store
		cfg.Store = fs
	}
}

// TestErrorTable checks every row of the error table: status, code, headers and the logging
// of internal errors and outages.
func TestErrorTable(t *testing.T) {
	failing := func(err error) *faultyStore {
		return &faultyStore{list: func(context.Context, sessions.Filter) (sessions.Page, error) { return sessions.Page{}, err }}
	}
	dbErr := errors.New("pq: relation sessions_secret does not exist")
	for _, tc := range []struct {
		name     string
		store    *faultyStore
		method   string
		path     string // %s is agent A1
		cookie   string
		status   int
		code     string
		header   map[string]string
		log      []string // substrings of the log
		noDetail bool
	}{
		{name: "no cookie", path: "/api/v1/agents/%s/sessions", status: 401, code: "unauthenticated"},
		{name: "empty cookie", path: "/api/v1/agents/%s/sessions", cookie: "masker_session=", status: 401, code: "unauthenticated"},
		{name: "bad cookie", path: "/api/v1/sessions", cookie: "masker_session=forged", status: 401, code: "unauthenticated"},
		{name: "other cookie name", path: "/api/v1/sessions", cookie: "session=token-a", status: 401, code: "unauthenticated"},
		{name: "unknown agent", path: "/api/v1/agents/agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFZ/sessions", cookie: "masker_session=token-a", status: 404, code: "agent_not_found"},
		{name: "bad since", path: "/api/v1/agents/%s/sessions?since=yesterday", cookie: "masker_session=token-a", status: 422, code: "validation_failed"},
		{name: "POST", method: "POST", path: "/api/v1/agents/%s/sessions", cookie: "masker_session=token-a", status: 405, code: "method_not_allowed",
			header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "store unavailable", store: failing(fmt.Errorf("dial tcp: %w", sessions.ErrUnavailable)), path: "/api/v1/sessions", cookie: "masker_session=token-a",
			status: 503, code: "unavailable", header: map[string]string{"Retry-After": "5"}, log: []string{"level=WARN", "dial tcp"}},
		{name: "store deadline", store: failing(context.DeadlineExceeded), path: "/api/v1/agents/%s/sessions", cookie: "masker_session=token-a",
			status: 503, code: "unavailable", header: map[string]string{"Retry-After": "5"}},
		{name: "authenticator unavailable", path: "/api/v1/sessions", cookie: "masker_session=token-down",
			status: 503, code: "unavailable", header: map[string]string{"Retry-After": "5"}},
		{name: "store error", store: failing(dbErr), path: "/api/v1/agents/%s/sessions", cookie: "masker_session=token-a",
			status: 500, code: "internal_error", log: []string{"level=ERROR", "relation sessions_secret", "method=GET", "path=/api/v1/agents/"}},
		{name: "authenticator error", path: "/api/v1/sessions", cookie: "masker_session=token-broken",
			status: 500, code: "internal_error", log: []string{"level=ERROR", "corrupt row"}},
		{name: "store panic", store: &faultyStore{list: func(context.Context, sessions.Filter) (sessions.Page, error) { panic("boom in store") }},
			path: "/api/v1/sessions", cookie: "masker_session=token-a", status: 500, code: "internal_error", log: []string{"level=ERROR", "boom in store", "stack="}},
		{name: "store canceled without client leaving", store: failing(context.Canceled), path: "/api/v1/sessions", cookie: "masker_session=token-a",
			status: 500, code: "internal_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*Config)
			if tc.store != nil {
				opts = append(opts, withStore(tc.store))
			}
			e := newEnv(t, opts...)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			path := strings.ReplaceAll(tc.path, "%s", e.agentA1)
			res := e.do(t, method, path, tc.cookie)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			env := res.envelope(t)
			if env.Code != tc.code {
				t.Errorf("code %q, want %q", env.Code, tc.code)
			}
			for k, v := range tc.header {
				if got := res.header.Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			if tc.status != 422 && len(env.Details) != 0 {
				t.Errorf("details %v", env.Details)
			}
			if strings.Contains(string(res.body), "relation") || strings.Contains(string(res.body), "boom") || strings.Contains(string(res.body), "corrupt") {
				t.Errorf("internals in the body: %s", res.body)
			}
			logs := e.logs.String()
			for _, want := range append(tc.log, "") {
				if want == "" {
					continue
				}
				if !strings.Contains(logs, want) {
					t.Errorf("log has no %q:\n%s", want, logs)
				}
			}
			if len(tc.log) > 0 && !strings.Contains(logs, "request_id="+res.header.Get("X-Request-Id")) {
				t.Errorf("log has no request ID %s:\n%s", res.header.Get("X-Request-Id"), logs)
			}
			if len(tc.log) == 0 && tc.status < 500 && logs != "" {
				t.Errorf("a client error was logged:\n%s", logs)
			}
		})
	}
}

// TestPanicKeepsServing checks that the handler recovers a panic in the store or in the
// authenticator, answers 500, and goes on serving.
func TestPanicKeepsServing(t *testing.T) {
	calls := 0
	fs := &faultyStore{}
	fs.list = func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
		calls++
		if calls == 1 {
			panic(fmt.Sprintf("nil map in store %d", calls))
		}
		return fs.Store.ListSessions(ctx, f)
	}
	e := newEnv(t, withStore(fs), func(cfg *Config) {
		auth := cfg.Authenticate
		cfg.Authenticate = func(r *http.Request) (string, error) {
			if r.Header.Get("X-Panic") != "" {
				panic("authenticator panics")
			}
			return auth(r)
		}
	})
	if res := e.do(t, "GET", "/api/v1/sessions", e.cookieA); res.status != 500 {
		t.Fatalf("status %d", res.status)
	}
	if res := e.do(t, "GET", "/api/v1/sessions", e.cookieA); res.status != 200 {
		t.Fatalf("after the panic: status %d", res.status)
	}
	for _, target := range []string{"/api/v1/sessions", "/api/v1/nope", "/api/v1//sessions"} { // a route, no route, an unclean path
		r := httptestRequest("GET", target, e.cookieA)
		r.Header.Set("X-Panic", "1")
		if res := serveRequest(t, e.h, r); res.status != 500 || res.envelope(t).Code != "internal_error" {
			t.Fatalf("authenticator panic on %s: status %d", target, res.status)
		}
	}
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler to go through", v)
			}
		}()
		fs.list = func(context.Context, sessions.Filter) (sessions.Page, error) { panic(http.ErrAbortHandler) }
		e.h.ServeHTTP(httptest.NewRecorder(), httptestRequest("GET", "/api/v1/sessions", e.cookieA))
	}()
}

// TestAuthenticationFirst checks that without a valid credential nothing else is revealed:
// every request gets the same 401, whatever its parameters, agent or cursor.
func TestAuthenticationFirst(t *testing.T) {
	e := newEnv(t)
	e.put(t, session(accountA, e.agentA1, time.Hour), session(accountA, e.agentA1, 2*time.Hour))
	cursor := e.do(t, "GET", "/api/v1/sessions?limit=1", e.cookieA).page(t).NextCursor
	want := withoutRequestID(e.do(t, "GET", "/api/v1/sessions", ""))
	for _, path := range []string{
		"/api/v1/sessions?limit=0&bogus=1&since=never",
		"/api/v1/sessions?cursor=garbage",
		"/api/v1/sessions?cursor=" + cursor,
		"/api/v1/sessions?agent_id=" + e.agentB1,
		"/api/v1/agents/" + e.agentA1 + "/sessions",
		"/api/v1/agents/" + e.agentB1 + "/sessions",
		"/api/v1/agents/agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFZ/sessions",
		"/api/v1/agents/nope/sessions?limit=1000",
		"/api/v1/sessions?" + strings.Repeat("x", 9000),
	} {
		for _, cookie := range []string{"", "masker_session=forged", "masker_session="} {
			res := e.do(t, "GET", path, cookie)
			if diff := cmp.Diff(want, withoutRequestID(res)); res.status != 401 || diff != "" {
				t.Errorf("%s with %q: status %d (-want +got):\n%s", path, cookie, res.status, diff)
			}
		}
	}
	// Not even the methods that a route allows are told before authentication.
	for _, path := range []string{
		"/api/v1/sessions",
		"/api/v1/agents/" + e.agentA1 + "/sessions",
		"/api/v1/sessions/" + sessions.NewSessionID(time.Now()),
		"/api/v1/sessions/summary",
		"/api/v1/agents/" + e.agentA1 + "/sessions/summary",
		"/api/v1/sessions/export",
		"/api/v1/agents/" + e.agentA1 + "/sessions/export",
		"/api/v1/sessions/stream",
		"/api/v1/agents/" + e.agentA1 + "/sessions/stream",
	} {
		for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
			res := e.do(t, method, path, "")
			if diff := cmp.Diff(want, withoutRequestID(res)); res.status != 401 || diff != "" {
				t.Errorf("%s %s without a credential: status %d (-want +got):\n%s", method, path, res.status, diff)
			}
			if res := e.do(t, method, path, e.cookieA); res.status != 405 || res.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s with a credential: status %d, Allow %q; want 405, GET, HEAD", method, path, res.status, res.header.Get("Allow"))
			}
		}
	}
}

// TestAuthenticateEmptyAccount checks that an authenticator that returns no account and no
// error is taken as unauthenticated, and an account ID that no filter accepts as internal.
func TestAuthenticateEmptyAccount(t *testing.T) {
	for _, tc := range []struct {
		account string
		status  int
	}{{"", 401}, {strings.Repeat("a", 300), 500}, {"acct\x00", 500}} {
		e := newEnv(t, func(cfg *Config) {
			cfg.Authenticate = func(*http.Request) (string, error) { return tc.account, nil }
		})
		if res := e.do(t, "GET", "/api/v1/sessions", ""); res.status != tc.status {
			t.Errorf("account %q: status %d, want %d", tc.account, res.status, tc.status)
		}
	}
}

// TestFilterValidateIsTheLastCheck checks that a filter that the root package rejects never
// reaches the store, even a store that does not validate its filters.
func TestFilterValidateIsTheLastCheck(t *testing.T) {
	called := false
	fs := &faultyStore{list: func(context.Context, sessions.Filter) (sessions.Page, error) {
		called = true
		return sessions.Page{Sessions: []sessions.Session{}}, nil
	}}
	e := newEnv(t, withStore(fs), func(cfg *Config) {
		cfg.Authenticate = func(*http.Request) (string, error) { return strings.Repeat("a", sessions.MaxAccountIDLen+1), nil }
	})
	if res := e.do(t, "GET", "/api/v1/sessions", ""); res.status != 500 || called {
		t.Errorf("status %d, store called: %v", res.status, called)
	}
}

// TestAgentNotFoundIsIdentical checks that an unknown agent, a malformed ID and an agent of
// another account give the same 404, on both endpoints, and that the store is not asked about a
// malformed ID.
func TestAgentNotFoundIsIdentical(t *testing.T) {
	asked := []string{}
	fs := &faultyStore{}
	fs.get = func(ctx context.Context, account, agent string) (sessions.Agent, error) {
		asked = append(asked, agent)
		return fs.Store.GetAgent(ctx, account, agent)
	}
	e := newEnv(t, withStore(fs))
	e.put(t, session(accountB, e.agentB1, time.Hour))
	var want string
	for _, agent := range []string{
		"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFZ", // unknown
		e.agentB1,                        // another account's
		"agt_01hyz3n5tv0qw3y0b7vq6j3rfa", // malformed: lower case
		"sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		"nope",
		"%00",
		strings.Repeat("x", 4000),
	} {
		for _, path := range []string{"/api/v1/agents/" + agent + "/sessions", "/api/v1/sessions?agent_id=" + agent} {
			res := e.do(t, "GET", path, e.cookieA)
			if res.status != 404 {
				t.Errorf("%.80s: status %d: %s", path, res.status, res.body)
				continue
			}
			got := withoutRequestID(res)
			if want == "" {
				want = got
			}
			if got != want {
				t.Errorf("%.80s: body %s, want %s", path, got, want)
			}
		}
	}
	if diff := cmp.Diff([]string{"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFZ", "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFZ", e.agentB1, e.agentB1}, asked); diff != "" {
		t.Errorf("agents asked of the store (-want +got):\n%s", diff)
	}
}

// TestStoreTimeout checks that a store that hangs gives 503 once Timeout passes, whether it
// honours its context or not.
func TestStoreTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	for _, tc := range []struct {
		name  string
		store *faultyStore
	}{
		{"honours its context", &faultyStore{list: func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
			<-ctx.Done()
			return sessions.Page{}, sessions.ContextError(ctx)
		}}},
		{"ignores its context", &faultyStore{list: func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
			<-release
			return sessions.Page{}, nil
		}}},
		{"hangs in GetAgent", &faultyStore{get: func(ctx context.Context, _, _ string) (sessions.Agent, error) {
			<-release
			return sessions.Agent{}, nil
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withStore(tc.store), func(cfg *Config) { cfg.Timeout = 50 * time.Millisecond })
			start := time.Now()
			res := e.do(t, "GET", "/api/v1/agents/"+e.agentA1+"/sessions", e.cookieA)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("answered after %s", elapsed)
			}
			if res.status != 503 || res.header.Get("Retry-After") == "" || res.envelope(t).Code != "unavailable" {
				t.Errorf("status %d Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.body)
			}
		})
	}
}

// recordingWriter records whether anything was written.
type recordingWriter struct {
	header  http.Header
	written bool
}

func (w *recordingWriter) Header() http.Header         { return w.header }
func (w *recordingWriter) WriteHeader(int)             { w.written = true }
func (w *recordingWriter) Write(b []byte) (int, error) { w.written = true; return len(b), nil }

// TestClientGone checks that a client that went away gets nothing written, and is logged at
// debug level.
func TestClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fs := &faultyStore{list: func(c context.Context, f sessions.Filter) (sessions.Page, error) {
		cancel() // the client goes away while the store works
		<-c.Done()
		return sessions.Page{}, sessions.ContextError(c)
	}}
	e := newEnv(t, withStore(fs))
	r := httptestRequest("GET", "/api/v1/sessions", e.cookieA).WithContext(ctx)
	w := &recordingWriter{header: http.Header{}}
	e.h.ServeHTTP(w, r)
	if w.written {
		t.Error("a response was written to a client that went away")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "client went away") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestCookieAuth checks CookieAuth on its own.
func TestCookieAuth(t *testing.T) {
	verified := []string{}
	auth := CookieAuth("masker_session", func(ctx context.Context, value string) (string, error) {
		verified = append(verified, value)
		switch value {
		case "empty":
			return "", nil
		case "down":
			return "", sessions.ErrUnavailable
		case "bad":
			return "", ErrUnauthenticated
		}
		return "acct_" + value, nil
	})
	for _, tc := range []struct {
		cookie  string
		account string
		err     error
	}{
		{"", "", ErrUnauthenticated},
		{"other=x", "", ErrUnauthenticated},
		{"masker_session=", "", ErrUnauthenticated},
		{"masker_session=x", "acct_x", nil},
		{"masker_session=empty", "", ErrUnauthenticated},
		{"masker_session=bad", "", ErrUnauthenticated},
		{"masker_session=down", "", sessions.ErrUnavailable},
	} {
		r := httptestRequest("GET", "/", tc.cookie)
		account, err := auth(r)
		if account != tc.account || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%q: %q, %v; want %q, %v", tc.cookie, account, err, tc.account, tc.err)
		}
	}
	if diff := cmp.Diff([]string{"x", "empty", "bad", "down"}, verified); diff != "" {
		t.Errorf("values verified (-want +got):\n%s", diff)
	}
}

// TestNew checks that New refuses an invalid Config and fills in defaults.
func TestNew(t *testing.T) {
	good := func() Config {
		return Config{Store: newEnv(t).store, Authenticate: func(*http.Request) (string, error) { return "a", nil }, CursorKey: testKey('k')}
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		err    string
	}{
		{"valid", func(*Config) {}, ""},
		{"no store", func(c *Config) { c.Store = nil }, "Store is required"},
		{"no authenticator", func(c *Config) { c.Authenticate = nil }, "Authenticate is required"},
		{"short key: taken, with a warning", func(c *Config) { c.CursorKey = []byte("test-key") }, ""},
		{"empty key", func(c *Config) { c.CursorKey = []byte{} }, "CursorKey is empty"},
		{"empty previous key", func(c *Config) { c.PreviousCursorKeys = [][]byte{testKey('p'), {}} }, "PreviousCursorKeys[1] is empty"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Timeout is negative"},
	} {
		cfg := good()
		tc.change(&cfg)
		h, err := New(cfg)
		if tc.err == "" {
			if err != nil || h == nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "httpapi: ") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
	cfg := good()
	if h, _ := New(cfg); h.s.timeout != DefaultTimeout || h.s.now == nil || h.s.logger == nil {
		t.Errorf("defaults not filled in: %+v", h.s)
	}
}

// TestNewWithoutKey checks that New without a CursorKey uses a random key, says so in the log,
// and that its cursors are refused by a handler with another random key.
func TestNewWithoutKey(t *testing.T) {
	var handlers []*env
	for range 2 {
		handlers = append(handlers, newEnv(t, func(cfg *Config) { cfg.CursorKey = nil }))
	}
	for _, e := range handlers {
		if logs := e.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "random key") || !strings.Contains(logs, "restart") {
			t.Errorf("log:\n%s", logs)
		}
	}
	a, b := handlers[0], handlers[1]
	a.put(t, session(accountA, a.agentA1, time.Hour), session(accountA, a.agentA1, 2*time.Hour))
	b.put(t, session(accountA, b.agentA1, time.Hour), session(accountA, b.agentA1, 2*time.Hour))
	cursor := a.do(t, "GET", "/api/v1/sessions?limit=1", a.cookieA).page(t).NextCursor
	if res := a.do(t, "GET", "/api/v1/sessions?cursor="+cursor, a.cookieA); res.status != 200 {
		t.Errorf("own cursor: status %d", res.status)
	}
	if res := b.do(t, "GET", "/api/v1/sessions?cursor="+cursor, b.cookieA); res.status != 422 || res.envelope(t).Details[0].Param != "cursor" {
		t.Errorf("another random key's cursor: status %d: %s", res.status, res.body)
	}
}

// TestUnauthenticatedMessage checks that the 401 message names the credential that CookieAuth
// checks, and that any other Authenticate gets a generic message, whatever its error says.
func TestUnauthenticatedMessage(t *testing.T) {
	const generic = "A valid credential is required."
	verify := func(context.Context, string) (string, error) {
		return "", fmt.Errorf("%w: session 3f0c expired", ErrUnauthenticated)
	}
	for _, tc := range []struct {
		name   string
		auth   func(*http.Request) (string, error)
		cookie string
		want   string
	}{
		{"no cookie", CookieAuth("masker_session", verify), "", "A valid masker_session cookie is required."},
		{"cookie refused", CookieAuth("masker_session", verify), "masker_session=x", "A valid masker_session cookie is required."},
		{"another cookie name", CookieAuth("__Host-sid", verify), "", "A valid __Host-sid cookie is required."},
		{"a cookie name not to quote", CookieAuth("sid<script>", verify), "", generic},
		{"a long cookie name", CookieAuth(strings.Repeat("s", 100), verify), "", generic},
		{"another Authenticate", func(*http.Request) (string, error) {
			return "", fmt.Errorf("%w: token 3f0c expired", ErrUnauthenticated)
		}, "", generic},
		{"no account", func(*http.Request) (string, error) { return "", nil }, "", generic},
	} {
		e := newEnv(t, func(cfg *Config) { cfg.Authenticate = tc.auth })
		res := e.do(t, "GET", "/api/v1/sessions", tc.cookie)
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d", tc.name, res.status)
			continue
		}
		if got := res.envelope(t).Message; got != tc.want {
			t.Errorf("%s: message %q, want %q", tc.name, got, tc.want)
		}
	}
}
