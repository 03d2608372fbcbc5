package benchdata

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/oklog/ulid/v2"
)

// SummaryWindow is the window of the summary benchmarks: the last 30 days of the data set, from
// a time inside an hour, so that a summary reads a partial hour of raw rows at its edge.
var SummaryWindow = End.Add(-30*24*time.Hour + 17*time.Minute + 123*time.Millisecond)

// SummaryStore is a store that the summary benchmarks load and summarize.
type SummaryStore interface {
	sessions.Store
	sessions.Summarizer
}

// RunSummary runs the sub-benchmarks "agent" (the busiest agent) and "account" (every agent),
// and "busy-agent" when SESSIONS_BENCH_BUSY is set (see BusyAgent): the summary of SummaryWindow
// by s, alternating in one loop (RunPaired) with bare, the plain aggregate query over the raw
// rows of the same window that a store's benchmark writes by hand. bare gets the filter, whose
// AgentID is empty for the account. It reports each one's mean time and the ratio
// library/bare, the sessions summarized, and the rollup rows that the summary reads: rollupRows
// counts them for a filter (benchmark code of the store).
func RunSummary(b *testing.B, s SummaryStore, bare func(f sessions.Filter) error, rollupRows func(f sessions.Filter) (int64, error)) {
	ctx := context.Background()
	cases := []struct {
		name  string
		agent string
	}{{"agent", AgentList()[0].ID}, {"account", ""}}
	if busy := BusyAgent(b, s); busy != "" {
		cases = append(cases, struct {
			name  string
			agent string
		}{"busy-agent", busy})
	}
	for _, c := range cases {
		f := sessions.Filter{AccountID: Account, AgentID: c.agent, Since: SummaryWindow}
		b.Run(c.name, func(b *testing.B) {
			m, err := s.SummarizeSessions(ctx, f)
			if err != nil {
				b.Fatal(err)
			}
			RunPaired(b, func() error {
				_, err := s.SummarizeSessions(ctx, f)
				return err
			}, func() error { return bare(f) })
			b.ReportMetric(float64(m.Sessions), "sessions")
			n, err := rollupRows(f)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n), "rollup-rows")
		})
	}
}

// BusySize returns the sessions of the busy agent of BusyAgent: the number in the environment
// variable SESSIONS_BENCH_BUSY, or 0 when it is not set. A kept store (SESSIONS_BENCH_DB,
// SESSIONS_BENCH_SCHEMA) holds the data set's sessions and, once BusyAgent has run, these.
func BusySize(tb testing.TB) int {
	tb.Helper()
	v := os.Getenv("SESSIONS_BENCH_BUSY")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("benchdata: SESSIONS_BENCH_BUSY=%q: want a positive whole number", v)
	}
	return n
}

// BusyAgent gives the data set in s, when the environment variable SESSIONS_BENCH_BUSY holds a
// number n, one more agent of its account with n sessions in SummaryWindow (the summary target's
// "busy agent with 1M sessions in the window", which the skewed load of the data set reaches
// only at about 17M sessions), and returns its ID; it returns "" when the variable is not set.
// It writes the sessions once: a store that holds them already (SESSIONS_BENCH_DB,
// SESSIONS_BENCH_SCHEMA) is left as it is.
func BusyAgent(tb testing.TB, s SummaryStore) string {
	tb.Helper()
	n := BusySize(tb)
	if n == 0 {
		return ""
	}
	ctx := context.Background()
	rng := rand.New(rand.NewSource(Seed + 2))
	agent := sessions.Agent{ID: sessions.AgentIDPrefix + ulid.MustNew(ulid.Timestamp(End), rng).String(),
		AccountID: Account, Name: "agent-busy"}
	if err := s.PutAgent(ctx, agent); err != nil {
		tb.Fatal(err)
	}
	have, err := s.SummarizeSessions(ctx, sessions.Filter{AccountID: Account, AgentID: agent.ID})
	if err != nil {
		tb.Fatal(err)
	}
	switch {
	case have.Sessions == int64(n):
		return agent.ID
	case have.Sessions != 0:
		tb.Fatalf("benchdata: the busy agent has %d sessions, want 0 or %d: use another SESSIONS_BENCH_DB or SESSIONS_BENCH_SCHEMA", have.Sessions, n)
	}
	span := End.Sub(SummaryWindow)
	batch := make([]sessions.Session, 0, 10_000)
	for i := range n {
		started := End.Add(-time.Duration(rng.Int63n(int64(span/time.Millisecond))) * time.Millisecond)
		batch = append(batch, session(rng, sessionID(rng, started), agent.ID, started))
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.PutSessions(ctx, batch...); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return agent.ID
}

// RunIngestPaired measures PutSessions in batches of each size into two stores, alternating in
// one loop (RunTurns), and reports as RunPaired does: with, the store as it is, and without, the
// same store without the feature whose cost to ingest is measured (the summary rollups, the
// groups indexes). Both must hold the agents of AgentList. Each batch holds the same new
// sessions for both (IngestBatch), made before the pair's writes and not timed.
func RunIngestPaired(b *testing.B, with, without sessions.Store, sizes ...int) {
	ctx := context.Background()
	agents := AgentList()
	for _, size := range sizes {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			var batch []sessions.Session
			written := 0
			total := RunTurns(b, func() {
				// A new batch for every pair: each store writes the same sessions once.
				batch = IngestBatch(batch, agents, written, size)
				written += size
			}, func() error { return with.PutSessions(ctx, batch...) },
				func() error { return without.PutSessions(ctx, batch...) })
			reportPaired(b, total)
			b.ReportMetric(float64(size), "sessions/op")
		})
	}
}

// RunSummaryRawRows runs the sub-benchmarks "rows=2000", "rows=10000" and "rows=20000": the
// summary by s of a window that holds that many sessions of one agent, all with redactions, with
// MinRedactions 1, which a SQL store reads entirely from raw rows. It reports us/row, the time of
// a summary divided by its rows: what each raw row of a summary costs, as an unfolded log of
// rollups would. s must be empty; the cases write their sessions in turn, 100 ms apart.
func RunSummaryRawRows(b *testing.B, s SummaryStore) {
	ctx := context.Background()
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "a"}
	if err := s.PutAgent(ctx, agent); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	written := 0
	for _, n := range []int{2000, 10000, 20000} {
		var batch []sessions.Session
		for ; written < n; written++ {
			at := start.Add(time.Duration(written) * 100 * time.Millisecond)
			batch = append(batch, sessions.Session{ID: sessions.NewSessionID(at), AccountID: "acme", AgentID: agent.ID,
				StartedAt: at, EndedAt: at.Add(time.Minute), Status: []sessions.Status{"ok", "error", "partial"}[written%3],
				RedactionsByKind: map[string]int{"NAME": 1 + written%3, "PHONE": written % 2, "DOB": written % 4}})
			if len(batch) == 1000 {
				if err := s.PutSessions(ctx, batch...); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		f := sessions.Filter{AccountID: "acme", Since: start, Until: start.Add(24 * time.Hour), MinRedactions: 1}
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			for b.Loop() {
				m, err := s.SummarizeSessions(ctx, f)
				if err != nil || m.Sessions != int64(n) {
					b.Fatalf("summary of %d sessions: %d, %v", n, m.Sessions, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "us/row")
		})
	}
}
