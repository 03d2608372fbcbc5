package benchdata

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// SummaryWindow is the window of the summary benchmarks: the last 30 days of the data set, from
// a time inside an hour, so that a summary reads a partial hour of raw rows at its edge.
var SummaryWindow = End.Add(-30*24*time.Hour + 17*time.Minute + 123*time.Millisecond)

// RunSummary runs the sub-benchmarks "agent" (the busiest agent) and "account" (every agent):
// the summary of SummaryWindow by s, alternating in one loop (RunPaired) with bare, the plain
// aggregate query over the raw rows of the same window that a store's benchmark writes by hand.
// bare gets the filter, whose AgentID is empty for the account. It reports each one's mean time
// and the ratio library/bare, the sessions summarized, and the rollup rows that the summary
// reads: rollupRows counts them for a filter (benchmark code of the store).
func RunSummary(b *testing.B, s sessions.Summarizer, bare func(f sessions.Filter) error, rollupRows func(f sessions.Filter) (int64, error)) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		agent string
	}{{"agent", AgentList()[0].ID}, {"account", ""}} {
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

// RunIngestPaired measures PutSessions in batches of each size into two stores, alternating in
// one loop (RunPaired): with, the store as it is, and without, the same store without the
// feature whose cost to ingest is measured (the summary rollups, the groups indexes). Both must
// hold the agents of AgentList. Each batch holds the same new
// sessions for both, one per agent in turn, a millisecond apart, as RunIngest writes them.
func RunIngestPaired(b *testing.B, with, without sessions.Store, sizes ...int) {
	ctx := context.Background()
	agents := AgentList()
	for _, size := range sizes {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			start := End.Add(time.Hour)
			written := 0
			batch := func() []sessions.Session {
				out := make([]sessions.Session, size)
				for i := range out {
					t := start.Add(time.Duration(written+i) * time.Millisecond)
					out[i] = sessions.Session{
						ID: sessions.NewSessionID(t), AccountID: Account, AgentID: agents[(written+i)%len(agents)].ID,
						StartedAt: t, EndedAt: t.Add(time.Minute), Status: sessions.StatusOK,
						RedactionsByKind: map[string]int{"NAME": 1, "PHONE": 2},
						UpstreamModel:    "gpt-4o-mini",
					}
				}
				written += size
				return out
			}
			var next []sessions.Session
			turns := 0
			put := func(s sessions.Store) func() error {
				return func() error {
					// A new batch for every pair: each store writes the same sessions once.
					if turns%2 == 0 {
						next = batch()
					}
					turns++
					return s.PutSessions(ctx, next...)
				}
			}
			RunPaired(b, put(with), put(without))
			b.ReportMetric(float64(size), "sessions/op")
		})
	}
}
