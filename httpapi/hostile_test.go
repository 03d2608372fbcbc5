package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/masker-dev/sessions"
)

// Which layer refuses what, for a handler served by net/http's http.Server:
//
//   - http.Server reads the request line and the headers within MaxHeaderBytes (default
//     http.DefaultMaxHeaderBytes, 1 MiB) plus 4 KiB of slack, and answers anything longer with
//     431 Request Header Fields Too Large without calling the handler. A query string of 1 MiB
//     therefore still reaches the handler; one of 2 MiB does not.
//   - http.Server refuses a request target that does not parse (a bare "%" in the path, for
//     instance) and header values with control bytes, with 400.
//   - The handler refuses a query string over maxQueryLen (8 KiB) or with more than
//     maxQueryParams (32) pairs with 422 naming "query", before it decodes any of it; an agent
//     ID that is not "agt_" and a ULID with the 404 of an unknown agent, without a store call;
//     and every malformed, out-of-range, repeated, empty or unknown parameter with 422.
//
// The tests below send each hostile request to the handler in-process (where no server limit
// helps), and the large ones over a real http.Server too.

// hostileEnv is an env with two sessions of agent A1 in the default 24h window and a store that
// counts its calls.
func hostileEnv(tb testing.TB) (*env, *atomic.Int64) {
	tb.Helper()
	var calls atomic.Int64
	fs := &faultyStore{}
	fs.get = func(ctx context.Context, accountID, agentID string) (sessions.Agent, error) {
		calls.Add(1)
		return fs.Store.GetAgent(ctx, accountID, agentID)
	}
	fs.list = func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
		calls.Add(1)
		return fs.Store.ListSessions(ctx, f)
	}
	e := newEnv(tb, withStore(fs))
	e.putSessions(tb, accountA, e.agentA1, 2)
	return e, &calls
}

// allocatedBy returns the bytes allocated while fn runs (the package's tests do not run in
// parallel, so nothing else allocates much meanwhile).
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// serveBounded serves one request in-process, fails the test if it takes more than 5 seconds,
// and returns the response and the bytes allocated while serving it (the request is built
// before).
func serveBounded(tb testing.TB, h http.Handler, method, target, cookie string) (result, uint64) {
	tb.Helper()
	r := httptestRequest(method, target, cookie)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	var alloc uint64
	go func() {
		defer close(done)
		alloc = allocatedBy(func() { h.ServeHTTP(w, r) })
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		tb.Fatalf("%s %.80s: no response after 5s", method, target)
	}
	res := result{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	checkResponse(tb, r.URL.Path, res.status, res.header.Get("Content-Type"), res.body)
	checkCommonHeaders(tb, method, res)
	if !utf8.Valid(res.body) || len(res.body) > 16<<10 { // 32 details at most, each short
		tb.Errorf("%s %.80s: body of %d bytes, valid UTF-8 %v: the input is echoed back", method, target, len(res.body), utf8.Valid(res.body))
	}
	return res, alloc
}

// params returns the params named in an error response, in order.
func params(tb testing.TB, res result) []string {
	tb.Helper()
	var out []string
	for _, d := range res.envelope(tb).Details {
		out = append(out, d.Param)
	}
	return out
}

// TestHostileSizes sends query strings of 1 MiB and of 10,000 parameters, and agent IDs of
// 10 KiB, in-process: each gets a 4xx from the handler's bounds, with no store call, allocating
// far less than its own size.
func TestHostileSizes(t *testing.T) {
	e, calls := hostileEnv(t)
	longID := "agt_" + strings.Repeat("0", 10<<10)
	midID := "agt_" + strings.Repeat("0", 7<<10) // under the query bound, to reach the agent check
	for _, tc := range []struct {
		name     string
		target   string
		status   int
		param    string // the one detail of a 422
		maxAlloc uint64
	}{
		// Without the length bound, the 1 MiB value would be decoded into a copy (and the
		// cursor's own maxCursorLen would name cursor, not query).
		{"1 MiB query", "/api/v1/sessions?cursor=" + strings.Repeat("A", 1<<20), 422, "query", 64 << 10},
		{"1 MiB of one unknown name", "/api/v1/sessions?" + strings.Repeat("x", 1<<20), 422, "query", 64 << 10},
		// 10,000 pairs are more than 8 KiB: the length bound refuses them first.
		{"10,000 parameters", "/api/v1/sessions?" + strings.TrimSuffix(strings.Repeat("a=1&", 10_000), "&"), 422, "query", 64 << 10},
		// 1,000 distinct unknown names fit in 8 KiB: the count bound refuses them. Without it,
		// every name would be a detail of the 422, a response of 100 KiB.
		{"1,000 short parameters", "/api/v1/sessions?" + manyParams(1000), 422, "query", 64 << 10},
		{"33 parameters", "/api/v1/sessions?" + manyParams(33), 422, "query", 64 << 10},
		{"10 KiB agent ID in the path", "/api/v1/agents/" + longID + "/sessions", 404, "", 256 << 10},
		{"10 KiB agent ID in agent_id", "/api/v1/sessions?agent_id=" + longID, 422, "query", 64 << 10},
		{"7 KiB agent ID in agent_id", "/api/v1/sessions?agent_id=" + midID, 404, "", 256 << 10},
		{"10 KiB cursor", "/api/v1/sessions?cursor=" + strings.Repeat("A", 7<<10), 422, "cursor", 256 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			res, alloc := serveBounded(t, e.h, "GET", tc.target, e.cookieA)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", res.status, tc.status, res.body)
			}
			if tc.status == 422 {
				if got := params(t, res); len(got) != 1 || got[0] != tc.param {
					t.Errorf("details name %q, want only %q", got, tc.param)
				}
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("%d store calls, want none", n)
			}
			t.Logf("%d bytes allocated for a target of %d bytes", alloc, len(tc.target))
			if alloc > tc.maxAlloc {
				t.Errorf("%d bytes allocated for one request, want at most %d", alloc, tc.maxAlloc)
			}
		})
	}
	// 32 parameters are still parsed: the count bound is not off by one.
	res, _ := serveBounded(t, e.h, "GET", "/api/v1/sessions?"+manyParams(32), e.cookieA)
	if got := params(t, res); res.status != 422 || len(got) != 32 {
		t.Errorf("32 unknown parameters: status %d, %d details, want 422 naming each", res.status, len(got))
	}
}

