package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/storetest"
)

// TestTailTwoStores runs the feed rules with two stores on one file, as two processes have them:
// the writes of one reach the tails of the other by polling, here every 10 ms rather than every
// second.
func TestTailTwoStores(t *testing.T) {
	storetest.RunTail(t, func(t *testing.T) (sessions.Store, sessions.Store) {
		path := filepath.Join(t.TempDir(), "sessions.db")
		a, b := mustOpen(t, path), mustOpen(t, path)
		a.tailPoll, b.tailPoll = 10*time.Millisecond, 10*time.Millisecond
		return a, b
	})
}
