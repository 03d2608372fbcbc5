package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/memory"
)

// The accounts, agents and credentials of the tests.
const (
	accountA = "acct_a"
	accountB = "acct_b"
	keyLen   = 32
)

// testKey returns a cursor key of 32 bytes made of c.
func testKey(c byte) []byte { return bytes.Repeat([]byte{c}, keyLen) }

// clock is an injected clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// logBuffer collects the handler's log lines.
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

// env is a handler over a store (memory, unless newEnvOn is given another) with two accounts:
// A with agents A1 ("Front desk") and A2, B with agent B1.
type env struct {
	store                     sessions.Store
	h                         *Handler
	clock                     *clock
	logs                      *logBuffer
	agentA1, agentA2, agentB1 string
	cookieA, cookieB          string
}

// now is the clock of every env when it starts: 14h45m28s after the example session of the API
// documentation.
var now = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// newEnv returns an env with agents and no sessions; opts change the config.
func newEnv(tb testing.TB, opts ...func(*Config)) *env {
	tb.Helper()
	return newEnvOn(tb, memory.New(), opts...)
}

// newEnvOn returns an env over store, which must be empty, with agents and no sessions; opts
// change the config. The env closes store when the test ends.
func newEnvOn(tb testing.TB, store sessions.Store, opts ...func(*Config)) *env {
	tb.Helper()
	e := &env{
		store:   store,
		clock:   &clock{t: now},
		logs:    &logBuffer{},
		agentA1: "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		agentA2: "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFB",
		agentB1: "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFC",
		cookieA: "masker_session=token-a",
		cookieB: "masker_session=token-b",
	}
	tb.Cleanup(func() { e.store.Close() })
	ctx := context.Background()
	for _, a := range []sessions.Agent{
		{ID: e.agentA1, AccountID: accountA, Name: "Front desk"},
		{ID: e.agentA2, AccountID: accountA},
		{ID: e.agentB1, AccountID: accountB, Name: "B's agent"},
	} {
		if err := e.store.PutAgent(ctx, a); err != nil {
			tb.Fatal(err)
		}
	}
	cfg := Config{
		Store:        e.store,
		Authenticate: CookieAuth("masker_session", verifyToken),
		Now:          e.clock.Now,
		CursorKey:    testKey('k'),
		Logger:       slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// Off, so that e.logs holds the events that tests look for; accesslog_test turns it on.
		DisableAccessLog: true,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	e.h = h
	return e
}

// verifyToken is the tests' session check: token-a and token-b are the accounts' cookies;
// token-down and token-broken fail to be checked.
func verifyToken(ctx context.Context, value string) (string, error) {
	switch value {
	case "token-a":
		return accountA, nil
	case "token-b":
		return accountB, nil
	case "token-down":
		return "", fmt.Errorf("session database: %w", sessions.ErrUnavailable)
	case "token-broken":
		return "", errors.New("session database: corrupt row")
	}
	return "", fmt.Errorf("%w: unknown session", ErrUnauthenticated)
}

// put stores sessions, failing the test on error.
func (e *env) put(tb testing.TB, ss ...sessions.Session) {
	tb.Helper()
	if err := e.store.PutSessions(context.Background(), ss...); err != nil {
		tb.Fatal(err)
	}
}

// putSessions stores n sessions of agent in account, one a minute back from the start time, and
// returns their IDs in list order.
func (e *env) putSessions(tb testing.TB, account, agent string, n int) []string {
	tb.Helper()
	var ids []string
	for i := range n {
		s := session(account, agent, time.Duration(i+1)*time.Minute)
		e.put(tb, s)
		ids = append(ids, s.ID)
	}
	return ids
}

// session returns a session of agent in account that started ago before the env's start time
// and lasted 1.5s, with one PHONE redaction.
func session(account, agent string, ago time.Duration) sessions.Session {
	start := now.Add(-ago)
	return sessions.Session{
		ID:               sessions.NewSessionID(start),
		AccountID:        account,
		AgentID:          agent,
		StartedAt:        start,
		EndedAt:          start.Add(1500 * time.Millisecond),
		Status:           sessions.StatusOK,
		RedactionsByKind: map[string]int{"PHONE": 1},
	}
}

// result is a response read back.
type result struct {
	status int
	header http.Header
	body   []byte
}

// page is a decoded list response.
type page struct {
	Data       []map[string]any `json:"data"`
	NextCursor string           `json:"next_cursor"`
}

func (r result) page(tb testing.TB) page {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	var p page
	if err := json.Unmarshal(r.body, &p); err != nil {
		tb.Fatalf("%v: %s", err, r.body)
	}
	return p
}

// ids returns the IDs of a page's sessions.
func (p page) ids() []string {
	out := []string{}
	for _, s := range p.Data {
		out = append(out, s["id"].(string))
	}
	return out
}

// envelopeOf decodes an error response.
func (r result) envelope(tb testing.TB) envelopeError {
	tb.Helper()
	var env struct {
		Error envelopeError `json:"error"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		tb.Fatalf("%v: %s", err, r.body)
	}
	return env.Error
}

// do serves one request through the env's handler.
func (e *env) do(tb testing.TB, method, target, cookie string) result {
	tb.Helper()
	return serve(tb, e.h, method, target, cookie)
}

// serve sends one request to h, and checks the response against the OpenAPI document and the
// rules every response of the list endpoints follows.
func serve(tb testing.TB, h http.Handler, method, target, cookie string) result {
	tb.Helper()
	return serveRequest(tb, h, httptestRequest(method, target, cookie))
}

// checkCommonHeaders checks what every response of a list endpoint carries.
func checkCommonHeaders(tb testing.TB, method string, res result) {
	tb.Helper()
	for name, want := range map[string]string{
		"Content-Type":           "application/json",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         fmt.Sprint(len(res.body)),
	} {
		if method == http.MethodHead && name == "Content-Length" {
			continue
		}
		// An export streams a file of its own type, of a length not known in advance.
		if strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment") && (name == "Content-Type" || name == "Content-Length") {
			continue
		}
		if got := res.header.Get(name); got != want {
			tb.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	id := res.header.Get("X-Request-Id")
	if !isSafeRequestID(id) { // req_ and a ULID, or the request's own when safe: see TestRequestID
		tb.Errorf("X-Request-Id %q is not a request ID", id)
	}
	if res.status != http.StatusOK && method != http.MethodHead {
		var env struct {
			Error envelopeError `json:"error"`
		}
		if err := json.Unmarshal(res.body, &env); err != nil || env.Error.RequestID != id {
			tb.Errorf("error body request_id %q, header %q (%v)", env.Error.RequestID, id, err)
		}
	}
}

// withoutRequestID returns an error body with its request ID blanked, to compare bodies.
func withoutRequestID(r result) string {
	return strings.Replace(string(r.body), r.header.Get("X-Request-Id"), "req_", 1)
}

// httptestRequest returns a request with a cookie, for tests that set more headers.
func httptestRequest(method, target, cookie string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	return r
}

// serveRequest serves r through h and checks the response like serve.
func serveRequest(tb testing.TB, h http.Handler, r *http.Request) result {
	tb.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := result{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	checkResponse(tb, r.URL.Path, res.status, res.header.Get("Content-Type"), res.body)
	if p := specPath(r.URL.Path); p != "" && p != routeOpenAPI {
		checkCommonHeaders(tb, r.Method, res)
	}
	return res
}
