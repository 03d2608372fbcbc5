package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// The environment of the child process of TestCrash.
const (
	crashEnvDB    = "SQLITE_CRASH_TEST_DB"    // the database file
	crashEnvAgent = "SQLITE_CRASH_TEST_AGENT" // the agent of the sessions
	crashEnvFirst = "SQLITE_CRASH_TEST_FIRST" // the number of the child's first batch
)

// crashBatchSize is the number of sessions of one batch of the crash test: enough for a
// transaction of many pages, so that a kill can land in the middle of writing one. With the
// small test data sets it is 100 sessions rather than 500: a transaction of 35 to 46 pages of
// the WAL rather than 80 to 130, and still most of the time of the child, which does little
// but write them. (The child inherits the environment, and with it the size of the parent.)
var crashBatchSize = testscale.Pick(100, 500)

// TestCrash kills a writing process with SIGKILL at random moments, several times in a row, on
// the same file. The child (TestCrashChild) writes batches of sessions, each tagged with its
// number in UpstreamModel, and prints "ack N" once PutSessions(batch N) has returned. After
// the kills, the file must open cleanly, pass PRAGMA integrity_check, and hold every
// acknowledged batch whole, and no batch in part (a batch committed but killed before its ack
// may be there, whole). With the small test data sets it kills 3 children rather than 6, each
// after 1 to 3 acknowledged batches rather than 1 to 8: every child after the first still
// opens a file whose WAL a kill left, holding committed batches to recover.
func TestCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := mustOpen(t, path)
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	if err := s.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[int]bool{}
	runs := testscale.Pick(3, 6)
	for run := range runs {
		// Kill after a random number of acknowledged batches (the child is then writing the
		// next one), and a random delay within a batch's time.
		afterAcks := 1 + rnd.IntN(testscale.Pick(3, 8))
		delay := time.Duration(rnd.IntN(30_000)) * time.Microsecond
		n := crashChild(t, path, agent.ID, run*100_000, afterAcks, delay)
		for _, k := range n {
			acked[k] = true
		}
		wal := "no WAL"
		if fi, err := os.Stat(path + "-wal"); err == nil {
			wal = fmt.Sprintf("a WAL of %d bytes", fi.Size())
		}
		t.Logf("run %d: killed %v after ack %d: %d batches acknowledged, %s left to recover", run, delay, afterAcks, len(n), wal)
	}

	s = mustOpen(t, path) // recovers the WAL
	var check string
	if err := s.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	rows, err := s.read.QueryContext(ctx, "SELECT upstream_model, count(*) FROM sessions GROUP BY upstream_model")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[int]int{}
	for rows.Next() {
		var model string
		var count int
		if err := rows.Scan(&model, &count); err != nil {
			t.Fatal(err)
		}
		k, err := strconv.Atoi(strings.TrimPrefix(model, "batch-"))
		if err != nil {
			t.Fatalf("unexpected upstream_model %q", model)
		}
		stored[k] = count
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for k, count := range stored {
		if count != crashBatchSize {
			t.Errorf("batch %d has %d sessions, want all %d or none", k, count, crashBatchSize)
		}
	}
	for k := range acked {
		if _, ok := stored[k]; !ok {
			t.Errorf("acknowledged batch %d is lost", k)
		}
	}
	if len(acked) < runs {
		t.Errorf("only %d batches acknowledged in %d runs", len(acked), runs)
	}
	t.Logf("%d batches acknowledged, %d stored", len(acked), len(stored))
}

// crashChild runs TestCrashChild in a new process of the test binary, writing batches from
// number first, and kills it with SIGKILL delay after its afterAcks-th acknowledgement. It
// returns the numbers of the acknowledged batches.
func crashChild(tb testing.TB, path, agentID string, first, afterAcks int, delay time.Duration) []int {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvDB+"="+path, crashEnvAgent+"="+agentID, crashEnvFirst+"="+strconv.Itoa(first))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	var acks []int
	killed := false
	// A child that makes no progress for this long is stuck: kill it, and fail below. The
	// limit is on progress, not on the whole run, so that a slow machine (-race, other
	// processes) is no failure.
	const stalled = 30 * time.Second
	timeout := time.AfterFunc(stalled, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		k, ok := strings.CutPrefix(lines.Text(), "ack ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(k)
		if err != nil {
			tb.Fatalf("child: %q", lines.Text())
		}
		acks = append(acks, n)
		timeout.Reset(stalled)
		if len(acks) == afterAcks && !killed {
			killed = true
			time.AfterFunc(delay, func() { cmd.Process.Kill() }) // SIGKILL
		}
	}
	err = cmd.Wait()
	if !killed {
		tb.Fatalf("the child ended before it was killed, after %d acks: %v\n%s", len(acks), err, stderr.String())
	}
	return acks
}

// TestCrashChild is the child process of TestCrash: it writes batches until it is killed. Run
// directly, without the environment TestCrash gives it, it does nothing.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnvDB)
	if path == "" {
		t.Skip("the child process of TestCrash; it runs only there")
	}
	first, err := strconv.Atoi(os.Getenv(crashEnvFirst))
	if err != nil {
		t.Fatal(err)
	}
	agentID := os.Getenv(crashEnvAgent)
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC).Add(time.Duration(first) * time.Second)
	for k := first; k < first+10_000; k++ {
		batch := make([]sessions.Session, crashBatchSize)
		for i := range batch {
			start = start.Add(time.Millisecond)
			batch[i] = sessions.Session{ID: sessions.NewSessionID(start), AccountID: "acme", AgentID: agentID,
				StartedAt: start, EndedAt: start.Add(time.Second), Status: sessions.StatusOK,
				RedactionsByKind: map[string]int{"PHONE": i % 3}, UpstreamModel: fmt.Sprintf("batch-%d", k)}
		}
		if err := s.PutSessions(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		// One write(2) of a short line: the parent reads whole lines.
		if _, err := fmt.Fprintf(os.Stdout, "ack %d\n", k); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("not killed")
}
