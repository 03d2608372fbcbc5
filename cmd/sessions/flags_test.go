package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// recorder is a server that records what each request carries, answers an empty list, and holds
// a stream open (reporting it on streaming).
type recorder struct {
	mu        sync.Mutex
	requests  []string // "path?query cookie=... auth=..."
	streaming chan struct{}
}

func newRecorder(tb testing.TB) (*recorder, string) {
	tb.Helper()
	rec := &recorder{streaming: make(chan struct{}, 1)}
	srv := httptest.NewServer(rec)
	tb.Cleanup(srv.Close)
	return rec, srv.URL
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cookie := ""
	if c, err := r.Cookie("masker_session"); err == nil {
		cookie = c.Value
	}
	rec.mu.Lock()
	rec.requests = append(rec.requests, r.URL.Path+"?"+r.URL.RawQuery+" cookie="+cookie+" auth="+r.Header.Get("Authorization"))
	rec.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/stream") {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("retry: 1000\nid: 0\n\n"))
		w.(http.Flusher).Flush()
		rec.streaming <- struct{}{}
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"data":[],"next_cursor":null}`))
}

func (rec *recorder) take() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.requests
	rec.requests = nil
	return out
}

// TestConnectionFlags checks the connection flags before the command and after it (which win),
// the cookie forms, and that --limit asks for pages of its size.
func TestConnectionFlags(t *testing.T) {
	rec, url := newRecorder(t)
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"flags before the command", nil, []string{"--url", url, "--token", "t1", "list"}, "/api/v1/sessions?limit=100 cookie= auth=Bearer t1"},
		{"= form before the command", nil, []string{"--url=" + url, "--token=t1", "list", "--limit", "10"}, "/api/v1/sessions?limit=10 cookie= auth=Bearer t1"},
		{"after the command, over before", nil, []string{"--url", "http://127.0.0.1:1", "--token", "t1", "list", "--url", url, "--token", "t2"}, "/api/v1/sessions?limit=100 cookie= auth=Bearer t2"},
		{"flag over the environment", []string{"SESSIONS_URL=http://127.0.0.1:1", "SESSIONS_TOKEN=t1"}, []string{"--url", url, "list", "--limit", "250"}, "/api/v1/sessions?limit=100 cookie= auth=Bearer t1"},
		{"a bare cookie with padding", []string{"SESSIONS_URL=" + url}, []string{"--cookie", "c2Vzc2lvbg==", "list"}, "/api/v1/sessions?limit=100 cookie=c2Vzc2lvbg== auth="},
		{"a named cookie with padding", []string{"SESSIONS_URL=" + url, "SESSIONS_COOKIE=masker_session=YWI="}, []string{"list"}, "/api/v1/sessions?limit=100 cookie=YWI= auth="},
		{"another name is part of the value", []string{"SESSIONS_URL=" + url}, []string{"list", "--cookie", "sid=x"}, "/api/v1/sessions?limit=100 cookie=sid=x auth="},
		{"a cookie flag over a token in the environment", []string{"SESSIONS_URL=" + url, "SESSIONS_TOKEN=envtok"}, []string{"list", "--cookie", "abc"}, "/api/v1/sessions?limit=100 cookie=abc auth="},
		{"a token flag over a cookie in the environment", []string{"SESSIONS_URL=" + url, "SESSIONS_COOKIE=abc"}, []string{"--token", "t3", "list"}, "/api/v1/sessions?limit=100 cookie= auth=Bearer t3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if diff := cmp.Diff([]string{tc.want}, rec.take()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
	for _, args := range [][]string{{"--token", "t", "list", "--cookie", "c"}, {"--cookie", "c", "--token", "t", "list"}} {
		if r := runCLI(t, []string{"SESSIONS_URL=" + url}, args...); r.code != exitUsage || !strings.Contains(r.stderr, "not both") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, r.code, r.stderr)
		}
	}
	if r := runCLI(t, []string{"SESSIONS_URL=" + url, "SESSIONS_TOKEN=t", "SESSIONS_COOKIE=c"}, "list"); r.code != exitUsage {
		t.Errorf("a token and a cookie in the environment: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}
	r := runCLI(t, nil, "--sinse", "1h", "list")
	if r.code != exitUsage || r.stderr != "sessions: flag provided but not defined: -sinse (run 'sessions help' for usage)\n" {
		t.Errorf("an unknown flag before the command: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"list", "-h"}} {
		if r := runCLI(t, nil, args...); r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: sessions") || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want the usage on stdout", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestTerminatedExport checks that SIGTERM (kill, timeout, a service manager) ends an export as
// Ctrl-C does: exit 143 with one line, and no file left, neither the one asked for nor the
// unfinished temporary one beside it.
func TestTerminatedExport(t *testing.T) {
	exporting := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Write([]byte("id,agent_id\nsess_1,agt_1\n"))
		w.(http.Flusher).Flush()
		exporting <- struct{}{}
		<-r.Context().Done() // an export that never ends
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cmd := exec.Command(binary, "--url", srv.URL, "--token", "t", "export", "--output", filepath.Join(dir, "audit.csv"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exporting:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the export did not start; stderr %q", stderr.String())
	}
	time.Sleep(100 * time.Millisecond) // the CLI writes what it received to its file
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitTerminated || stderr.String() != "sessions: terminated\n" {
		t.Errorf("exit %d, stderr %q; want %d and one line", code, stderr.String(), exitTerminated)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Errorf("files left after SIGTERM: %v, %v; want none", left, err)
	}
}

// TestInterrupted checks that Ctrl-C ends a command with exit code 130 and one line.
func TestInterrupted(t *testing.T) {
	rec, url := newRecorder(t)
	cmd := exec.Command(binary, "--url", url, "--token", "t", "tail")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.streaming:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the tail did not connect; stderr %q", stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || stderr.String() != "sessions: interrupted\n" {
		t.Errorf("exit %d, stderr %q; want %d and one line", code, stderr.String(), exitInterrupted)
	}
}

// TestFilterFlags checks that each command sends its filter flags as the route's parameters:
// --agent as agent_id of the account's list (whose items carry the agent's name) and as the
// agent's route of the summary and the export; since, until, status and min_redactions.
func TestFilterFlags(t *testing.T) {
	rec, url := newRecorder(t)
	agent := sessions.NewAgentID()
	filters := []string{"--agent", agent, "--since", "7d", "--until", "1h", "--status", "error", "--min-redactions", "3"}
	query := "min_redactions=3&since=7d&status=error&until=1h"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list"}, "/api/v1/sessions?agent_id=" + agent + "&limit=100&" + query},
		{[]string{"summary"}, "/api/v1/agents/" + agent + "/sessions/summary?" + query},
		{[]string{"export", "--format", "ndjson", "--output", t.TempDir() + "/x.ndjson"}, "/api/v1/agents/" + agent + "/sessions/export?format=ndjson&" + query},
	} {
		runCLI(t, []string{"SESSIONS_URL=" + url, "SESSIONS_TOKEN=t"}, append(tc.args, filters...)...) // the recorder's answers do not decode: only the request counts
		got := rec.take()
		if len(got) == 0 {
			t.Errorf("%v: no request", tc.args)
			continue
		}
		if q := strings.Fields(got[0])[0]; sortedQuery(q) != tc.want {
			t.Errorf("%v: request %s, want %s", tc.args, sortedQuery(q), tc.want)
		}
	}
}

// sortedQuery returns target with its query parameters sorted by name.
func sortedQuery(target string) string {
	path, query, _ := strings.Cut(target, "?")
	params := strings.Split(query, "&")
	slices.Sort(params)
	return path + "?" + strings.Join(params, "&")
}

// TestTail checks that tail prints the sessions written after it starts that match its filters,
// one JSON line each with its event ID, and none of the others.
func TestTail(t *testing.T) {
	s := newTestServer(t, 3)
	cmd := exec.Command(binary, "tail", "--format", "json", "--status", "ok", "--min-redactions", "2")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, s.env()...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Write until the tail has connected and printed a matching session: the sessions written
	// before it connects are not in its stream.
	start := now.Add(time.Minute)
	matching := map[string]bool{}
	check := func(line string) {
		t.Helper()
		var ev struct {
			EventID string `json:"event_id"`
			ID      string `json:"id"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.EventID == "" {
			t.Fatalf("line %q: %v, event_id %q", line, err, ev.EventID)
		}
		if !matching[ev.ID] {
			t.Fatalf("printed %s, which does not match the filters", ev.ID)
		}
	}
	for printed := false; !printed; {
		if len(matching) == 300 {
			t.Fatalf("nothing printed; stderr %q", stderr.String())
		}
		at := start.Add(time.Duration(len(matching)) * time.Second)
		few := sessions.Session{ID: sessions.NewSessionID(at), AccountID: account, AgentID: s.agent.ID, StartedAt: at, EndedAt: at,
			Status: sessions.StatusOK, RedactionsByKind: map[string]int{"NAME": 1}} // under --min-redactions
		errored := few
		errored.ID, errored.Status, errored.RedactionsByKind = sessions.NewSessionID(at), sessions.StatusError, map[string]int{"NAME": 5}
		match := few
		match.ID, match.RedactionsByKind = sessions.NewSessionID(at), map[string]int{"NAME": 1, "PHONE": 1}
		matching[match.ID] = true
		if err := s.store.PutSessions(context.Background(), few, errored, match); err != nil {
			t.Fatal(err)
		}
		select {
		case line := <-lines:
			check(line)
			printed = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for line := range lines {
		check(line)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d, stderr %q; want %d", code, stderr.String(), exitInterrupted)
	}
}

// TestListCutShort checks that a list that fails midway leaves the sessions it received on
// stdout, each whole: a JSON list that takes its closing bracket, not a record cut in the middle.
func TestListCutShort(t *testing.T) {
	item := `{"id":"sess_%026d","agent_id":"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA","agent_name":"Front desk","started_at":"2026-05-03T21:14:32Z","ended_at":"2026-05-03T21:15:32Z","duration_ms":60000,"status":"ok","redaction_count":1,"redactions_by_kind":{"NAME":1},"upstream_model":null}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":{"code":"unavailable","message":"down","request_id":"req_1"}}`))
			return
		}
		var items []string
		for i := range 100 {
			items = append(items, fmt.Sprintf(item, i))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":[%s],"next_cursor":"c1"}`, strings.Join(items, ","))
	}))
	defer srv.Close()
	r := runCLI(t, []string{"SESSIONS_URL=" + srv.URL, "SESSIONS_TOKEN=t"}, "list", "--format", "json")
	if r.code != exitUnavailable {
		t.Errorf("exit %d, stderr %q; want %d", r.code, r.stderr, exitUnavailable)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout+"\n]"), &got); err != nil || len(got) != 100 {
		t.Errorf("stdout with its bracket closed: %d sessions, %v; want the 100 of the first page, whole", len(got), err)
	}
}

