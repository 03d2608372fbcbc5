package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/tailbench"
)

// BenchmarkPutSessions measures ingest: each operation is one PutSessions call of 1,000 new
// sessions over 20 agents of one account, into a store that grows as the benchmark runs (with
// synchronous=FULL: one fsync per call). It reports sessions/s, the time to make the sessions
// left out.
//
//   - live: sessions as they arrive, started in the last moments, so that new IDs and start
//     times land at the right edge of the indexes;
//   - backfill: start times spread at random over 30 days (an import), so that index inserts
//     land anywhere;
//   - one-at-a-time: live, in calls of one session, as a recorder that writes each call when it
//     ends.
//
// Run it with:
//
//	go test -run '^$' -bench PutSessions -benchtime 200x ./store/sqlite
func BenchmarkPutSessions(b *testing.B) {
	for _, c := range []struct {
		mode      string
		batchSize int
	}{{"live", 1000}, {"backfill", 1000}, {"one-at-a-time", 1}} {
		mode, batchSize := c.mode, c.batchSize
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			s := newTestStore(b)
			var agents []sessions.Agent
			for range 20 {
				a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct-bench"}
				if err := s.PutAgent(ctx, a); err != nil {
					b.Fatal(err)
				}
				agents = append(agents, a)
			}
			rnd := rand.New(rand.NewPCG(1, 2))
			clock := time.Now().Add(-24 * time.Hour)
			batch := make([]sessions.Session, batchSize)
			var elapsed time.Duration
			n := 0
			for b.Loop() {
				b.StopTimer()
				for i := range batch {
					a := agents[rnd.IntN(len(agents))]
					clock = clock.Add(time.Duration(rnd.IntN(10)) * time.Millisecond)
					start := clock
					if mode == "backfill" {
						start = clock.Add(-time.Duration(rnd.Int64N(int64(30 * 24 * time.Hour))))
					}
					batch[i] = sessions.Session{
						ID: sessions.NewSessionID(start), AccountID: a.AccountID, AgentID: a.ID,
						StartedAt: start, EndedAt: start.Add(time.Duration(rnd.IntN(600_000)) * time.Millisecond),
						Status:           sessions.StatusOK,
						RedactionsByKind: map[string]int{"PHONE": rnd.IntN(3), "NAME": rnd.IntN(3), "DOB": rnd.IntN(2)},
						UpstreamModel:    "gpt-4o-mini",
					}
				}
				b.StartTimer()
				begin := time.Now()
				if err := s.PutSessions(ctx, batch...); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(begin)
				n += batchSize
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "sessions/s")
		})
	}
}

// BenchmarkTailLatency measures the live tail: from PutSessions returning to the delivery, with
// the writer and the tail on one store (woken in process).
//
//	go test -run '^$' -bench TailLatency -benchtime 200x ./store/sqlite
func BenchmarkTailLatency(b *testing.B) {
	b.Run("same store", func(b *testing.B) {
		s := newTestStore(b)
		tailbench.Latency(b, s, s)
	})
}

// BenchmarkIngestFeedCost measures what the feed of the live tail (migration 0002: the index
// sessions_feed and the triggers that move the counter feed.position) costs ingest: each
// operation writes one batch of new live sessions over 20 agents into a fresh store with the
// feed, and one into a fresh store where the feed was removed, alternating, and it reports the
// sessions/s of each and their ratio (with/without). The store without the feed still computes
// each session's feed_position in the upsert (one read of the counter per statement), which it
// cannot leave out.
//
//	go test -run '^$' -bench IngestFeedCost -benchtime 50x -count 3 ./store/sqlite
func BenchmarkIngestFeedCost(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			with, without := newTestStore(b), newTestStore(b)
			_, err := without.write.ExecContext(b.Context(), `DROP TRIGGER sessions_feed_insert;
				DROP TRIGGER sessions_feed_update; DROP INDEX sessions_feed`)
			if err != nil {
				b.Fatal(err)
			}
			tailbench.IngestCost(b, with, without, size)
		})
	}
}