// manyParams returns a query string of n distinct unknown parameters.
func manyParams(n int) string {
	pairs := make([]string, n)
	for i := range pairs {
		pairs[i] = fmt.Sprintf("p%d=1", i)
	}
	return strings.Join(pairs, "&")
}

// TestHostileSizesOverHTTP sends the large requests through a real http.Server with its default
// limits, and shows which layer refuses each: the server for a request line over 1 MiB, the
// handler for the rest.
func TestHostileSizesOverHTTP(t *testing.T) {
	e, calls := hostileEnv(t)
	var reached atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		e.h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		target  string
		status  int
		handler bool // whether the request reaches the handler
	}{
		{"1 MiB query: the handler's bound", "/api/v1/sessions?cursor=" + strings.Repeat("A", 1<<20-100), 422, true},
		{"2 MiB query: MaxHeaderBytes", "/api/v1/sessions?cursor=" + strings.Repeat("A", 2<<20), http.StatusRequestHeaderFieldsTooLarge, false},
		{"10,000 parameters: the handler's bound", "/api/v1/sessions?" + strings.TrimSuffix(strings.Repeat("a=1&", 10_000), "&"), 422, true},
		{"10 KiB agent ID: the handler's agent check", "/api/v1/agents/agt_" + strings.Repeat("0", 10<<10) + "/sessions", 404, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reached.Store(0)
			calls.Store(0)
			req, err := http.NewRequest("GET", srv.URL+tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Cookie", e.cookieA)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := srv.Client().Do(req.WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %.200s", res.StatusCode, tc.status, body)
			}
			if got := reached.Load() == 1; got != tc.handler {
				t.Errorf("reached the handler: %v, want %v", got, tc.handler)
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("%d store calls, want none", n)
			}
		})
	}
}

