package postgres

import (
	"context"
	"testing"

	"github.com/masker-dev/sessions/internal/pgtest"
)

// newTestStore returns a store in a fresh schema of the test server (see pgtest.NewSchema),
// closed when the test ends. Without SESSIONS_TEST_POSTGRES_URL it skips the test; with CI=true
// and no reachable server it fails it.
func newTestStore(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	pool, _ := pgtest.NewSchema(tb)
	s, err := New(context.Background(), pool, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
