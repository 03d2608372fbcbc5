package postgres

import (
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
	"github.com/masker-dev/sessions/store/storetest"
)

// smallPurgeBatch is the purge batch of the conformance suite's stores with the small data sets:
// storetest's "Purge/many sessions" case then writes 600 sessions, which cross a dozen batches of
// this size, as its 7,000 cross defaultPurgeBatch with the large ones.
const smallPurgeBatch = 50

// conformanceStore returns a store in a fresh schema for the conformance suite: with the small
// data sets, one that purges in batches of smallPurgeBatch.
func conformanceStore(t *testing.T) *Store {
	s := newTestStore(t)
	s.purgeBatch = testscale.Pick(smallPurgeBatch, defaultPurgeBatch)
	return s
}

// TestConformance runs the conformance suite, each of its stores in a fresh schema.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sessions.Store { return conformanceStore(t) })
}
