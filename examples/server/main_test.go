package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/masker-dev/sessions/internal/testscale"
)

// TestFirstRun builds the server, starts it on a free port against a new SQLite file, runs the
// first curl command that it prints (as the same request in Go), checks the JSON, and stops the
// server with SIGINT. With the large data sets the server seeds its default demo data (10,000
// sessions); with the small ones, 500 (-demo-sessions): still a full first page and a next one for
// the first command, a summary and an export of hundreds of sessions, at a fifth of the seeding's
// time.
func TestFirstRun(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "sessions.db"), "-record-every", "100ms"}
	if !testscale.Large() {
		args = append(args, "-demo-sessions", "500")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "SESSIONS_CURSOR_KEY=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", stderr.String())
		}
	}()

	var curls []string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if line := lines.Text(); strings.HasPrefix(line, "curl ") {
			curls = append(curls, line)
			if len(curls) == 7 {
				break
			}
		}
	}
	if len(curls) == 0 {
		t.Fatal("the server printed no curl command")
	}

	m := regexp.MustCompile(`^curl -sS -H '(Cookie: [^']+)' '([^']+)'$`).FindStringSubmatch(curls[0])
	if m == nil {
		t.Fatalf("unexpected curl command %q", curls[0])
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m[2], nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", strings.TrimPrefix(m[1], "Cookie: "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct {
			ID               string         `json:"id"`
			AgentID          string         `json:"agent_id"`
			StartedAt        string         `json:"started_at"`
			DurationMS       *int64         `json:"duration_ms"`
			Status           string         `json:"status"`
			RedactionCount   *int           `json:"redaction_count"`
			RedactionsByKind map[string]int `json:"redactions_by_kind"`
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", m[2], resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Data) != 5 || body.NextCursor == nil {
		t.Fatalf("got %d sessions and next_cursor %v, want a full page of 5 and a next page", len(body.Data), body.NextCursor)
	}
	for _, s := range body.Data {
		if !strings.HasPrefix(s.ID, "sess_") || s.AgentID != demoAgents[0].ID || s.DurationMS == nil ||
			s.RedactionCount == nil || s.RedactionsByKind == nil || s.Status == "" {
			t.Errorf("incomplete session %+v", s)
		}
		if _, err := time.Parse(time.RFC3339, s.StartedAt); err != nil {
			t.Errorf("started_at: %v", err)
		}
	}

	checkSummaryAndExport(t, ctx, curls)
	stream := openTail(ctx, t, curls[6])

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("server did not stop cleanly on SIGINT: %v", err)
	}
	if _, err := io.Copy(io.Discard, stream); err != nil {
		t.Errorf("the stream did not end cleanly on SIGINT: %v", err)
	}
}

// openTail runs the curl -N command of the live tail (as the same request in Go), and reads up to
// the first call that the server records. It returns the rest of the stream, still open.
func openTail(ctx context.Context, t *testing.T, curl string) io.Reader {
	t.Helper()
	m := regexp.MustCompile(`^curl -N -sS -H '(Cookie: [^']+)' '([^']+/api/v1/sessions/stream)'$`).FindStringSubmatch(curl)
	if m == nil {
		t.Fatalf("unexpected curl command for the stream %q", curl)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m[2], nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", strings.TrimPrefix(m[1], "Cookie: "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s: status %d %s", m[2], resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	for inEvent := false; ; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		inEvent = inEvent || line == "event: session"
		if data, ok := strings.CutPrefix(line, "data: "); ok && inEvent {
			var s struct {
				ID        string `json:"id"`
				AgentName string `json:"agent_name"`
			}
			if err := json.Unmarshal([]byte(data), &s); err != nil || !strings.HasPrefix(s.ID, "sess_") || s.AgentName == "" {
				t.Fatalf("event data %q: %v", data, err)
			}
			return r
		}
	}
}

// checkSummaryAndExport runs the summary and CSV export commands among curls: a summary of
// sessions, and a CSV file with the header row and as many rows as the summary of its window
// counts.
func checkSummaryAndExport(t *testing.T, ctx context.Context, curls []string) {
	t.Helper()
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		for _, line := range curls {
			m := regexp.MustCompile(`^curl -sS -H 'Cookie: ([^']+)' '([^']+)'$`).FindStringSubmatch(line)
			if m == nil || !strings.Contains(m[2], path) {
				continue
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, m[2], nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Cookie", m[1])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d: %s", m[2], resp.StatusCode, body)
			}
			return resp, body
		}
		t.Fatalf("no curl command for %s among %q", path, curls)
		return nil, nil
	}
	_, body := get("/sessions/summary?")
	var sum struct {
		Summary struct {
			Sessions int `json:"sessions"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(body, &sum); err != nil || sum.Summary.Sessions == 0 {
		t.Errorf("summary %s (%v): want sessions", body, err)
	}
	resp, body := get("/sessions/export?")
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("export Content-Type %q", ct)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "id" {
		t.Errorf("export: %d rows (%v), want the header and sessions", len(rows), err)
	}
}
