package main

import (
	"math/rand"
	"testing"
	"time"
)

// TestDemoSessionsHaveEnded checks that every demo call has ended by the time it is recorded,
// and started in the 30 days (and one call's length) before.
func TestDemoSessionsHaveEnded(t *testing.T) {
	now := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	rng := rand.New(rand.NewSource(1))
	for range 10_000 {
		s := demoSession(rng, now)
		if s.EndedAt.After(now) {
			t.Fatalf("session %s ends at %s, after now (%s)", s.ID, s.EndedAt, now)
		}
		if earliest := now.Add(-30*24*time.Hour - 11*time.Minute); s.StartedAt.Before(earliest) {
			t.Fatalf("session %s starts at %s, before %s", s.ID, s.StartedAt, earliest)
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}
