package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/memory"
)

// The seed corpora of the fuzz targets are in testdata/fuzz/FuzzQuery and
// testdata/fuzz/FuzzHandler. Their cursors are signed with testKey('k') and pin times resolved
// against now, the fixed clock of both targets, so that they stay valid.

// FuzzQuery parses random query strings of both endpoints, at random clocks, and checks that
// parsing never panics, that a refusal names at least one parameter with a short valid UTF-8
// name and message, and that whatever is accepted (with or without a cursor) gives a filter of
// the authenticated account, with a page size from 1 to MaxLimit and an upper bound whenever until
// is given, that passes sessions.Filter.Validate, as the store will check it.
func FuzzQuery(f *testing.F) {
	keys := [][]byte{testKey('k')}
	const pathAgent = "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA"
	f.Add("limit=5&since=7d&status=ok", false, now.Unix())
	f.Add("agent_id=agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA&min_redactions=2", false, now.Unix())
	f.Fuzz(func(t *testing.T, rawQuery string, agentPath bool, nowSec int64) {
		ep := accountEndpoint
		if agentPath {
			ep = agentEndpoint
		}
		clock := time.Unix(nowSec, 0).UTC()
		q, err := parseQuery(rawQuery, ep, clock)
		if err != nil {
			checkProblems(t, err)
			return
		}
		fl, tok, err := q.filter(ep, accountA, pathAgent, keys)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if fl.AccountID != accountA {
			t.Fatalf("filter of account %q, want %q (the authenticated one)", fl.AccountID, accountA)
		}
		if agentPath && fl.AgentID != pathAgent {
			t.Fatalf("agent endpoint: filter of agent %q, want the path's %q", fl.AgentID, pathAgent)
		}
		if fl.Limit < 1 || fl.Limit > sessions.MaxLimit {
			t.Fatalf("limit %d accepted", fl.Limit)
		}
		if !q.given[paramCursor] && q.given[paramUntil] && fl.Until.IsZero() {
			// A zero Until reads as no upper bound: a given until must never widen the query.
			t.Fatalf("accepted query %q (now %s): until given, but the filter has no upper bound", rawQuery, clock)
		}
		if tok.endpoint != ep.name {
			t.Fatalf("cursor token of endpoint %q on endpoint %q", tok.endpoint, ep.name)
		}
		if fl.AgentID != "" && !sessions.IsAgentID(fl.AgentID) {
			return // the handler answers 404 before Validate (TestAgentNotFoundIsIdentical)
		}
		if err := fl.Validate(); err != nil {
			t.Fatalf("accepted query %q (now %s) gives a filter that fails Validate: %v\n%+v", rawQuery, clock, err, fl)
		}
		if err := fl.Normalize().Validate(); err != nil {
			t.Fatalf("accepted query %q: normalized filter fails Validate: %v", rawQuery, err)
		}
	})
}

// checkProblems checks the error of a refused query: invalidParams naming at least one
// parameter, each name and message valid UTF-8 and short enough to quote back.
func checkProblems(t *testing.T, err error) {
	t.Helper()
	ps, ok := err.(invalidParams)
	if !ok || len(ps) == 0 {
		t.Fatalf("refused with %T %v, want invalidParams", err, err)
	}
	for _, p := range ps {
		// An empty name ("=1") is refused as an unknown parameter named "".
		if !utf8.ValidString(p.Param) || !utf8.ValidString(p.Message) || p.Message == "" {
			t.Fatalf("problem %q: %q is not a valid UTF-8 name and message", p.Param, p.Message)
		}
		if len(p.Param) > echoLen+len("...") || len(p.Message) > 1024 {
			t.Fatalf("problem of %d bytes on a parameter of %d bytes: the input is echoed back unbounded", len(p.Message), len(p.Param))
		}
	}
}

// fuzzWorld is the fixed data of FuzzHandler: two accounts, each with agents and sessions.
type fuzzWorld struct {
	h        *Handler
	owner    map[string]string // session ID -> account
	agentOf  map[string]string // agent ID -> account
	agentsA  []string
	agentsB  []string
	sessions int
}

// newFuzzWorld builds the handler of FuzzHandler: a memory store where accounts A and B each have
// two agents and 30 sessions over the last two days, some with redactions, some not OK.
func newFuzzWorld(tb testing.TB) *fuzzWorld {
	tb.Helper()
	st := memory.New()
	tb.Cleanup(func() { st.Close() })
	w := &fuzzWorld{
		owner:   map[string]string{},
		agentOf: map[string]string{},
		agentsA: []string{"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFB"},
		agentsB: []string{"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFC", "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFD"},
	}
	ctx := context.Background()
	statuses := []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}
	for _, acct := range []struct {
		id     string
		agents []string
	}{{accountA, w.agentsA}, {accountB, w.agentsB}} {
		for i, agent := range acct.agents {
			if err := st.PutAgent(ctx, sessions.Agent{ID: agent, AccountID: acct.id, Name: acct.id + " agent " + string(rune('1'+i))}); err != nil {
				tb.Fatal(err)
			}
			w.agentOf[agent] = acct.id
		}
		for i := range 30 {
			// Both accounts' sessions interleave in time, so that a list that crossed accounts
			// would show them.
			s := session(acct.id, acct.agents[i%2], time.Duration(i)*97*time.Minute+time.Duration(len(acct.id))*time.Second)
			s.Status = statuses[i%3]
			s.RedactionsByKind = map[string]int{"PHONE": i % 4, "NAME": i % 2}
			s.UpstreamModel = "gpt-4o-mini"
			if err := st.PutSessions(ctx, s); err != nil {
				tb.Fatal(err)
			}
			w.owner[s.ID] = acct.id
			w.sessions++
		}
	}
	h, err := New(Config{
		Store:        st,
		Authenticate: CookieAuth("masker_session", verifyFuzzToken),
		Now:          func() time.Time { return now },
		CursorKey:    testKey('k'),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	w.h = h
	return w
}

// verifyFuzzToken is verifyToken without its failing tokens (token-down and token-broken give 503
// and 500 by design, which FuzzHandler would report).
func verifyFuzzToken(ctx context.Context, value string) (string, error) {
	switch value {
	case "token-a", "token-b":
		return verifyToken(ctx, value)
	}
	return verifyToken(ctx, "unknown")
}

// fuzzMethods are the methods FuzzHandler picks from with its method byte.
var fuzzMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete}

