package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
	r := runCLI(t, nil, "--sinse", "1h", "list")
	if r.code != exitUsage || r.stderr != "sessions: flag provided but not defined: -sinse (run 'sessions help' for usage)\n" {
		t.Errorf("an unknown flag before the command: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "--help"); r.code != 0 || !strings.HasPrefix(r.stderr, "Usage: sessions") {
		t.Errorf("--help: exit %d, stderr %q", r.code, r.stderr)
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
