// Package tailbench measures the live tail of a store: how long a session takes from the return
// of PutSessions to a tail's fn.
package tailbench

import (
	"context"
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
