package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/store/memory"
)

// now is the test servers' clock.
var now = time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)

const (
	account = "acct_1"
	token   = "sessions-read"
)

// server is an httpapi handler over a memory store, behind httptest.
type server struct {
	store *memory.Store
	agent sessions.Agent
	srv   *httptest.Server
}

// newServer starts a server whose bearer token is token, with an agent and n sessions of it,
// one a minute back from now.
func newServer(tb testing.TB, n int) *server {
	tb.Helper()
	s := &server{store: memory.New()}
	tb.Cleanup(func() { s.store.Close() })
	ctx := context.Background()
	s.agent = sessions.Agent{ID: sessions.NewAgentID(), AccountID: account, Name: "Front desk"}
	if err := s.store.PutAgent(ctx, s.agent); err != nil {
		tb.Fatal(err)
	}
	var ss []sessions.Session
	for i := range n {
		start := now.Add(-time.Duration(i+1) * time.Minute)
		ss = append(ss, sessions.Session{
			ID: sessions.NewSessionID(now), AccountID: account, AgentID: s.agent.ID,
			StartedAt: start, EndedAt: start.Add(30 * time.Second), Status: sessions.StatusOK,
			RedactionsByKind: map[string]int{"NAME": i % 3, "PHONE": 1}, UpstreamModel: "gpt-4o-mini",
		})
	}
	if err := s.store.PutSessions(ctx, ss...); err != nil {
		tb.Fatal(err)
	}
	h := newHandler(tb, s.store)
	s.srv = httptest.NewServer(h)
	tb.Cleanup(s.srv.Close)
	return s
}

