package postgres

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/internal/testscale"
)

// TestTerminatedBackends terminates every backend of the store's pool, as a failover or a server
// restart does, and checks that the next calls either succeed (the store retries on another
// connection) or fail with ErrUnavailable, and that the pool recovers by itself.
func TestTerminatedBackends(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var all []sessions.Session
	for i := range 30 {
		all = append(all, f.session(f.a1, i))
	}
	if err := f.store.PutSessions(ctx, all...); err != nil {
		t.Fatal(err)
	}
	want := listAll(t, f.store, sessions.Filter{AccountID: f.account})
	app := f.store.pool.Config().ConnConfig.RuntimeParams["application_name"]

	for round := range 3 {
		// Several idle connections in the pool, all about to die.
		holdConns(t, f.store.pool, 4)
		n := terminate(t, app)
		if n == 0 {
			t.Fatalf("round %d: no backend of %s to terminate", round, app)
		}
		ops := []struct {
			name string
			op   func() error
		}{
			{"ListSessions", func() error {
				_, err := f.store.ListSessions(ctx, sessions.Filter{AccountID: f.account, Limit: 100})
				return err
			}},
			{"PutSessions", func() error { return f.store.PutSessions(ctx, all...) }},
			{"GetAgent", func() error { _, err := f.store.GetAgent(ctx, f.account, f.a1.ID); return err }},
		}
		op := ops[round%len(ops)]
		if err := op.op(); err != nil && !errors.Is(err, sessions.ErrUnavailable) {
			t.Errorf("round %d: %s right after %d backends were terminated = %v, want nil or ErrUnavailable", round, op.name, n, err)
		} else {
			t.Logf("round %d: %s right after %d backends were terminated: %v", round, op.name, n, err)
		}
		// Recovery, with no help: a few tries within seconds.
		var err error
		for try := 0; try < 50; try++ {
			if err = op.op(); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("round %d: the pool did not recover: %v", round, err)
		}
	}
	if diff := cmp.Diff(want, listAll(t, f.store, sessions.Filter{AccountID: f.account})); diff != "" {
		t.Errorf("after the outages (-want +got):\n%s", diff)
	}
}

// TestTerminatedDuringCopy terminates the store's backends while a large PutSessions is copying
// its batch into sessions. The store retries on another connection: the call succeeds, or fails
// with ErrUnavailable, and either way the batch is stored whole or not at all; writing it again
// then stores each session exactly once. With the small data sets each batch is 3,000 sessions,
// not 20,000: its COPY still runs for tens of milliseconds, and the backends are looked for
// every millisecond, so that the termination still falls in the middle of the copy.
func TestTerminatedDuringCopy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	app := f.store.pool.Config().ConnConfig.RuntimeParams["application_name"]
	n := testscale.Pick(3_000, 20_000)
	count := func(batch []sessions.Session) int {
		ids := make([]string, len(batch))
		for i, x := range batch {
			ids[i] = x.ID
		}
		var c int
		if err := f.store.pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE id = ANY($1)", ids).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for round := range 3 {
		batch := make([]sessions.Session, n)
		for i := range batch {
			batch[i] = f.session(f.a1, (round+1)*n+i)
		}
		done := make(chan error, 1)
		go func() { done <- f.store.PutSessions(ctx, batch...) }()
		terminated := terminateCopy(t, app, done)
		err := <-done
		if err != nil && !errors.Is(err, sessions.ErrUnavailable) {
			t.Fatalf("round %d: PutSessions with its backend terminated (%v) = %v, want nil or ErrUnavailable", round, terminated, err)
		}
		t.Logf("round %d: PutSessions with its backend terminated (%v): %v", round, terminated, err)
		if c := count(batch); (err == nil && c != n) || (err != nil && c != 0 && c != n) {
			t.Fatalf("round %d: PutSessions = %v, and %d of %d sessions stored", round, err, c, n)
		}
		if err := f.store.PutSessions(ctx, batch...); err != nil {
			t.Fatalf("round %d: PutSessions again: %v", round, err)
		}
		if c := count(batch); c != n {
			t.Fatalf("round %d: after PutSessions again, %d of %d sessions stored", round, c, n)
		}
	}
	var total int
	if err := f.store.pool.QueryRow(ctx, "SELECT count(*) FROM sessions").Scan(&total); err != nil || total != 3*n {
		t.Errorf("%d sessions stored (%v), want %d", total, err, 3*n)
	}
}

