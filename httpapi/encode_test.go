package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// TestAppendString checks the JSON string writer against encoding/json.
func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "new\nline\ttab\rreturn", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "héllo wörld ☃ 😀", "line\u2028sep\u2029", "bad \xff\xfe utf8", "trunc \xe2\x98",
	} {
		want, _ := json.Marshal(s)
		if got := string(appendString(nil, s)); got != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

// TestEncodeMatchesDecoding checks that a page written by hand decodes to the values of its
// sessions, with the names in a JSON-escaped agent name and upstream model.
func TestEncodeMatchesDecoding(t *testing.T) {
	s := sessions.Session{
		ID:               "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		AgentID:          "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		AgentName:        `Dr. "Who" <front> & back`,
		StartedAt:        time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC),
		EndedAt:          time.Date(2026, 5, 3, 22, 14, 32, 5e6, time.UTC),
		Status:           sessions.StatusError,
		RedactionsByKind: map[string]int{"Z": 3, "A": 1, "M_2": 1 << 30},
		UpstreamModel:    "model/\"x\"",
	}
	var e pageEncoder
	var got struct {
		Data []struct {
			ID               string         `json:"id"`
			AgentID          string         `json:"agent_id"`
			AgentName        string         `json:"agent_name"`
			StartedAt        string         `json:"started_at"`
			EndedAt          string         `json:"ended_at"`
			Status           string         `json:"status"`
			UpstreamModel    string         `json:"upstream_model"`
			DurationMS       int64          `json:"duration_ms"`
			RedactionCount   int            `json:"redaction_count"`
			RedactionsByKind map[string]int `json:"redactions_by_kind"`
		}
		NextCursor *string `json:"next_cursor"`
	}
	body := e.encode(accountEndpoint, []sessions.Session{s}, "abc-_")
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	d := got.Data[0]
	if d.ID != s.ID || d.AgentID != s.AgentID || d.StartedAt != "2026-05-03T21:14:32Z" || d.EndedAt != "2026-05-03T22:14:32.005Z" ||
		d.Status != "error" || d.AgentName != s.AgentName || d.UpstreamModel != s.UpstreamModel || d.DurationMS != 3600005 ||
		d.RedactionCount != 1<<30+4 || len(d.RedactionsByKind) != 3 || *got.NextCursor != "abc-_" {
		t.Errorf("decoded %+v from %s", got, body)
	}
	if !strings.Contains(string(body), `"redactions_by_kind":{"A":1,"M_2":1073741824,"Z":3}`) {
		t.Errorf("kinds not sorted: %s", body)
	}
}

// benchEnv returns a handler over the memory store with 1000 sessions of one agent, with three
// kinds of redaction each, and the request for a page of 100.
func benchEnv(b *testing.B) (*env, *http.Request) {
	e := newEnv(b)
	var ss []sessions.Session
	for i := range 1000 {
		s := session(accountA, e.agentA1, time.Duration(i+1)*time.Minute)
		s.RedactionsByKind = map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1}
		s.UpstreamModel = "gpt-4o-mini"
		ss = append(ss, s)
	}
	e.put(b, ss...)
	return e, httptestRequest("GET", "/api/v1/agents/"+e.agentA1+"/sessions?limit=100", e.cookieA)
}

// discard is a ResponseWriter that keeps nothing, so that the benchmark measures the handler.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkHandler serves a page of 100 sessions of one agent from the memory store, through
// the whole pipeline: authentication, parameters, agent check, store, cursor and JSON.
func BenchmarkHandler(b *testing.B) {
	e, r := benchEnv(b)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.h.ServeHTTP(w, r)
	}
}

// BenchmarkEncodePage writes the JSON of a page of 100 sessions, the share of BenchmarkHandler
// that the response body costs.
func BenchmarkEncodePage(b *testing.B) {
	e, _ := benchEnv(b)
	page, err := e.store.ListSessions(b.Context(), sessions.Filter{AccountID: accountA, Limit: 100})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		enc := getPageEncoder()
		n = len(enc.encode(agentEndpoint, page.Sessions, "cursor"))
		putPageEncoder(enc)
	}
	b.ReportMetric(float64(n), "bytes/page")
}

// BenchmarkEncodePageStdlib writes the same page with encoding/json, for comparison.
func BenchmarkEncodePageStdlib(b *testing.B) {
	e, _ := benchEnv(b)
	page, err := e.store.ListSessions(b.Context(), sessions.Filter{AccountID: accountA, Limit: 100})
	if err != nil {
		b.Fatal(err)
	}
	type item struct {
		ID               string         `json:"id"`
		AgentID          string         `json:"agent_id"`
		StartedAt        string         `json:"started_at"`
		EndedAt          string         `json:"ended_at"`
		DurationMS       int64          `json:"duration_ms"`
		Status           string         `json:"status"`
		RedactionCount   int            `json:"redaction_count"`
		RedactionsByKind map[string]int `json:"redactions_by_kind"`
	}
	b.ReportAllocs()
	for b.Loop() {
		items := make([]item, 0, len(page.Sessions))
		for _, s := range page.Sessions {
			items = append(items, item{s.ID, s.AgentID, formatTime(s.StartedAt), formatTime(s.EndedAt), s.Duration().Milliseconds(),
				string(s.Status), s.RedactionCount(), s.RedactionsByKind})
		}
		json.NewEncoder(io.Discard).Encode(struct {
			Data       []item  `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}{items, nil})
	}
}

// TestAppendTime checks the hand-written time format against the layout, across years, every
// millisecond pattern and locations.
func TestAppendTime(t *testing.T) {
	zone := time.FixedZone("", -7*3600-30*60)
	for _, base := range []time.Time{sessions.MinTime, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), sessions.MaxTime.Truncate(time.Second),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, zone)} {
		for ns := 0; ns < 1e9; ns += 999_999 { // every pattern of trailing zeros, and sub-millisecond parts
			tm := base.Add(time.Duration(ns))
			if got, want := string(appendTime(nil, tm)), tm.UTC().Format(timeLayout); got != want {
				t.Fatalf("%v: got %s, want %s", tm, got, want)
			}
		}
	}
}

// BenchmarkStoreList is the store's share of BenchmarkHandler: the same page of 100, listed
// from the memory store directly.
func BenchmarkStoreList(b *testing.B) {
	e, _ := benchEnv(b)
	f := sessions.Filter{AccountID: accountA, AgentID: e.agentA1, Since: now.Add(-24 * time.Hour), Limit: 100}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.store.ListSessions(b.Context(), f); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDurationMillisPastTimeDuration checks that duration_ms is exact for a session longer than a
// time.Duration holds (292 years), in JSON and in CSV.
func TestDurationMillisPastTimeDuration(t *testing.T) {
	s := sessions.Session{ID: sessions.NewSessionID(sessions.MinTime), AgentID: sessions.NewAgentID(),
		StartedAt: sessions.MinTime, EndedAt: sessions.MaxTime, Status: sessions.StatusOK, RedactionsByKind: map[string]int{}}
	want := strconv.FormatInt(sessions.MaxTime.UnixMilli()-sessions.MinTime.UnixMilli(), 10)
	e := getPageEncoder()
	defer putPageEncoder(e)
	if b := e.appendSession(nil, accountEndpoint, &s); !strings.Contains(string(b), `"duration_ms":`+want+`,`) {
		t.Errorf("JSON %s: want duration_ms %s", b, want)
	}
	if b := e.appendCSVRow(nil, &s); !strings.Contains(string(b), ","+want+",") {
		t.Errorf("CSV %q: want duration_ms %s", b, want)
	}
}