// newHandler returns the API over st, whose bearer token is token, on the test clock; every
// handler shares the same cursor key, as the replicas of one service do.
func newHandler(tb testing.TB, st sessions.Store) http.Handler {
	tb.Helper()
	h, err := httpapi.New(httpapi.Config{
		Store: st,
		Authenticate: httpapi.BearerAuth(func(ctx context.Context, t string) (string, error) {
			if t != token {
				return "", httpapi.ErrUnauthenticated
			}
			return account, nil
		}),
		Now:       func() time.Time { return now },
		CursorKey: []byte("0123456789abcdef0123456789abcdef"),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// client returns a client of s with the token and opts.
func (s *server) client(tb testing.TB, opts ...client.Option) *client.Client {
	tb.Helper()
	c, err := client.New(s.srv.URL, append([]client.Option{client.WithBearerToken(token)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// walk returns what sessions.All gives on the store for f.
func walk(tb testing.TB, st sessions.Store, f sessions.Filter) []sessions.Session {
	tb.Helper()
	var out []sessions.Session
	for s, err := range sessions.All(context.Background(), st, f) {
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// withoutAccount clears AccountID, which the API does not send.
func withoutAccount(ss []sessions.Session) []sessions.Session {
	for i := range ss {
		ss[i].AccountID = ""
	}
	return ss
}

func TestSessions(t *testing.T) {
	s := newServer(t, 250)
	c := s.client(t)
	for _, tc := range []struct {
		name string
		q    client.Query
		f    sessions.Filter
	}{
		{"account, past 24h", client.Query{}, sessions.Filter{AccountID: account, Since: now.Add(-24 * time.Hour)}},
		{"agent, 2h", client.Query{AgentID: s.agent.ID, Since: "2h"}, sessions.Filter{AccountID: account, AgentID: s.agent.ID, Since: now.Add(-2 * time.Hour)}},
		{"min redactions, until", client.Query{Since: "1d", Until: "2026-05-03T20:00:00Z", MinRedactions: 3},
			sessions.Filter{AccountID: account, Since: now.Add(-24 * time.Hour), Until: time.Date(2026, 5, 3, 20, 0, 0, 0, time.UTC), MinRedactions: 3}},
		{"status none", client.Query{Status: sessions.StatusError}, sessions.Filter{AccountID: account, Since: now.Add(-24 * time.Hour), Status: sessions.StatusError}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []sessions.Session
			for sess, err := range c.Sessions(t.Context(), tc.q) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, sess)
			}
			want := withoutAccount(walk(t, s.store, tc.f))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sessions (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("break", func(t *testing.T) {
		n := 0
		for _, err := range c.Sessions(t.Context(), client.Query{}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 150 {
				break
			}
		}
		if n != 150 {
			t.Errorf("got %d sessions before break, want 150", n)
		}
	})
}

func TestSession(t *testing.T) {
	s := newServer(t, 3)
	c := s.client(t)
	want := withoutAccount(walk(t, s.store, sessions.Filter{AccountID: account}))[1]
	got, err := c.Session(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	for _, id := range []string{sessions.NewSessionID(now), "sess_bad", "sess x/y"} {
		if _, err := c.Session(t.Context(), id); !errors.Is(err, sessions.ErrSessionNotFound) {
			t.Errorf("Session(%q) = %v, want ErrSessionNotFound", id, err)
		}
	}
}

// TestErrors checks that every error code of the API matches as the package documents.
func TestErrors(t *testing.T) {
	s := newServer(t, 1)
	c := s.client(t)
	ctx := t.Context()
	first := func(seq func(func(sessions.Session, error) bool)) error {
		for _, err := range seq {
			return err
		}
		return nil
	}

	err := first(c.Sessions(ctx, client.Query{AgentID: sessions.NewAgentID()}))
	var e *client.Error
	if !errors.Is(err, sessions.ErrAgentNotFound) || !errors.As(err, &e) || e.StatusCode != 404 || e.Code != "agent_not_found" || e.RequestID == "" {
		t.Errorf("unknown agent: %v (%+v)", err, e)
	}

	err = first(c.Sessions(ctx, client.Query{Since: "yesterday", Status: "maybe"}))
	var ve *sessions.ValidationError
	if !errors.As(err, &ve) || ve.Field != "since" {
		t.Errorf("bad since: %v, ValidationError %+v; want one on since", err, ve)
	}
	if !errors.As(err, &e) || len(e.Details) != 2 || e.Code != "validation_failed" {
		t.Errorf("bad since and status: %+v, want 2 details", e)
	}

	bad, _ := client.New(s.srv.URL, client.WithBearerToken("nope"))
	if err := first(bad.Sessions(ctx, client.Query{})); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("bad token: %v, want ErrUnauthenticated", err)
	}

	if _, err := c.Session(ctx, sessions.NewSessionID(now)); !errors.Is(err, sessions.ErrSessionNotFound) {
		t.Errorf("unknown session: %v", err)
	}

	// A server that is down: the connection is refused.
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	dc, _ := client.New(down.URL, client.WithRetries(0))
	if err := first(dc.Sessions(ctx, client.Query{})); !errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("server down: %v, want ErrUnavailable", err)
	}

	// Codes with no sentinel of their own, from a server that answers each.
	for _, tc := range []struct {
		status int
		code   string
		is     error
	}{
		{503, "unavailable", sessions.ErrUnavailable},
		{429, "too_many_requests", client.ErrRateLimited},
		{429, "too_many_streams", client.ErrRateLimited},
		{502, "bad_gateway", sessions.ErrUnavailable}, // a proxy's page while the server restarts
		{504, "gateway_timeout", sessions.ErrUnavailable},
		{500, "internal_error", nil},
		{405, "method_not_allowed", nil},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "req_x")
			if tc.status == http.StatusBadGateway || tc.status == http.StatusGatewayTimeout {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, "<html>Bad Gateway</html>")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			fmt.Fprintf(w, `{"error":{"code":%q,"message":"m","request_id":"req_x"}}`, tc.code)
		}))
		cc, _ := client.New(srv.URL, client.WithRetries(0))
		err := first(cc.Sessions(ctx, client.Query{}))
		srv.Close()
		var e *client.Error
		if !errors.As(err, &e) || e.Code != tc.code || e.StatusCode != tc.status || e.RequestID != "req_x" {
			t.Errorf("%s: %v", tc.code, err)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v does not match %v", tc.code, err, tc.is)
		}
		for _, other := range []error{sessions.ErrAgentNotFound, sessions.ErrSessionNotFound, client.ErrUnauthenticated} {
			if errors.Is(err, other) {
				t.Errorf("%s: %v matches %v", tc.code, err, other)
			}
		}
	}
}

// TestRetryAfter checks that a 503 with Retry-After is retried and succeeds, and that the retries
// are bounded.
func TestRetryAfter(t *testing.T) {
	t.Parallel() // waits for retries, and spends almost no CPU
	s := newServer(t, 2)
	for _, tc := range []struct {
		failures, retries int
		ok                bool
	}{
		{2, 3, true},
		{3, 3, true},
		{4, 3, false},
		{1, 0, false},
	} {
		calls := 0
		flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls++; calls <= tc.failures {
				w.Header().Set("Retry-After", "0")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `{"error":{"code":"unavailable","message":"retry later","request_id":"req_1"}}`)
				return
			}
			s.srv.Config.Handler.ServeHTTP(w, r)
		}))
		c, _ := client.New(flaky.URL, client.WithBearerToken(token), client.WithRetries(tc.retries))
		_, err := c.Session(t.Context(), sessions.NewSessionID(now))
		flaky.Close()
		if got := errors.Is(err, sessions.ErrSessionNotFound); got != tc.ok {
			t.Errorf("%d failures, %d retries: %v; want it to reach the server: %v", tc.failures, tc.retries, err, tc.ok)
		}
		if !tc.ok && !errors.Is(err, sessions.ErrUnavailable) {
			t.Errorf("%d failures, %d retries: %v, want ErrUnavailable", tc.failures, tc.retries, err)
		}
		if want := min(tc.failures, tc.retries) + 1; calls != want {
			t.Errorf("%d failures, %d retries: %d calls, want %d", tc.failures, tc.retries, calls, want)
		}
	}
}

func TestNew(t *testing.T) {
	for _, u := range []string{"", "example.com", "ftp://example.com", "http://", ":"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	// A prefix: the routes are under it.
	s := newServer(t, 1)
	mux := http.NewServeMux()
	mux.Handle("/audit/", http.StripPrefix("/audit", s.srv.Config.Handler))
	prefixed := httptest.NewServer(mux)
	defer prefixed.Close()
	c, err := client.New(prefixed.URL+"/audit/", client.WithBearerToken(token))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range c.Sessions(t.Context(), client.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("under a prefix: %d sessions, want 1", n)
	}
}

// TestRedirectKeepsTheCredential checks that the client follows a redirect within its origin,
// and not one to another origin: an https server that redirects to http on the same host would
// otherwise receive the credential in clear on the other port.
func TestRedirectKeepsTheCredential(t *testing.T) {
	var leaked []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = append(leaked, r.Header.Get("Authorization")+r.Header.Get("Cookie"))
		http.Error(w, "nothing here", http.StatusNotFound)
	}))
	defer plain.Close()
	s := newServer(t, 3)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old/api/v1/sessions/summary": // within the origin: followed
			http.Redirect(w, r, "/api/v1/sessions/summary", http.StatusMovedPermanently)
		case "/api/v1/sessions/summary":
			s.srv.Config.Handler.ServeHTTP(w, r)
		default: // to http on another port of the same host
			http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
		}
	}))
	defer secure.Close()
	for _, opt := range []client.Option{client.WithBearerToken(token), client.WithCookie("masker_session", "COOKIESECRET")} {
		c, err := client.New(secure.URL+"/moved", client.WithHTTPClient(secure.Client()), opt, client.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Summary(t.Context(), client.Query{}); err == nil {
			t.Error("a redirect to another origin was followed")
		}
	}
	if len(leaked) != 0 {
		t.Errorf("the plain server received %q", leaked)
	}
	c, err := client.New(secure.URL+"/old", client.WithHTTPClient(secure.Client()), client.WithBearerToken(token))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Summary(t.Context(), client.Query{}); err != nil {
		t.Errorf("a redirect within the origin: %v", err)
	}
}

