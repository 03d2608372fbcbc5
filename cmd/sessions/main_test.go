package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/store/memory"
)

// binary is the command, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sessions-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sessions")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// now is the test server's clock.
var now = time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)

const (
	account = "acct_1"
	token   = "sessions-read"
)

// testServer is an httpapi handler over a memory store with an agent and its sessions.
type testServer struct {
	store *memory.Store
	agent sessions.Agent
	url   string
}

// newTestServer starts a server with n sessions of one agent, one a minute back from now.
func newTestServer(tb testing.TB, n int) *testServer {
	tb.Helper()
	s := &testServer{store: memory.New()}
	tb.Cleanup(func() { s.store.Close() })
	ctx := context.Background()
	s.agent = sessions.Agent{ID: sessions.NewAgentID(), AccountID: account, Name: "=HYPERLINK(\"x\")"}
	if err := s.store.PutAgent(ctx, s.agent); err != nil {
		tb.Fatal(err)
	}
	var ss []sessions.Session
	for i := range n {
		start := now.Add(-time.Duration(i+1) * time.Minute)
		ss = append(ss, sessions.Session{
			ID: sessions.NewSessionID(start), AccountID: account, AgentID: s.agent.ID,
			StartedAt: start, EndedAt: start.Add(252 * time.Second), Status: sessions.StatusOK,
			RedactionsByKind: map[string]int{"NAME": 2, "PHONE": i % 2},
		})
	}
	if err := s.store.PutSessions(ctx, ss...); err != nil {
		tb.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{
		Store: s.store,
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
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// result is what a run of the command gave.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the built command with args and the environment env (and nothing else of ours).
func runCLI(tb testing.TB, env []string, args ...string) result {
	tb.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// env returns the environment that points the command at s with the token.
func (s *testServer) env() []string {
	return []string{"SESSIONS_URL=" + s.url, "SESSIONS_TOKEN=" + token}
}

// walk returns the store's sessions of the past day, in list order.
func (s *testServer) walk(tb testing.TB) []sessions.Session {
	tb.Helper()
	var out []sessions.Session
	for sess, err := range sessions.All(context.Background(), s.store, sessions.Filter{AccountID: account, Since: now.Add(-24 * time.Hour)}) {
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, sess)
	}
	return out
}

func TestListFollowsCursors(t *testing.T) {
	s := newTestServer(t, 230)
	r := runCLI(t, s.env(), "list", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []sessionJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	var want []sessionJSON
	for _, sess := range s.walk(t) {
		want = append(want, jsonSession(sess, ""))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list --format json (-want +got):\n%s", diff)
	}
}

func TestListTable(t *testing.T) {
	s := newTestServer(t, 3)
	r := runCLI(t, s.env(), "list", "--limit", "2", "--since=1h")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := `STARTED (UTC)       AGENT               DURATION STATUS  REDACTIONS
2026-05-03 21:13:32 =HYPERLINK("x")        4m12s ok      2 NAME
2026-05-03 21:12:32 =HYPERLINK("x")        4m12s ok      2 NAME, 1 PHONE
`
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("a line of %d columns: %q", n, line)
		}
	}
	if r := runCLI(t, s.env(), "list", "--status", "error"); r.stdout != "No sessions match.\n" {
		t.Errorf("no match: %q", r.stdout)
	}
}

func TestShow(t *testing.T) {
	s := newTestServer(t, 2)
	want := s.walk(t)[0]
	r := runCLI(t, s.env(), "show", want.ID, "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got sessionJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jsonSession(want, ""), got); diff != "" {
		t.Errorf("show (-want +got):\n%s", diff)
	}
	r = runCLI(t, s.env(), "show", want.ID)
	if !strings.Contains(r.stdout, "Redactions  2 NAME\nModel       -\n") {
		t.Errorf("show as a table:\n%s", r.stdout)
	}
}

// TestErrors checks that each kind of failure gives one line on stderr and its exit code.
func TestErrors(t *testing.T) {
	s := newTestServer(t, 1)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{"unknown session", s.env(), []string{"show", sessions.NewSessionID(now)}, exitNotFound, "No session with this ID exists in your account. (HTTP 404 session_not_found, request req_"},
		{"unknown agent", s.env(), []string{"list", "--agent", sessions.NewAgentID()}, exitNotFound, "(HTTP 404 agent_not_found"},
		{"bad since", s.env(), []string{"list", "--since", "yesterday"}, exitUsage, "since: "},
		{"unknown flag", s.env(), []string{"list", "--sinse", "1h"}, exitUsage, "flag provided but not defined: -sinse"},
		{"unknown command", s.env(), []string{"lsit"}, exitUsage, `unknown command "lsit"`},
		{"no command", s.env(), nil, exitUsage, "no command"},
		{"show without ID", s.env(), []string{"show"}, exitUsage, "want one session ID"},
		{"bad format", s.env(), []string{"summary", "--format", "csv"}, exitUsage, `--format "csv"`},
		{"no credential", []string{"SESSIONS_URL=" + s.url}, []string{"list"}, exitAuth, "no credential"},
		{"bad token", []string{"SESSIONS_URL=" + s.url, "SESSIONS_TOKEN=nope"}, []string{"list"}, exitAuth, "A valid bearer token is required."},
		{"server down", []string{"SESSIONS_URL=" + down.URL, "SESSIONS_TOKEN=" + token}, []string{"list"}, exitUnavailable, "sessions: "},
		{"bad url", []string{"SESSIONS_TOKEN=" + token}, []string{"list", "--url", "localhost:1"}, exitUsage, "--url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "sessions: ") || !strings.Contains(r.stderr, tc.stderr) || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
				t.Errorf("stderr %q, want one line with %q", r.stderr, tc.stderr)
			}
			if usage := strings.HasSuffix(r.stderr, " (run 'sessions help' for usage)\n"); usage != (tc.code == exitUsage && tc.name != "bad since") /* a 422 of the server gets no hint */ {
				t.Errorf("stderr %q: the usage hint only on a usage error of the command line", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 45 * time.Second: "45s", 252 * time.Second: "4m12s", 3723 * time.Second: "1h02m03s", 1499 * time.Millisecond: "1s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for _, tc := range []struct {
		in   map[string]int
		want string
	}{
		{nil, "none"},
		{map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1, "SSN": 0}, "2 NAME, 1 DOB, 1 PHONE"},
	} {
		if got := redactions(tc.in); got != tc.want {
			t.Errorf("redactions(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in    string
		n     int
		want  string
		width int
	}{
		{"Front desk\nnight shift", 12, "Front desk …", 12},
		{"Front desk", 18, "Front desk", 10},
		{"受付エージェント夜間", 18, "受付エージェント…", 17},
		{"受付エージェント夜", 18, "受付エージェント夜", 18},
		{"Desk 🦷 dental", 18, "Desk 🦷 dental", 14},
		{"🦷🦷🦷🦷🦷🦷🦷🦷🦷🦷", 18, "🦷🦷🦷🦷🦷🦷🦷🦷…", 17},
		{"e\u0301cole", 5, "e\u0301cole", 5},
		{"a\u200bb\u00a0c\x1b[31m\xff", 18, "a b c [31m ", 11},
	} {
		got := cut(tc.in, tc.n)
		if got != tc.want || width(got) != tc.width {
			t.Errorf("cut(%q, %d) = %q of width %d, want %q of width %d", tc.in, tc.n, got, width(got), tc.want, tc.width)
		}
	}
	if got := padRight("受付", 6) + "|" + padLeft("🦷", 4) + "|"; got != "受付  |  🦷|" {
		t.Errorf("padding = %q", got)
	}
}

// TestUnprintableFromServer checks that what a server sends reaches the terminal without its
// control characters (escape sequences that clear the screen or set the title, line breaks that
// forge lines), in a session's fields and in an error, and that a password in --url is not
// echoed.
func TestUnprintableFromServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/sess_gone") {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"code":"session_not_found","message":"gone \u001b]0;pwned\u0007\u001b[2J","request_id":"req_\u001b[31mX"}}`))
			return
		}
		w.Write([]byte(`{"session":{"id":"sess_1\u001b[2J","agent_id":"agt_1\r\nInjected: yes","agent_name":"a","started_at":"2026-05-03T21:14:32Z","ended_at":"2026-05-03T21:15:32Z","status":"ok\u001b[0m","redaction_count":1,"redactions_by_kind":{"X\u001b]0;t\u0007":1},"upstream_model":""}}`))
	}))
	defer srv.Close()
	env := []string{"SESSIONS_URL=" + srv.URL, "SESSIONS_TOKEN=t"}
	for _, args := range [][]string{{"show", "sess_1"}, {"show", "sess_gone"}} {
		r := runCLI(t, env, args...)
		if out := r.stdout + r.stderr; strings.ContainsAny(out, "\x1b\a") || strings.Contains(out, "\r") || strings.Contains(out, "\nInjected") {
			t.Errorf("%v printed control characters: %q", args, out)
		}
	}
	r := runCLI(t, nil, "--url", "htps://admin:hunter2@example.com", "--token", "t", "list")
	if r.code == 0 || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("a bad URL with a password: exit %d, stderr %q", r.code, r.stderr)
	}
}