// validHeaderValue reports whether net/http's server would accept v as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7F {
			return false
		}
	}
	return true
}

// FuzzHandler serves random paths, raw query strings, cookies and methods through the whole
// Handler over a memory store holding two accounts, and checks every response: no panic and no
// 5xx; on the list endpoints, a JSON body that is exactly {"data": [...], "next_cursor": ...} or
// the error envelope, matching the OpenAPI document; and never a session or agent of an account
// other than the one that the cookie authenticates. A request that net/http would refuse before
// the handler (a target that does not parse, a header with control bytes) is skipped.
func FuzzHandler(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add("/api/v1/sessions", "limit=3", "masker_session=token-a", uint8(0))
	f.Add("/api/v1/agents/agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFC/sessions", "", "masker_session=token-a", uint8(0))
	f.Fuzz(func(t *testing.T, path, rawQuery, cookie string, method uint8) {
		target := path
		if rawQuery != "" {
			target += "?" + rawQuery
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") || !validHeaderValue(cookie) {
			t.Skip("net/http refuses this request before any handler")
		}
		r := &http.Request{
			Method:     fuzzMethods[int(method)%len(fuzzMethods)],
			URL:        u,
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{},
			Host:       "example.com",
			RequestURI: target,
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, r)
		res := rec.Result()
		body := rec.Body.Bytes()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %q: status %d: %s", r.Method, target, res.StatusCode, body)
		}
		ctype := res.Header.Get("Content-Type")
		if ctype != "application/json" {
			// Only net/http's plain 404 (a path that is not a route) and the OpenAPI document are
			// not JSON.
			doc := u.Path == routeOpenAPI && res.StatusCode == http.StatusOK
			notFound := res.StatusCode == http.StatusNotFound && strings.HasPrefix(ctype, "text/plain")
			if !doc && !notFound {
				t.Fatalf("%s %q: status %d with Content-Type %q: %s", r.Method, target, res.StatusCode, ctype, body)
			}
			return
		}
		if r.Method == http.MethodHead {
			if len(body) != 0 {
				t.Fatalf("HEAD %q: a body of %d bytes", target, len(body))
			}
			return
		}
		checkResponse(t, u.Path, res.StatusCode, ctype, body)
		account, _ := CookieAuth("masker_session", verifyFuzzToken)(r)
		w.checkBody(t, target, account, res.StatusCode, body)
	})
}

// checkBody checks a JSON body of a list endpoint: exactly the list shape on 200 with sessions of
// account only, or exactly the error envelope otherwise.
func (w *fuzzWorld) checkBody(t *testing.T, target, account string, status int, body []byte) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatalf("%q: status %d, body is not a JSON object: %v: %s", target, status, err, body)
	}
	if status != http.StatusOK {
		var env struct {
			Error envelopeError `json:"error"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if len(top) != 1 || dec.Decode(&env) != nil || env.Error.Code == "" || env.Error.Message == "" || !isRequestID(env.Error.RequestID) || env.Error.Details == nil {
			t.Fatalf("%q: status %d, not the error envelope: %s", target, status, body)
		}
		return
	}
	if len(top) != 2 || top["data"] == nil || top["next_cursor"] == nil {
		t.Fatalf("%q: 200 body is not exactly {data, next_cursor}: %s", target, body)
	}
	var data []map[string]any
	if err := json.Unmarshal(top["data"], &data); err != nil || data == nil {
		t.Fatalf("%q: data is not an array: %s", target, body)
	}
	var next *string
	if err := json.Unmarshal(top["next_cursor"], &next); err != nil || (next != nil && *next == "") {
		t.Fatalf("%q: next_cursor is not a non-empty string or null: %s", target, body)
	}
	if account == "" {
		t.Fatalf("%q: 200 without an authenticated account: %s", target, body)
	}
	for _, s := range data {
		id, _ := s["id"].(string)
		agent, _ := s["agent_id"].(string)
		if owner, ok := w.owner[id]; !ok || owner != account {
			t.Fatalf("%q as %s: session %q of account %q in the response", target, account, id, owner)
		}
		if w.agentOf[agent] != account {
			t.Fatalf("%q as %s: agent %q of account %q in the response", target, account, agent, w.agentOf[agent])
		}
	}
}
