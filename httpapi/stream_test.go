package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// sseItem is what a stream sends: an event (the fields up to a blank line), or a comment line.
type sseItem struct {
	Comment string
	Retry   string
	Event   string
	ID      string
	Data    string
}

// sseStream is an open stream read by a test.
type sseStream struct {
	res    *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

// openStream sends a stream request to srv with the cookie and Last-Event-ID (when not ""), and
// returns the response. The request is cancelled when the test ends, or by close.
func openStream(tb testing.TB, srv *httptest.Server, path, cookie, lastID string) *sseStream {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if lastID != "" {
		req.Header.Set(lastEventID, lastID)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { res.Body.Close() })
	if res.StatusCode == http.StatusOK {
		checkResponse(tb, path, res.StatusCode, res.Header.Get("Content-Type"), []byte("stream"))
	}
	return &sseStream{res: res, r: bufio.NewReader(res.Body), cancel: cancel}
}

// close goes away as a client does.
func (s *sseStream) close() { s.cancel(); s.res.Body.Close() }

// next reads the next event or comment.
func (s *sseStream) next(tb testing.TB) sseItem {
	tb.Helper()
	item, err := s.read()
	if err != nil {
		tb.Fatalf("reading the stream: %v", err)
	}
	return item
}

func (s *sseStream) read() (sseItem, error) {
	var item sseItem
	fields := 0
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return item, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if fields == 0 {
				return item, errors.New("a blank line with no field before it")
			}
			return item, nil
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		if name == "" {
			if fields > 0 {
				return item, errors.New("a comment inside an event")
			}
			return sseItem{Comment: value}, nil
		}
		fields++
		switch name {
		case "retry":
			item.Retry = value
		case "event":
			item.Event = value
		case "id":
			item.ID = value
		case "data":
			item.Data = value
		default:
			return item, fmt.Errorf("unknown field %q", name)
		}
	}
}

// nextEvent reads up to the next event, skipping heartbeats.
func (s *sseStream) nextEvent(tb testing.TB) sseItem {
	tb.Helper()
	for {
		if item := s.next(tb); item.Comment == "" {
			return item
		}
	}
}

// opening reads the opening of the stream and returns its id.
func (s *sseStream) opening(tb testing.TB) string {
	tb.Helper()
	if s.res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(s.res.Body)
		tb.Fatalf("status %d: %s", s.res.StatusCode, body)
	}
	item := s.next(tb)
	if item.Retry != "2000" || item.ID == "" || item.Event != "" || item.Data != "" {
		tb.Fatalf("opening %+v, want retry: 2000 and an id", item)
	}
	return item.ID
}

