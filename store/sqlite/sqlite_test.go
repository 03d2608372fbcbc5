package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/storetest"
)

// TestConformance runs the conformance suite, each of its stores in a fresh file.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sessions.Store { return newTestStore(t) })
}

// newTestStore opens a store on a new file in a temporary directory, closed when the test ends.
func newTestStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), filepath.Join(tb.TempDir(), "sessions.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// TestConformanceChunked runs the conformance rules of writes with PutSessions writing at most 7
// sessions per statement, so that its transaction of several statements, which calls of more
// than 10,000 sessions take, meets every case of writes too. (The other rules read what any
// PutSessions wrote; TestConformance runs them all.)
func TestConformanceChunked(t *testing.T) {
	t.Parallel()
	storetest.RunRules(t, func(t *testing.T) sessions.Store {
		s := newTestStore(t)
		s.putChunk = 7
		return s
	}, "WalkDuringWrites", "AtomicBatch", "SessionValidation", "Upsert", "Conflict", "AgentNotFound",
		"AgentName", "Normalization", "Context", "TenantIsolation", "Differential", "Purge", "Tail", "Summary")
}