// TestHostileBytes puts invalid UTF-8, NUL bytes and other controls, percent-encoded, in every
// parameter's value, in parameter names, and in the agent ID of the path. Each gets a 4xx naming
// the right parameter (or the 404 of an unknown agent), with a body of valid UTF-8 that does not
// echo a raw control byte, and no store call.
func TestHostileBytes(t *testing.T) {
	e, calls := hostileEnv(t)
	bad := []string{"%FF", "%00", "1%00", "ok%00", "24h%00", "%C3%28", "%ED%A0%80", "%0D%0A", "%E2%80%8B"}
	for _, name := range paramNames {
		for _, v := range bad {
			target := "/api/v1/sessions?" + name + "=" + v
			t.Run(target, func(t *testing.T) {
				calls.Store(0)
				res, _ := serveBounded(t, e.h, "GET", target, e.cookieA)
				if name == "agent_id" {
					if res.status != http.StatusNotFound || res.envelope(t).Code != codeAgentNotFound {
						t.Fatalf("status %d, want the 404 of an unknown agent: %s", res.status, res.body)
					}
				} else if got := params(t, res); res.status != 422 || len(got) != 1 || got[0] != name {
					t.Fatalf("status %d naming %q, want 422 naming %s: %s", res.status, got, name, res.body)
				}
				if strings.ContainsAny(string(res.body), "\x00\r\n") {
					t.Errorf("a raw control byte in the body: %q", res.body)
				}
				if n := calls.Load(); n != 0 {
					t.Errorf("%d store calls, want none", n)
				}
			})
		}
	}
	for _, target := range []string{
		"/api/v1/sessions?%FF=1",
		"/api/v1/sessions?%00=1",
		"/api/v1/sessions?limit%00=1",
		"/api/v1/sessions?" + strings.Repeat("%FF", 100) + "=1",
	} {
		t.Run(target, func(t *testing.T) {
			res, _ := serveBounded(t, e.h, "GET", target, e.cookieA)
			got := params(t, res)
			if res.status != 422 || len(got) != 1 || !utf8.ValidString(got[0]) || len(got[0]) > echoLen+3 {
				t.Fatalf("status %d naming %q, want 422 naming the unknown parameter, short and valid UTF-8: %s", res.status, got, res.body)
			}
		})
	}
	for _, agent := range []string{"%FF%FE", "agt_%00", "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RF%00", "agt_01HYZ3N5TV0QW3Y0B7VQ6J3R%C3%A9", "%00"} {
		target := "/api/v1/agents/" + agent + "/sessions"
		t.Run(target, func(t *testing.T) {
			calls.Store(0)
			res, _ := serveBounded(t, e.h, "GET", target, e.cookieA)
			if res.status != http.StatusNotFound || res.envelope(t).Code != codeAgentNotFound {
				t.Fatalf("status %d, want the 404 of an unknown agent: %s", res.status, res.body)
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("%d store calls, want none", n)
			}
		})
	}
}

// TestHostileTimes sends since and until far in the past and the future, with the clock at now
// and near year 1: a window that covers every session is a valid 200, one that covers none
// gives 200 with no data, and what does not parse or overflows gives 422.
func TestHostileTimes(t *testing.T) {
	e, _ := hostileEnv(t)
	all := 2 // hostileEnv's sessions, one and two minutes before now
	for _, tc := range []struct {
		name   string
		query  string
		clock  time.Time // zero: now
		status int
		n      int // sessions listed on a 200
	}{
		{"since year 1", "since=0001-01-01", time.Time{}, 200, all},
		{"since year 1 with an offset", "since=0001-01-01T00:00:00%2B14:00", time.Time{}, 200, all},
		{"since year 0", "since=0000-01-01T00:00:00Z", time.Time{}, 200, all},
		{"since before 1970", "since=1969-12-31T23:59:59.999Z", time.Time{}, 200, all},
		{"since the longest duration", "since=106751d", time.Time{}, 200, all},
		{"since a duration that overflows", "since=106752d", time.Time{}, 422, 0},
		{"since 10^19 seconds", "since=10000000000000000000s", time.Time{}, 422, 0},
		{"since 1d with the clock near year 1", "since=1d", time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC), 200, all},
		{"since 1d and until 1h with the clock near year 1", "since=1d&until=1h", time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC), 200, 0},
		{"since 9999-12-31", "since=9999-12-31", time.Time{}, 200, 0},
		{"since the last millisecond of 9999", "since=9999-12-31T23:59:59.999Z", time.Time{}, 200, 0},
		{"since the last nanosecond of 9999", "since=9999-12-31T23:59:59.999999999Z", time.Time{}, 422, 0}, // after MaxTime
		{"since 9999-12-31 at an offset that ends in 10000", "since=9999-12-31T23:30:00-01:00", time.Time{}, 422, 0},
		{"since year 20000", "since=20000-01-01", time.Time{}, 422, 0},
		{"until 9999-12-31", "until=9999-12-31T23:59:59.999Z", time.Time{}, 200, all},
		{"until the last nanosecond of 9999", "until=9999-12-31T23:59:59.999999999Z", time.Time{}, 422, 0},
		{"until year 20000", "until=20000-01-01T00:00:00Z", time.Time{}, 422, 0},
		{"until before since, both far", "since=9999-12-31&until=0001-01-01", time.Time{}, 422, 0},
		// A window that ends before 1970 holds no session, and must not read as no bound.
		{"since and until at year 1", "since=0001-01-01&until=0001-01-01T00:00:00Z", time.Time{}, 200, 0},
		{"since year 0 until year 1", "since=0000-06-01&until=0001-01-01", time.Time{}, 200, 0},
		{"until 1d resolved to year 1 exactly", "since=2d&until=1d", time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), 200, 0},
		{"since and until before 1970", "since=1960-01-01&until=1969-01-01", time.Time{}, 200, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.clock.IsZero() {
				setClock(e.clock, tc.clock) // not clock.Add: a Duration cannot span 2,000 years
				defer setClock(e.clock, now)
			}
			res, _ := serveBounded(t, e.h, "GET", "/api/v1/sessions?"+tc.query, e.cookieA)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if res.status == 200 {
				if got := len(res.page(t).Data); got != tc.n {
					t.Errorf("%d sessions, want %d: %s", got, tc.n, res.body)
				}
			}
		})
	}
}