// sessionItem returns the JSON item of a session as GET /api/v1/sessions/{id} shows it.
func (e *env) sessionItem(tb testing.TB, account, id string) map[string]any {
	tb.Helper()
	cookie := map[string]string{accountA: e.cookieA, accountB: e.cookieB}[account]
	res := e.do(tb, http.MethodGet, "/api/v1/sessions/"+id, cookie)
	var body struct {
		Session map[string]any `json:"session"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || res.status != http.StatusOK {
		tb.Fatalf("GET session %s: %d %s", id, res.status, res.body)
	}
	return body.Session
}

// checkEvent checks that item is the session event of the session with this ID, with the item
// of the list as its data.
func (e *env) checkEvent(tb testing.TB, item sseItem, account, id string) {
	tb.Helper()
	var got map[string]any
	if err := json.Unmarshal([]byte(item.Data), &got); err != nil {
		tb.Fatalf("event data %q: %v", item.Data, err)
	}
	if item.Event != "session" || item.ID == "" {
		tb.Errorf("event %q id %q, want session and a token", item.Event, item.ID)
	}
	if diff := cmp.Diff(e.sessionItem(tb, account, id), got); diff != "" {
		tb.Errorf("event data (-item +event):\n%s", diff)
	}
	schema := resolve(map[string]any{"$ref": "#/components/schemas/SessionSummary"})
	dec := json.NewDecoder(strings.NewReader(item.Data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatal(err)
	}
	for _, msg := range checkSchema(schema, v, "data") {
		tb.Errorf("openapi.yaml: %s", msg)
	}
}

// TestStreamEvents checks a stream: its headers and opening, then one event per session written
// after it, in the order of the writes, with the list's item as data, and only the sessions that
// the route and filters select.
func TestStreamEvents(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	e.putSessions(t, accountA, e.agentA1, 1) // before the streams: not sent
	all := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, "")
	agent := openStream(t, srv, "/api/v1/agents/"+e.agentA2+"/sessions/stream?status=error", e.cookieA, "")
	for name, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store"} {
		if got := all.res.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if !isRequestID(all.res.Header.Get("X-Request-Id")) {
		t.Errorf("X-Request-Id %q", all.res.Header.Get("X-Request-Id"))
	}
	all.opening(t)
	agent.opening(t)

	a1 := session(accountA, e.agentA1, time.Hour)
	b1 := session(accountB, e.agentB1, time.Hour)
	a2 := session(accountA, e.agentA2, 2*time.Hour)
	a2.Status = sessions.StatusError
	a2.UpstreamModel = "gpt-4o-mini"
	a2.RedactionsByKind = map[string]int{"NAME": 2, "DOB": 1}
	backfilled := session(accountA, e.agentA1, 30*24*time.Hour) // older than any list page
	e.put(t, a1, b1)
	e.put(t, a2)
	e.put(t, backfilled)
	for _, id := range []string{a1.ID, a2.ID, backfilled.ID} {
		e.checkEvent(t, all.nextEvent(t), accountA, id)
	}
	e.checkEvent(t, agent.nextEvent(t), accountA, a2.ID)
}

// TestStreamHeartbeat checks the comment line of an idle stream.
func TestStreamHeartbeat(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.StreamHeartbeat = 5 * time.Millisecond })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	s := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, "")
	s.opening(t)
	for range 3 {
		if item := s.next(t); item.Comment != "heartbeat" {
			t.Fatalf("got %+v, want a heartbeat", item)
		}
	}
}

// TestStreamOutlivesWriteTimeout checks that a stream moves its write deadline forward: it goes
// on long after the server's WriteTimeout.
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.StreamHeartbeat = 5 * time.Millisecond })
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.WriteTimeout = 20 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	s := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, "")
	s.opening(t)
	for range 40 { // 40 heartbeats: at least 10 WriteTimeouts
		if item := s.next(t); item.Comment != "heartbeat" {
			t.Fatalf("got %+v, want a heartbeat", item)
		}
	}
}

// TestStreamResumeOnAnotherDatabase resumes with Last-Event-ID on a server of another store (a
// fresh database behind a server that shares the cursor key: blue/green, a database per region):
// a 422 naming Last-Event-ID, before any stream, rather than a stream that skips what the other
// store's feed never held.
func TestStreamResumeOnAnotherDatabase(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	path := "/api/v1/agents/" + e.agentA1 + "/sessions/stream"
	s := openStream(t, srv, path, e.cookieA, "")
	opening := s.opening(t)
	x := session(accountA, e.agentA1, time.Minute)
	e.put(t, x)
	last := s.nextEvent(t)
	e.checkEvent(t, last, accountA, x.ID)
	s.close()

	other := newEnv(t) // the same agents, accounts and cursor key; another store
	for _, id := range []string{opening, last.ID} {
		r := httptestRequest(http.MethodGet, path, e.cookieA)
		r.Header.Set(lastEventID, id)
		res := serveRequest(t, other.h, r)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422: %s", res.status, res.body)
		}
		if got := res.envelope(t); len(got.Details) != 1 || got.Details[0].Param != lastEventID {
			t.Errorf("details %+v, want one naming %s", got.Details, lastEventID)
		}
	}
}

// TestStreamResumeAcrossRestart resumes with Last-Event-ID on another server (a restart, or
// another replica) with the same store and cursor key: nothing is lost and nothing repeated,
// and a session written again comes again with its new content.
func TestStreamResumeAcrossRestart(t *testing.T) {
	e := newEnv(t)
	first := httptest.NewServer(e.h)
	path := "/api/v1/agents/" + e.agentA1 + "/sessions/stream?min_redactions=1"
	s := openStream(t, first, path, e.cookieA, "")
	opening := s.opening(t)
	var written []sessions.Session
	for i := range 5 {
		written = append(written, session(accountA, e.agentA1, time.Duration(i+1)*time.Minute))
	}
	e.put(t, written[:3]...)
	e.checkEvent(t, s.nextEvent(t), accountA, written[0].ID)
	last := s.nextEvent(t)
	e.checkEvent(t, last, accountA, written[1].ID)
	s.close()
	first.Close()

	// While no server runs: two more sessions, and the first one again.
	e.put(t, written[3:]...)
	again := written[0]
	again.Status = sessions.StatusPartial
	e.put(t, again)

	second := newEnv(t, func(c *Config) { c.Store = e.store })
	srv := httptest.NewServer(second.h)
	t.Cleanup(srv.Close)
	s = openStream(t, srv, path, e.cookieA, last.ID)
	if id := s.opening(t); id != last.ID {
		t.Errorf("resumed opening id %q, want the Last-Event-ID %q", id, last.ID)
	}
	for _, id := range []string{written[2].ID, written[3].ID, written[4].ID, again.ID} {
		item := s.nextEvent(t)
		e.checkEvent(t, item, accountA, id)
		last = item
	}
	if got := e.sessionItem(t, accountA, again.ID)["status"]; got != "partial" {
		t.Errorf("the rewrite: status %v", got)
	}
	// Nothing more is waiting: the next event is the next write.
	next := session(accountA, e.agentA1, time.Second)
	e.put(t, next)
	e.checkEvent(t, s.nextEvent(t), accountA, next.ID)

	// The opening id alone resumes from where the first stream started: every write since.
	s = openStream(t, srv, path, e.cookieA, opening)
	s.opening(t)
	for _, id := range []string{written[1].ID, written[2].ID, written[3].ID, written[4].ID, again.ID, next.ID} {
		e.checkEvent(t, s.nextEvent(t), accountA, id)
	}
}

// TestStreamLimit checks the per-account limit: 429 too_many_streams with Retry-After beyond it,
// other accounts unaffected, and a slot freed when a client goes away.
func TestStreamLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxStreamsPerAccount = 2 })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	path := "/api/v1/sessions/stream"
	one := openStream(t, srv, path, e.cookieA, "")
	one.opening(t)
	openStream(t, srv, path, e.cookieA, "").opening(t)
	over := openStream(t, srv, path, e.cookieA, "")
	body, _ := io.ReadAll(over.res.Body)
	checkResponse(t, path, over.res.StatusCode, over.res.Header.Get("Content-Type"), body)
	var envl struct{ Error envelopeError }
	if err := json.Unmarshal(body, &envl); err != nil || over.res.StatusCode != http.StatusTooManyRequests ||
		envl.Error.Code != codeTooManyStreams || over.res.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %s Retry-After %q", over.res.StatusCode, body, over.res.Header.Get("Retry-After"))
	}
	openStream(t, srv, path, e.cookieB, "").opening(t) // another account

	one.close()
	for { // the server sees the client go away, and the slot is free again
		s := openStream(t, srv, path, e.cookieA, "")
		if s.res.StatusCode == http.StatusOK {
			s.opening(t)
			break
		}
		s.close()
		time.Sleep(time.Millisecond)
	}
}

// TestStreamCloseStreams checks that CloseStreams (registered with Server.RegisterOnShutdown)
// ends open streams cleanly, so that Shutdown returns, and refuses new ones with 503.
func TestStreamCloseStreams(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.RegisterOnShutdown(e.h.CloseStreams)
	srv.Start()
	t.Cleanup(srv.Close)
	s := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, "")
	s.opening(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := s.read(); err != io.EOF {
		t.Errorf("after Shutdown: %v, want the clean end of the stream", err)
	}
	res := serve(t, e.h, http.MethodGet, "/api/v1/sessions/stream", e.cookieA)
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
		t.Errorf("after CloseStreams: %d %s", res.status, res.body)
	}
}

// TestStreamStoreOutage checks that a stream ends when its store fails, and that a client that
// comes back while the store is down gets 503 with Retry-After.
func TestStreamStoreOutage(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	s := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, "")
	id := s.opening(t)
	e.store.Close()
	if _, err := s.read(); err != io.EOF {
		t.Errorf("after the outage: %v, want the clean end of the stream", err)
	}
	again := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, id)
	if again.res.StatusCode != http.StatusServiceUnavailable || again.res.Header.Get("Retry-After") == "" {
		t.Errorf("reconnecting: %d, Retry-After %q", again.res.StatusCode, again.res.Header.Get("Retry-After"))
	}
	if !strings.Contains(e.logs.String(), "stream ended by the store") {
		t.Errorf("the outage is not logged:\n%s", e.logs)
	}
}

// storeWithoutTail hides the memory store's feed.
type storeWithoutTail struct{ sessions.Store }

// failingTail is a store whose feed is down.
type failingTail struct{ sessions.Store }

func (failingTail) TailPosition(context.Context) (string, error) {
	return "", fmt.Errorf("%w: feed down", sessions.ErrUnavailable)
}

func (failingTail) Tail(context.Context, sessions.Filter, string, func(sessions.Session, string) error) error {
	return fmt.Errorf("%w: feed down", sessions.ErrUnavailable)
}

// TestStreamErrors checks the answers of stream requests that do not start a stream.
func TestStreamErrors(t *testing.T) {
	e := newEnv(t)
	key := testKey('k')
	tokenOf := func(endpoint, account, agent string, status sessions.Status) string {
		return resumeToken{endpoint: endpoint, account: account, agent: agent, status: status, position: "0"}.encode(key)
	}
	agentPath := "/api/v1/agents/" + e.agentA1 + "/sessions/stream"
	accountPath := "/api/v1/sessions/stream"
	agentToken := tokenOf("agent", accountA, e.agentA1, "")
	for _, tc := range []struct {
		name    string
		opts    []func(*Config)
		method  string
		path    string
		cookie  string
		lastID  []string
		status  int
		code    string
		params  []string // of the details
		headers []string // that must be set
	}{
		{name: "no credential", path: accountPath, status: 401, code: codeUnauthenticated},
		{name: "no credential before a bad parameter", path: accountPath + "?limit=5", status: 401, code: codeUnauthenticated},
		{name: "POST", method: http.MethodPost, path: accountPath, cookie: e.cookieA, status: 405, code: codeMethodNotAllowed, headers: []string{"Allow"}},
		{name: "list parameters", path: accountPath + "?limit=5&cursor=x&since=1h&until=1h", cookie: e.cookieA, status: 422, code: codeValidationFailed, params: []string{"limit", "cursor", "since", "until"}},
		{name: "agent_id on the agent route", path: agentPath + "?agent_id=" + e.agentA1, cookie: e.cookieA, status: 422, code: codeValidationFailed, params: []string{"agent_id"}},
		{name: "bad values", path: accountPath + "?status=fine&min_redactions=-1", cookie: e.cookieA, status: 422, code: codeValidationFailed, params: []string{"status", "min_redactions"}},
		{name: "repeated", path: accountPath + "?status=ok&status=ok", cookie: e.cookieA, status: 422, code: codeValidationFailed, params: []string{"status"}},
		{name: "unknown agent", path: "/api/v1/agents/agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFZ/sessions/stream", cookie: e.cookieA, status: 404, code: codeAgentNotFound},
		{name: "malformed agent", path: "/api/v1/agents/nope/sessions/stream", cookie: e.cookieA, status: 404, code: codeAgentNotFound},
		{name: "another account's agent", path: agentPath, cookie: e.cookieB, status: 404, code: codeAgentNotFound},
		{name: "another account's agent_id", path: accountPath + "?agent_id=" + e.agentA1, cookie: e.cookieB, status: 404, code: codeAgentNotFound},
		{name: "altered token", path: agentPath, cookie: e.cookieA, lastID: []string{agentToken[:len(agentToken)-2] + "AA"}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "cursor as token", path: agentPath, cookie: e.cookieA, lastID: []string{e.firstCursor(t)}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "token of another key", path: agentPath, cookie: e.cookieA, lastID: []string{resumeToken{endpoint: "agent", account: accountA, agent: e.agentA1, position: "0"}.encode(testKey('x'))}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "token of another account", path: agentPath, cookie: e.cookieA, lastID: []string{tokenOf("agent", accountB, e.agentA1, "")}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "token of another agent", path: agentPath, cookie: e.cookieA, lastID: []string{tokenOf("agent", accountA, e.agentA2, "")}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "token of the other route", path: accountPath, cookie: e.cookieA, lastID: []string{agentToken}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "token of another filter", path: agentPath + "?status=error", cookie: e.cookieA, lastID: []string{agentToken}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "token of another agent_id", path: accountPath + "?agent_id=" + e.agentA2, cookie: e.cookieA, lastID: []string{tokenOf("account", accountA, e.agentA1, "")}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "token twice", path: agentPath, cookie: e.cookieA, lastID: []string{agentToken, agentToken}, status: 422, code: codeValidationFailed, params: []string{lastEventID}},
		{name: "bad parameters and an altered token, at once", path: agentPath + "?status=fine", cookie: e.cookieA, lastID: []string{agentToken[:len(agentToken)-2] + "AA"}, status: 422, code: codeValidationFailed, params: []string{"status", lastEventID}},
		{name: "bad parameters and a token of another account, at once", path: agentPath + "?min_redactions=-1", cookie: e.cookieA, lastID: []string{tokenOf("agent", accountB, e.agentA1, "")}, status: 422, code: codeValidationFailed, params: []string{"min_redactions", lastEventID}},
		{name: "bad parameters and a token of another filter, at once", path: agentPath + "?status=error&typo=1", cookie: e.cookieA, lastID: []string{agentToken}, status: 422, code: codeValidationFailed, params: []string{"typo", lastEventID}},
		{name: "a bad parameter is not compared with the token", path: agentPath + "?status=fine", cookie: e.cookieA, lastID: []string{agentToken}, status: 422, code: codeValidationFailed, params: []string{"status"}},
		{name: "bad parameters and a token twice, at once", path: agentPath + "?status=fine", cookie: e.cookieA, lastID: []string{agentToken, agentToken}, status: 422, code: codeValidationFailed, params: []string{"status", lastEventID}},
		{name: "store without tail", opts: []func(*Config){func(c *Config) { c.Store = storeWithoutTail{c.Store} }}, path: accountPath, cookie: e.cookieA, status: 501, code: codeNotImplemented},
		{name: "feed down", opts: []func(*Config){func(c *Config) { c.Store = failingTail{c.Store} }}, path: accountPath, cookie: e.cookieA, status: 503, code: codeUnavailable, headers: []string{"Retry-After"}},
		{name: "feed down on resume", opts: []func(*Config){func(c *Config) { c.Store = failingTail{c.Store} }}, path: agentPath, cookie: e.cookieA, lastID: []string{agentToken}, status: 503, code: codeUnavailable, headers: []string{"Retry-After"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := e.h
			if tc.opts != nil {
				h = newEnv(t, tc.opts...).h
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			r := httptestRequest(method, tc.path, tc.cookie)
			for _, v := range tc.lastID {
				r.Header.Add(lastEventID, v)
			}
			res := serveRequest(t, h, r)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			got := res.envelope(t)
			if got.Code != tc.code {
				t.Errorf("code %q, want %q", got.Code, tc.code)
			}
			var params []string
			for _, d := range got.Details {
				params = append(params, d.Param)
			}
			slices.Sort(params)
			want := slices.Sorted(slices.Values(tc.params))
			if diff := cmp.Diff(want, params); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
			for _, name := range tc.headers {
				if res.header.Get(name) == "" {
					t.Errorf("no %s header", name)
				}
			}
		})
	}
}

// firstCursor returns a list cursor of account A's agent A1 (two sessions, a page of one).
func (e *env) firstCursor(tb testing.TB) string {
	tb.Helper()
	e.putSessions(tb, accountA, e.agentA1, 2)
	next := e.do(tb, http.MethodGet, "/api/v1/agents/"+e.agentA1+"/sessions?limit=1", e.cookieA).page(tb).NextCursor
	if next == "" {
		tb.Fatal("no cursor")
	}
	return next
}

// TestStreamConfig checks that New refuses negative stream settings.
func TestStreamConfig(t *testing.T) {
	for _, cfg := range []Config{
		{StreamHeartbeat: -time.Second},
		{MaxStreamsPerAccount: -1},
	} {
		cfg.Store, cfg.Authenticate = newEnv(t).store, CookieAuth("c", verifyToken)
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
}

// TestStreamParametersDocumented checks that the stream routes accept exactly the query
// parameters that openapi.yaml documents.
func TestStreamParametersDocumented(t *testing.T) {
	for tmpl, ep := range map[string]*endpoint{
		routeAgentStream:   agentStreamEndpoint,
		routeAccountStream: accountStreamEndpoint,
	} {
		var accepted []string
		for _, p := range ep.params {
			accepted = append(accepted, paramNames[p])
		}
		var documented []string
		for name := range documentedParams(t, tmpl) {
			documented = append(documented, name)
		}
		slices.Sort(accepted)
		slices.Sort(documented)
		if diff := cmp.Diff(accepted, documented); diff != "" {
			t.Errorf("%s (-accepted +documented):\n%s", tmpl, diff)
		}
	}
}

// TestStreamSharedEvents checks the events that the streams of a Handler share (eventCache): a
// stream of the same feed and filters sends the same event, byte for byte; one of another route
// or filters (the agent's) sends the same data under its own token; an agent renamed since shows in the data of
// a later stream, under the same token. It also checks that a burst of writes, which a stream
// sends in batches, arrives whole, once each, in the order of the writes.
func TestStreamSharedEvents(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	first := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, "")
	start := first.opening(t)
	other := openStream(t, srv, "/api/v1/agents/"+e.agentA1+"/sessions/stream", e.cookieA, "")
	other.opening(t)
	s := session(accountA, e.agentA1, time.Hour)
	e.put(t, s)
	want := first.nextEvent(t)
	e.checkEvent(t, want, accountA, s.ID)

	same := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, start)
	same.opening(t)
	if diff := cmp.Diff(want, same.nextEvent(t)); diff != "" {
		t.Errorf("the same stream's event (-first +same):\n%s", diff)
	}
	got := other.nextEvent(t)
	if got.ID == want.ID || got.Data != want.Data {
		t.Errorf("event of the agent's stream: id %q data %q; want another id than %q, the same data", got.ID, got.Data, want.ID)
	}

	if err := e.store.PutAgent(context.Background(), sessions.Agent{ID: e.agentA1, AccountID: accountA, Name: "Renamed"}); err != nil {
		t.Fatal(err)
	}
	renamed := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, start)
	renamed.opening(t)
	got = renamed.nextEvent(t)
	e.checkEvent(t, got, accountA, s.ID) // with the new name, as the list shows it
	if got.ID != want.ID {
		t.Errorf("event id after a rename %q, want %q", got.ID, want.ID)
	}

	burst := make([]sessions.Session, 3*streamBatch+1)
	var wantIDs []string
	for i := range burst {
		burst[i] = session(accountA, e.agentA2, time.Duration(i+1)*time.Second)
		wantIDs = append(wantIDs, burst[i].ID)
	}
	e.put(t, burst[:streamBatch/2]...)
	e.put(t, burst[streamBatch/2:]...)
	var gotIDs []string
	for range burst {
		var item struct{ ID string }
		if err := json.Unmarshal([]byte(first.nextEvent(t).Data), &item); err != nil {
			t.Fatal(err)
		}
		gotIDs = append(gotIDs, item.ID)
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("events of a burst (-written +sent):\n%s", diff)
	}
}

// TestStreamHead checks that HEAD on both stream routes gets the headers of the stream, without
// a body and without opening a tail, and is counted as no open stream.
func TestStreamHead(t *testing.T) {
	e := newEnv(t, func(cfg *Config) { cfg.MaxStreamsPerAccount = 1 })
	for _, path := range []string{"/api/v1/sessions/stream", "/api/v1/agents/" + e.agentA1 + "/sessions/stream"} {
		for range 2 { // a HEAD does not hold the account's one stream
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, httptestRequest(http.MethodHead, path, e.cookieA))
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/event-stream" ||
				rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Request-Id") == "" || rec.Body.Len() != 0 {
				t.Errorf("HEAD %s: status %d, headers %v, %d bytes of body", path, rec.Code, rec.Header(), rec.Body.Len())
			}
		}
	}
}

// TestStreamHTTP2Idle checks that a stream over HTTP/2 outlives quiet spells longer than
// streamWriteWait: the write deadline of each write is lifted after it, since on HTTP/2 a
// deadline left to pass resets the stream even when no write is under way.
func TestStreamHTTP2Idle(t *testing.T) {
	defer func(d time.Duration) { streamWriteWait = d }(streamWriteWait)
	streamWriteWait = 100 * time.Millisecond
	e := newEnv(t, func(cfg *Config) { cfg.StreamHeartbeat = 300 * time.Millisecond })
	srv := httptest.NewUnstartedServer(e.h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	s := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, "")
	defer s.close() // before srv.Close, which waits for the stream
	if s.res.ProtoMajor != 2 {
		t.Fatalf("the stream came over %s, not HTTP/2", s.res.Proto)
	}
	for comments := 0; comments < 3; { // three heartbeats: 900 ms, nine times the write deadline
		if item := s.next(t); item.Comment != "" {
			comments++
		}
	}
}

// stuckTail is a store whose TailPosition waits for release, ignoring its context (the worst
// store: one that does not stop when the request is abandoned), counting the calls under way.
type stuckTail struct {
	sessions.Store
	tailer  sessions.Tailer
	release chan struct{}
	running *atomic.Int64
}

func (s stuckTail) TailPosition(ctx context.Context) (string, error) {
	s.running.Add(1)
	defer s.running.Add(-1)
	<-s.release
	return s.tailer.TailPosition(context.Background())
}

func (s stuckTail) Tail(ctx context.Context, f sessions.Filter, after string, fn func(sessions.Session, string) error) error {
	return s.tailer.Tail(ctx, f, after, fn)
}

// TestStreamAbandonedSetupHoldsSlot checks that a stream request whose store call is abandoned
// on the Timeout (503) keeps its stream slot until the store returns, so that a store that
// ignores its context holds at most MaxStreamsPerAccount calls of an account, and the next
// requests get 429 too_many_streams rather than each leaving a call running.
func TestStreamAbandonedSetupHoldsSlot(t *testing.T) {
	release := make(chan struct{})
	running := &atomic.Int64{}
	e := newEnv(t, func(c *Config) {
		c.Store = stuckTail{Store: c.Store, tailer: c.Store.(sessions.Tailer), release: release, running: running}
		c.Timeout = 20 * time.Millisecond
		c.MaxStreamsPerAccount = 2
	})
	var got []int
	for range 6 {
		got = append(got, e.do(t, http.MethodGet, "/api/v1/sessions/stream", e.cookieA).status)
	}
	want := []int{503, 503, 429, 429, 429, 429}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := running.Load(); n != 2 {
		t.Errorf("%d store calls running, want 2 (MaxStreamsPerAccount)", n)
	}
	close(release)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	for { // the calls return, and their slots are free again
		s := openStream(t, srv, "/api/v1/sessions/stream", e.cookieA, "")
		if s.res.StatusCode == http.StatusOK {
			s.opening(t)
			break
		}
		s.close()
		time.Sleep(time.Millisecond)
	}
}