// terminateCopy waits until a backend with this application_name runs a COPY, and terminates it.
// It reports whether it did: it gives up when done is ready first, or after ten seconds.
func terminateCopy(tb testing.TB, app string, done <-chan error) bool {
	tb.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(done) == 0; {
		var n int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
			WHERE application_name = $1 AND state = 'active' AND query ILIKE 'copy%'`, app).Scan(&n)
		if err != nil {
			tb.Fatal(err)
		}
		if n > 0 {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// holdConns makes the pool open at least n connections, and returns them to it.
func holdConns(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	var conns []*pgxpool.Conn
	for range n {
		c, err := pool.Acquire(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
}

// terminate ends every backend with this application_name, and returns how many there were.
func terminate(tb testing.TB, app string) int {
	tb.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	var n int
	err = admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// closedPort returns the address of a TCP port on 127.0.0.1 where nothing listens.
func closedPort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestUnreachable checks that a server that cannot be reached gives ErrUnavailable promptly, from
// Open and from every method of a store whose server went away.
func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connString := "postgres://postgres@" + closedPort(t) + "/test?sslmode=disable&connect_timeout=10"
	begin := time.Now()
	_, err := Open(ctx, connString)
	if !errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("Open = %v, want ErrUnavailable", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("Open took %v to fail, want it prompt", d)
	}

	pool, err := pgxpool.New(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// The store of a server that went away: New would fail, migrating.
	s := &Store{pool: pool, read: pool, listMode: pgx.QueryExecModeCacheDescribe, purgeMode: pgx.QueryExecModeCacheDescribe, purgeBatch: defaultPurgeBatch, attempts: 5, readAttempts: 5}
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct"}
	start := time.Now()
	ops := map[string]func() error{
		"PutAgent": func() error { return s.PutAgent(ctx, a) },
		"GetAgent": func() error { _, err := s.GetAgent(ctx, a.AccountID, a.ID); return err },
		"PutSessions": func() error {
			return s.PutSessions(ctx, sessions.Session{ID: sessions.NewSessionID(start), AccountID: a.AccountID,
				AgentID: a.ID, StartedAt: start, EndedAt: start, Status: sessions.StatusOK})
		},
		"ListSessions":  func() error { _, err := s.ListSessions(ctx, sessions.Filter{AccountID: a.AccountID}); return err },
		"PurgeSessions": func() error { _, err := s.PurgeSessions(ctx, start); return err },
	}
	for name, op := range ops {
		begin := time.Now()
		if err := op(); !errors.Is(err, sessions.ErrUnavailable) {
			t.Errorf("%s = %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(begin); d > 3*time.Second {
			t.Errorf("%s took %v to fail, want it prompt", name, d)
		}
	}
}

// TestBlocked holds a lock that the store's queries wait for, and checks the errors of a deadline
// that passes and of a context cancelled while they wait.
func TestBlocked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pool, err := pgxpool.NewWithConfig(ctx, f.store.pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "LOCK TABLE sessions, agents IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	list := func(ctx context.Context) error {
		_, err := f.store.ListSessions(ctx, sessions.Filter{AccountID: f.account})
		return err
	}
	put := func(ctx context.Context) error { return f.store.PutSessions(ctx, f.session(f.a1, 1)) }
	for name, op := range map[string]func(context.Context) error{"ListSessions": list, "PutSessions": put} {
		deadline, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := op(deadline)
		cancel()
		if !errors.Is(err, sessions.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s past its deadline = %v, want ErrUnavailable and DeadlineExceeded", name, err)
		}

		cancelled, cancel := context.WithCancel(ctx)
		time.AfterFunc(200*time.Millisecond, cancel)
		err = op(cancelled)
		if !errors.Is(err, context.Canceled) || errors.Is(err, sessions.ErrUnavailable) {
			t.Errorf("%s cancelled = %v, want context.Canceled", name, err)
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := list(ctx); err != nil {
		t.Errorf("after the lock: %v", err)
	}
}

// TestReadPool checks that ListSessions reads from the read pool, and the rest from the primary
// pool, and that Close leaves both pools open.
func TestReadPool(t *testing.T) {
	ctx := context.Background()
	replica := newFixture(t) // stands for a replica: another schema, with its own sessions
	if err := replica.store.PutSessions(ctx, replica.session(replica.a1, 1)); err != nil {
		t.Fatal(err)
	}
	want, err := replica.store.ListSessions(ctx, sessions.Filter{AccountID: replica.account})
	if err != nil {
		t.Fatal(err)
	}

	pool, _ := pgtest.NewSchema(t)
	s, err := New(ctx, pool, WithReadPool(replica.store.pool))
	if err != nil {
		t.Fatal(err)
	}
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: replica.account}
	if err := s.PutAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAgent(ctx, a.AccountID, a.ID); err != nil {
		t.Errorf("GetAgent from the primary: %v", err)
	}
	got, err := s.ListSessions(ctx, sessions.Filter{AccountID: replica.account})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListSessions did not read from the read pool (-want +got):\n%s", diff)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*pgxpool.Pool{"pool": pool, "read pool": replica.store.pool} {
		if err := p.Ping(ctx); err != nil {
			t.Errorf("after Close, the %s: %v", name, err)
		}
	}
}