// TestServerThatAnswersNothing checks that a command fails as unavailable (exit 5) when the
// server takes the connection and answers nothing, after the client's wait for a response,
// rather than hang: here the wait is cut to 200 ms.
func TestServerThatAnswersNothing(t *testing.T) {
	tr := httpClient.Transport.(*http.Transport)
	defer func(d time.Duration) { tr.ResponseHeaderTimeout = d }(tr.ResponseHeaderTimeout)
	tr.ResponseHeaderTimeout = 200 * time.Millisecond
	stuck := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(stuck)
	env := map[string]string{"SESSIONS_URL": srv.URL, "SESSIONS_TOKEN": "t"}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"summary"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != exitUnavailable || time.Since(start) > 20*time.Second {
		t.Errorf("summary against a server that answers nothing: exit %d after %v, stderr %q", code, time.Since(start), stderr.String())
	}
}

// TestNotFoundMessages checks the two 404s of a user's mistakes: a malformed session ID is a
// session not found (exit 4), whatever path it would make; a base URL that points at no route
// says so, and to check --url.
func TestNotFoundMessages(t *testing.T) {
	s := newTestServer(t, 1)
	for _, id := range []string{"sess_../../x", "/", "nope"} {
		if r := runCLI(t, s.env(), "show", id); r.code != exitNotFound || !strings.Contains(r.stderr, "not a session ID") {
			t.Errorf("show %q: exit %d, stderr %q; want %d", id, r.code, r.stderr, exitNotFound)
		}
	}
	r := runCLI(t, []string{"SESSIONS_URL=" + s.url + "/api/v1", "SESSIONS_TOKEN=" + token}, "list")
	if !strings.Contains(r.stderr, "is --url the address") {
		t.Errorf("list under a wrong base URL: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestTailSaysItReconnects checks that a tail of a server that is down says on stderr that it
// reconnects, rather than look hung until its reconnections give up.
func TestTailSaysItReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	cmd := exec.Command(binary, "--url", down, "--token", "t", "tail")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stderr).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if !strings.HasPrefix(l, "sessions: reconnecting in ") || !strings.Contains(l, "refused") {
			t.Errorf("stderr %q; want a line saying that the tail reconnects", l)
		}
	case <-time.After(20 * time.Second):
		t.Error("the tail said nothing for 20 s")
	}
}