// TestWalkRefusesBadPages checks that a walk ends with an error, after one request, on pages
// that are not the API's and that following would loop for ever or pass for an empty list.
func TestWalkRefusesBadPages(t *testing.T) {
	item := `{"id":"sess_1","agent_id":"agt_1","agent_name":"a","started_at":"2026-05-03T21:14:32Z","ended_at":"2026-05-03T21:14:32Z","status":"ok","redaction_count":0,"redactions_by_kind":{},"upstream_model":null}`
	for _, tc := range []struct {
		name  string
		pages []string // the body of each request in turn
		want  int      // sessions yielded before the error
	}{
		{"an empty page with a next cursor", []string{`{"data":[],"next_cursor":"c1"}`}, 0},
		{"a page whose next cursor is its own", []string{`{"data":[` + item + `],"next_cursor":"c1"}`, `{"data":[` + item + `],"next_cursor":"c1"}`}, 1},
		{"not a list", []string{`{"status":"ok"}`}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tc.pages[min(requests, len(tc.pages)-1)]))
				requests++
			}))
			defer srv.Close()
			c, _ := client.New(srv.URL)
			n := 0
			var err error
			for _, e := range c.Sessions(t.Context(), client.Query{}) {
				if err = e; e == nil {
					n++
				}
			}
			if err == nil || n != tc.want || requests != len(tc.pages) {
				t.Errorf("%d sessions, %d requests, error %v; want %d, %d and an error", n, requests, err, tc.want, len(tc.pages))
			}
		})
	}
}

// TestWalkRereadsACutPage checks that a page whose body is cut midway is read again: nothing of
// it was yielded, so the walk goes on without a loss or a repeat.
func TestWalkRereadsACutPage(t *testing.T) {
	s := newServer(t, 7)
	requests := 0
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		if requests == 2 { // the second page: a length, and then less than it
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte(`{"data":[{"id":"sess_`))
			return
		}
		s.srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer cut.Close()
	c, _ := client.New(cut.URL, client.WithBearerToken(token))
	var got []string
	for sess, err := range c.Sessions(t.Context(), client.Query{PageSize: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, sess.ID)
	}
	var want []string
	for _, sess := range walk(t, s.store, sessions.Filter{AccountID: account, Since: now.Add(-24 * time.Hour)}) {
		want = append(want, sess.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" || requests != 4 {
		t.Errorf("%d requests; sessions (-want +got):\n%s", requests, diff)
	}
}
