package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSummaryJSON(t *testing.T) {
	s := newTestServer(t, 40)
	r := runCLI(t, s.env(), "summary", "--format", "json", "--since", "30m")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got summaryJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	want := summaryJSON{
		Since: "2026-05-03T20:44:32Z", Sessions: 30,
		ByStatus:       map[string]int64{"ok": 30, "error": 0, "partial": 0},
		RedactionCount: 75, RedactionsByKind: map[string]int64{"NAME": 60, "PHONE": 15},
		DurationMS: 30 * 252_000,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary --format json (-want +got):\n%s", diff)
	}
	r = runCLI(t, s.env(), "summary", "--since", "30m")
	wantTable := "Window      2026-05-03T20:44:32Z to now\nSessions    30 (30 ok, 0 error, 0 partial)\nRedactions  75: 60 NAME, 15 PHONE\nDuration    2h06m00s\n"
	if diff := cmp.Diff(wantTable, r.stdout); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// TestExportCSV checks that export writes a file that encoding/csv reads back, equal to the list.
func TestExportCSV(t *testing.T) {
	s := newTestServer(t, 230)
	path := filepath.Join(t.TempDir(), "audit.csv")
	r := runCLI(t, s.env(), "export", "--format", "csv", "--output", path)
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the exported file: %v, %v; want mode 0600 (it holds the account's sessions)", fi.Mode(), err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"id", "agent_id", "agent_name", "started_at", "ended_at", "duration_ms", "status", "redaction_count", "redactions_by_kind", "upstream_model"}}
	for _, sess := range s.walk(t) {
		kinds, _ := json.Marshal(sess.RedactionsByKind)
		want = append(want, []string{sess.ID, sess.AgentID, "'" + sess.AgentName, formatTime(sess.StartedAt), formatTime(sess.EndedAt),
			"252000", "ok", strconv.Itoa(sess.RedactionCount()), string(kinds), ""})
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("export (-want +got):\n%s", diff)
	}

	// The same through list --format csv, on stdout.
	r = runCLI(t, s.env(), "list", "--format", "csv")
	if r.code != 0 {
		t.Fatalf("list --format csv: exit %d: %s", r.code, r.stderr)
	}
	data, _ := os.ReadFile(path)
	if r.stdout != string(data) {
		t.Error("list --format csv differs from export --format csv")
	}
}

// TestExportFailsWithoutFile checks that a failed export leaves no file behind.
func TestExportFailsWithoutFile(t *testing.T) {
	s := newTestServer(t, 1)
	path := filepath.Join(t.TempDir(), "audit.csv")
	r := runCLI(t, s.env(), "export", "--output", path, "--since", "never")
	if r.code != exitUsage {
		t.Errorf("exit %d, want %d: %s", r.code, exitUsage, r.stderr)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
	// An output that cannot be written is said at once, in the user's terms.
	dir := t.TempDir()
	if r := runCLI(t, s.env(), "export", "--output", dir); r.code != exitUsage || !strings.Contains(r.stderr, "is a directory") {
		t.Errorf("--output a directory: exit %d, stderr %q", r.code, r.stderr)
	}
	missing := filepath.Join(dir, "no", "such", "dir", "audit.csv")
	if r := runCLI(t, s.env(), "export", "--output", missing); r.code == 0 || !strings.Contains(r.stderr, "--output "+missing) || strings.Contains(r.stderr, ".sessions-export") {
		t.Errorf("--output in a missing directory: exit %d, stderr %q", r.code, r.stderr)
	}
}
