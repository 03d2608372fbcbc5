// Package tailbench measures the live tail of a store: how long a session takes from the return
// of PutSessions to a tail's fn, and what the feed costs ingest.
package tailbench

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// Latency writes one session per operation through w, waits until the tail of tl (another store
// on the same database, or w itself) delivers it, and reports the p50 and p99 of the time from
// PutSessions returning to the delivery, in milliseconds ("p50-ms", "p99-ms").
func Latency(b *testing.B, w sessions.Store, tl sessions.Tailer) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct-bench"}
	if err := w.PutAgent(ctx, a); err != nil {
		b.Fatal(err)
	}
	start, err := tl.TailPosition(ctx)
	if err != nil {
		b.Fatal(err)
	}
	delivered := make(chan time.Time, 1)
	done := make(chan error, 1)
	go func() {
		done <- tl.Tail(ctx, sessions.Filter{AccountID: a.AccountID}, start, func(sessions.Session, string) error {
			delivered <- time.Now()
			return nil
		})
	}()
	var lat []time.Duration
	at := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	for b.Loop() {
		at = at.Add(time.Millisecond)
		s := sessions.Session{ID: sessions.NewSessionID(at), AccountID: a.AccountID, AgentID: a.ID,
			StartedAt: at, EndedAt: at, Status: sessions.StatusOK}
		if err := w.PutSessions(ctx, s); err != nil {
			b.Fatal(err)
		}
		returned := time.Now()
		select {
		case got := <-delivered:
			lat = append(lat, max(0, got.Sub(returned)))
		case err := <-done:
			b.Fatalf("Tail returned %v", err)
		case <-time.After(30 * time.Second):
			b.Fatal("no delivery within 30 s")
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99-ms")
	}
}

// IngestCost measures what the feed costs ingest: each operation writes one batch of size new
// live sessions over 20 agents of one account into with, a store with the feed, and one into
// without, the same store with the feed removed, alternating, so that both see the same load of
// a shared machine. It reports the sessions/s of each and their ratio ("with/without": 1 is
// free, 0.9 a cost of 10%).
func IngestCost(b *testing.B, with, without sessions.Store, size int) {
	ctx := context.Background()
	var agents []sessions.Agent
	for range 20 {
		a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct-bench"}
		for _, s := range []sessions.Store{with, without} {
			if err := s.PutAgent(ctx, a); err != nil {
				b.Fatal(err)
			}
		}
		agents = append(agents, a)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	clock := time.Now().Add(-24 * time.Hour)
	batch := make([]sessions.Session, size)
	var elapsed [2]time.Duration
	n := 0
	for b.Loop() {
		for k, s := range []sessions.Store{with, without} {
			for i := range batch {
				a := agents[rnd.IntN(len(agents))]
				clock = clock.Add(time.Duration(rnd.IntN(10)) * time.Millisecond)
				batch[i] = sessions.Session{ID: sessions.NewSessionID(clock), AccountID: a.AccountID, AgentID: a.ID,
					StartedAt: clock, EndedAt: clock.Add(time.Minute), Status: sessions.StatusOK,
					RedactionsByKind: map[string]int{"PHONE": rnd.IntN(3), "NAME": rnd.IntN(3)}, UpstreamModel: "gpt-4o-mini"}
			}
			begin := time.Now()
			if err := s.PutSessions(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			elapsed[k] += time.Since(begin)
		}
		n += size
	}
	b.ReportMetric(float64(n)/elapsed[0].Seconds(), "with-sessions/s")
	b.ReportMetric(float64(n)/elapsed[1].Seconds(), "without-sessions/s")
	b.ReportMetric(elapsed[1].Seconds()/elapsed[0].Seconds(), "with/without")
}
