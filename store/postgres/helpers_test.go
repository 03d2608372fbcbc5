package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions/internal/pgtest"
)

// newTestStore returns a store in a fresh schema of the test server (see newTestPool), closed
// when the test ends. Without SESSIONS_TEST_POSTGRES_URL it skips the test; with CI=true and no
// reachable server it fails it.
func newTestStore(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	s, err := New(context.Background(), newTestPool(tb), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// testDeadlockTimeout is the deadlock_timeout of the connections of newTestPool. PutSessions
// calls do not deadlock with each other (lockAccountsSQL; TestConcurrentUpserts), but a purge
// beside an upsert still may, and the server finds a deadlock only when a lock has been waited
// for this long (1 s by default). The store's retry of the aborted batch is the same either way.
const testDeadlockTimeout = "50ms"

// deadlockTimeout records whether the test server lets its role set deadlock_timeout (a
// superuser's setting), asked once per test binary.
var deadlockTimeout struct {
	once     sync.Once
	settable bool
}

// canSetDeadlockTimeout reports whether the role of pool may set deadlock_timeout.
func canSetDeadlockTimeout(pool *pgxpool.Pool) bool {
	deadlockTimeout.once.Do(func() {
		_, err := pool.Exec(context.Background(), "SET deadlock_timeout = '"+testDeadlockTimeout+"'")
		deadlockTimeout.settable = err == nil
	})
	return deadlockTimeout.settable
}

// newTestPool returns a pool on a fresh schema of the test server (see pgtest.NewSchema), closed
// when the test ends, whose connections find deadlocks after testDeadlockTimeout when the
// server's role may set it.
func newTestPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return newTestPoolDeadlockTimeout(tb, testDeadlockTimeout)
}

// newTestPoolDeadlockTimeout is newTestPool with the deadlock_timeout timeout, when the server's
// role may set it.
func newTestPoolDeadlockTimeout(tb testing.TB, timeout string) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	pool, _ := pgtest.NewSchema(tb)
	if !canSetDeadlockTimeout(pool) {
		return pool
	}
	cfg := pool.Config()
	cfg.ConnConfig.RuntimeParams["deadlock_timeout"] = timeout
	fast, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fast.Close) // before pgtest closes pool and drops the schema
	return fast
}
