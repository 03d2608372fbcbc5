package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
	"github.com/masker-dev/sessions/store/storetest"
)

// TestConformance runs the conformance suite, each of its stores in a fresh file.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sessions.Store { return newTestStore(t) })
}

// newTestStore opens a store on a new file in a temporary directory, closed when the test ends.
// With the small test data sets (see testscale), a PurgeSessions transaction of the store
// deletes at most 50 sessions of an account rather than 2,000, so that the suite's purge of a
// few hundred sessions still runs several batches of each account, as its thousands do at the
// default batch with the large data sets.
func newTestStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), filepath.Join(tb.TempDir(), "sessions.db"))
	if err != nil {
		tb.Fatal(err)
	}
	s.purgeBatch = testscale.Pick(50, defaultPurgeBatch)
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// TestConformanceChunked runs the conformance rules that reach the chunked write path, with
// PutSessions writing at most 7 sessions per statement: a call of more sessions is then one
// transaction of several statements, as a call of more than 10,000 sessions is at the default
// size. What that path changes is only what spans a call's statements: each session of the call
// is written once, whatever the chunk boundaries; a failure in a later statement undoes the
// earlier ones; readers see the call whole or not at all. The rules kept, each with calls of
// more than 7 sessions that check one of those:
//   - AtomicBatch: calls of tens (hundreds with the large data sets) of good sessions with a
//     bad agent or a conflicting ID last, which fail in the last statement and must leave
//     nothing, and a large batch listed whole;
//   - WalkDuringWrites: calls of 10 sessions while a walk pages, which must see each whole;
//   - Differential: calls of 1 to 200 new sessions, with chunk boundaries anywhere, then every
//     list compared with the model (its calls of rewrites, of a hundredth of its sessions, cross
//     statements with the large data sets only);
//   - Summary: calls of up to 150 new sessions and of tens of rewrites, summaries compared with
//     the model, and summaries during one call that moves tens of sessions or more, which must
//     see it whole.
//
// The other rules of writes do not reach it, and TestConformance runs them: SessionValidation,
// Normalization, Conflict, AgentNotFound and Context write calls of at most 4 sessions (and
// validation and the context come before any statement); Upsert's rewrites are calls of at most
// 3 (sessions.PrepareBatch merges an ID repeated in a call before the chunks are cut); Tail
// writes calls of at most 3; AgentName, TenantIsolation and Purge write only their setup in
// larger calls, and what they check (AgentName, not written by either path; the account scope
// of reads; purging) does not depend on how the setup was written.
func TestConformanceChunked(t *testing.T) {
	t.Parallel()
	storetest.RunRules(t, func(t *testing.T) sessions.Store {
		s := newTestStore(t)
		s.putChunk = 7
		return s
	}, "WalkDuringWrites", "AtomicBatch", "Differential", "Summary")
}
