package postgres

import (
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/storetest"
)

// TestConformance runs the conformance suite, each of its stores in a fresh schema.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sessions.Store { return newTestStore(t) })
}