// setClock sets c to t.
func setClock(c *clock, t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestHostileNumbers sends min_redactions and limit near and past the integer limits: only
// 0..1,000,000,000 and 1..MaxLimit are accepted, with no overflow into a valid-looking value.
func TestHostileNumbers(t *testing.T) {
	e, calls := hostileEnv(t)
	for _, tc := range []struct {
		query  string
		status int
		param  string
	}{
		{"min_redactions=9223372036854775807", 422, "min_redactions"},
		{"min_redactions=-9223372036854775808", 422, "min_redactions"},
		{"min_redactions=9223372036854775808", 422, "min_redactions"},
		{"min_redactions=18446744073709551617", 422, "min_redactions"}, // 2^64+1: wraps to 1 without the bound
		{"min_redactions=1000000001", 422, "min_redactions"},
		{"min_redactions=1000000000", 200, ""},
		{"min_redactions=0", 200, ""},
		{"min_redactions=-0", 422, "min_redactions"},
		{"min_redactions=%2B1", 422, "min_redactions"},
		{"min_redactions=1e3", 422, "min_redactions"},
		{"min_redactions=" + strings.Repeat("9", 4000), 422, "min_redactions"},
		{"limit=18446744073709551617", 422, "limit"},
		{"limit=9223372036854775807", 422, "limit"},
		{"limit=-9223372036854775808", 422, "limit"},
		{"limit=101", 422, "limit"},
		{"limit=0", 422, "limit"},
		{"limit=100", 200, ""},
		{"limit=0100", 200, ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			calls.Store(0)
			res, _ := serveBounded(t, e.h, "GET", "/api/v1/sessions?"+tc.query, e.cookieA)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if tc.status == 422 {
				if got := params(t, res); len(got) != 1 || got[0] != tc.param {
					t.Errorf("details name %q, want only %q", got, tc.param)
				}
				if n := calls.Load(); n != 0 {
					t.Errorf("%d store calls, want none", n)
				}
			}
		})
	}
}

// TestHostileResponsesAreJSON checks that a few of the hostile responses above decode as the
// envelope with encoding/json, whatever bytes the request held.
func TestHostileResponsesAreJSON(t *testing.T) {
	e, _ := hostileEnv(t)
	for _, target := range []string{
		"/api/v1/sessions?status=%00%FF%22%5C",
		"/api/v1/sessions?%22%3A%7B=1",
		"/api/v1/agents/%22%7D%7B/sessions",
	} {
		res, _ := serveBounded(t, e.h, "GET", target, e.cookieA)
		var v map[string]any
		if err := json.Unmarshal(res.body, &v); err != nil || len(v) != 1 || v["error"] == nil {
			t.Errorf("%s: %v: %s", target, err, res.body)
		}
	}
}
