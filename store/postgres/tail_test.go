package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/internal/testscale"
	"github.com/masker-dev/sessions/store/storetest"
)

// tailWait bounds every wait of these tests for a delivery.
const tailWait = 30 * time.Second

// twoStores returns two stores on one fresh schema (see newTestPool), each with its own pool, as
// two replicas of an application have them, closed when the test ends. setup, when not empty,
// runs first in the schema.
func twoStores(tb testing.TB, setup ...string) (*Store, *Store) {
	tb.Helper()
	ctx := context.Background()
	pool := newTestPool(tb)
	a, err := New(ctx, pool)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	for _, sql := range setup {
		if _, err := pool.Exec(ctx, sql); err != nil {
			tb.Fatal(err)
		}
	}
	other, err := pgxpool.NewWithConfig(ctx, pool.Config())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(other.Close)
	b, err := New(ctx, other)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return a, b
}

// TestTailTwoStores runs the feed rules with the writes through one store and the tails through
// another on the same schema.
func TestTailTwoStores(t *testing.T) {
	t.Parallel() // its writers and tails wait on each other more than they work
	storetest.RunTail(t, func(t *testing.T) (sessions.Store, sessions.Store) { return twoStores(t) })
}

// slowWrites returns a trigger that makes every statement that writes sessions sleep up to
// maxMS milliseconds after it wrote its rows (and so after it took its feed positions) and
// before it commits: under concurrent writers, transactions commit out of the order of their
// positions.
func slowWrites(maxMS int) []string {
	return []string{
		fmt.Sprintf(`CREATE FUNCTION test_slow_writes() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_sleep(random() * %g);
			RETURN NULL;
		END
		$$`, float64(maxMS)/1000),
		`CREATE TRIGGER test_slow_writes AFTER INSERT OR UPDATE ON sessions
			FOR EACH STATEMENT EXECUTE FUNCTION test_slow_writes()`,
	}
}

// TestTailOutOfOrderCommits runs the feed rules, with concurrent writers through two stores,
// while transactions commit out of the order of their positions (slowWrites): nothing is
// missed, nothing repeated. With the small data sets the pauses are up to 5 ms, not 30: a
// statement's own work takes well under a millisecond, so a pause of a few milliseconds still
// lets a later writer take its positions and commit first, and the writers, which wait for each
// other's rows of summary_totals while they pause, spend less of the test waiting.
func TestTailOutOfOrderCommits(t *testing.T) {
	t.Parallel() // its writers mostly sleep (slowWrites) or wait for each other's locks
	pause := testscale.Pick(5, 30)
	storetest.RunTail(t, func(t *testing.T) (sessions.Store, sessions.Store) { return twoStores(t, slowWrites(pause)...) })
}

// TestTailHeldBack makes the case of the contract happen for certain: transaction A writes
// session a and takes its position, then waits, in a trigger, for a lock that the test holds;
// meanwhile B writes b, after A's position, and commits. A tail running all along must deliver
// both, a first: a tail that trusted positions alone would pass b and never see a.
func TestTailHeldBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), tailWait)
	defer cancel()
	w, s := twoStores(t,
		`CREATE FUNCTION test_held_back() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.upstream_model = 'held back' THEN
				PERFORM pg_advisory_xact_lock(184467);
			END IF;
			RETURN NULL;
		END
		$$`,
		`CREATE TRIGGER test_held_back AFTER INSERT OR UPDATE ON sessions
			FOR EACH ROW EXECUTE FUNCTION test_held_back()`)
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	if err := w.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	lock, err := w.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	if _, err := lock.Exec(ctx, "SELECT pg_advisory_lock(184467)"); err != nil {
		t.Fatal(err)
	}
	start, err := s.TailPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan sessions.Session, 2)
	tailDone := make(chan error, 1)
	go func() {
		tailDone <- s.Tail(ctx, sessions.Filter{AccountID: "acme"}, start, func(x sessions.Session, _ string) error {
			got <- x
			if len(got) == 2 {
				return errStop
			}
			return nil
		})
	}()
	at := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	a := sessions.Session{ID: sessions.NewSessionID(at), AccountID: "acme", AgentID: agent.ID,
		StartedAt: at, EndedAt: at, Status: sessions.StatusOK, UpstreamModel: "held back"}
	b := a
	b.ID, b.UpstreamModel = sessions.NewSessionID(at), "on time"
	aDone := make(chan error, 1)
	go func() { aDone <- w.PutSessions(ctx, a) }()
	// Wait until A waits for the lock: it has written a and taken its position.
	for {
		var waiting bool
		err := w.pool.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_locks
			WHERE locktype = 'advisory' AND objid = 184467 AND NOT granted`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("A never waited for the lock")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := w.PutSessions(ctx, b); err != nil {
		t.Fatal(err)
	}
	// b is committed, after a's position; the tail must not deliver it before a.
	if _, err := lock.Exec(ctx, "SELECT pg_advisory_unlock(184467)"); err != nil {
		t.Fatal(err)
	}
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if err := <-tailDone; !errors.Is(err, errStop) {
		t.Fatalf("Tail returned %v after %d deliveries; want both sessions", err, len(got))
	}
	if first, second := <-got, <-got; first.ID != a.ID || second.ID != b.ID {
		t.Errorf("delivered %s (%s), then %s (%s); want a (held back), then b", first.ID, first.UpstreamModel, second.ID, second.UpstreamModel)
	}
}

var errStop = errors.New("stop the tail")

// tailOne runs a tail of acme on s from after in a goroutine, and returns a channel of its
// deliveries.
func tailOne(ctx context.Context, t *testing.T, s *Store, after string) <-chan sessions.Session {
	got := make(chan sessions.Session, 16)
	go func() {
		err := s.Tail(ctx, sessions.Filter{AccountID: "acme"}, after, func(x sessions.Session, _ string) error {
			got <- x
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Tail returned %v; want context.Canceled at the end of the test", err)
		}
	}()
	return got
}

// tailFromNow writes an agent of account acme through w, and starts a tail of the account
// through s from the end of the feed: it returns the agent and what the tail delivers.
func tailFromNow(ctx context.Context, t *testing.T, w, s *Store) (sessions.Agent, <-chan sessions.Session) {
	t.Helper()
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	if err := w.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	start, err := s.TailPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return agent, tailOne(ctx, t, s, start)
}

// writeAndWait writes a new session through w, and fails unless got delivers it within tailWait.
func writeAndWait(t *testing.T, w *Store, agent sessions.Agent, got <-chan sessions.Session, what string) {
	t.Helper()
	at := time.Now().UTC()
	x := sessions.Session{ID: sessions.NewSessionID(at), AccountID: agent.AccountID, AgentID: agent.ID,
		StartedAt: at, EndedAt: at, Status: sessions.StatusOK}
	if err := w.PutSessions(context.Background(), x); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if d.ID != x.ID {
			t.Fatalf("%s: delivered %s; want %s", what, d.ID, x.ID)
		}
	case <-time.After(tailWait):
		t.Fatalf("%s: not delivered within %s", what, tailWait)
	}
}

// TestTailNotify checks that a write through another store wakes a tail by notification: the
// tail's store polls once an hour. Then it terminates the listening connection, which must not
// stop the tail: the listener connects again and wakes it, and later writes wake it too.
func TestTailNotify(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, s := twoStores(t)
	s.tailPoll = time.Hour
	agent, got := tailFromNow(ctx, t, w, s)
	writeAndWait(t, w, agent, got, "a write through another store")
	// The first delivery may come from the tail's short poll while a row is held back, before
	// the listener has connected: wait for its connection.
	var pid uint32
	for deadline := time.Now().Add(tailWait); pid == 0; {
		if pid = s.listener().pid.Load(); pid == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no listening connection within %s", tailWait)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var terminated bool
	if err := w.pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int64(pid)).Scan(&terminated); err != nil || !terminated {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, terminated, err)
	}
	writeAndWait(t, w, agent, got, "the first write after pg_terminate_backend")
	writeAndWait(t, w, agent, got, "the second write after pg_terminate_backend")
	if now := s.listener().pid.Load(); now == pid {
		t.Errorf("the listening backend is still %d", pid)
	}
}

// TestListenerDroppedAtOnce checks the listener's backoff against a connection that is dropped
// as soon as it listens (a proxy that ends it, a server that terminates it): the listener must
// not connect again every listenBackoffMin, waking every tail for a read each time, but wait
// longer after each drop. Killing each listening backend as it appears for 2.5 s, a backoff
// that doubles from 50 ms allows at most 6 connections (waits of 50 ms to 1.6 s); one that
// started again from 50 ms after each drop made about 30.
func TestListenerDroppedAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, s := twoStores(t)
	s.tailPoll = time.Hour
	tailFromNow(ctx, t, w, s)
	seen := map[uint32]bool{}
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		pid := s.listener().pid.Load()
		if pid == 0 || seen[pid] {
			continue
		}
		seen[pid] = true
		if _, err := w.pool.Exec(ctx, "SELECT pg_terminate_backend($1)", int64(pid)); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) == 0 || len(seen) > 8 {
		t.Errorf("the listener connected %d times in 2.5 s while each connection was dropped at once; want 1 to 8 (a growing backoff)", len(seen))
	}
}

// TestTailNotifyThroughPoolHooks checks that the listening connection is opened as the pool
// opens its own, through its BeforeConnect hook: a pool whose connection string is completed
// there (an IAM token fetched at connect time; here, the port) must still be woken by
// notifications, not only by its poll, here once an hour.
func TestTailNotifyThroughPoolHooks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, _ := twoStores(t)
	cfg := w.pool.Config()
	port := cfg.ConnConfig.Port
	cfg.ConnConfig.Port = 1 // nothing listens there: only BeforeConnect makes a connection work
	cfg.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
		cc.Port = port
		return nil
	}
	hooked, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hooked.Close) // after the deferred cancel has ended the tail
	s, err := New(ctx, hooked)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.tailPoll = time.Hour
	agent, got := tailFromNow(ctx, t, w, s)
	writeAndWait(t, w, agent, got, "a write through another store")
	for deadline := time.Now().Add(tailWait); s.listener().pid.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no listening connection within %s", tailWait)
		}
	}
	writeAndWait(t, w, agent, got, "a write after the listener connected")
}

// TestTailPollsWithoutNotifications checks the fallback of a lost notification: with the
// store's listener stopped, so that no notification wakes a tail, a write through another store
// still reaches the tail by its poll.
func TestTailPollsWithoutNotifications(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, s := twoStores(t)
	s.tailPoll = 100 * time.Millisecond
	s.listener().stop() // tails of s wait on a listener that never wakes them
	agent, got := tailFromNow(ctx, t, w, s)
	for i := range 3 {
		writeAndWait(t, w, agent, got, fmt.Sprintf("write %d without notifications", i+1))
	}
}

// TestTailReadPool checks that with WithReadPool, tails read and listen on the primary: the
// read pool here cannot connect at all, and the tail polls once an hour.
func TestTailReadPool(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, _ := pgtest.NewSchema(t)
	nowhere, err := pgxpool.New(ctx, "postgres://postgres@"+closedPort(t)+"/test?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer nowhere.Close()
	s, err := New(ctx, pool, WithReadPool(nowhere))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.tailPoll = time.Hour
	agent, got := tailFromNow(ctx, t, s, s)
	writeAndWait(t, s, agent, got, "a write with a read pool")
}

// openXact begins a transaction on a connection of pool that holds an ID, and returns the ID; the
// transaction rolls back when the test ends.
func openXact(tb testing.TB, pool *pgxpool.Pool) (pgx.Tx, int64) {
	tb.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tx.Rollback(ctx) })
	var xid int64
	if err := tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&xid); err != nil {
		tb.Fatal(err)
	}
	return tx, xid
}

// TestTailLongTransaction checks that a transaction that holds an ID and writes no session of the
// account, such as a long load of another application on the same server, does not hold back a
// tail of the account: a write is delivered while the transaction is still open.
func TestTailLongTransaction(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, s := twoStores(t)
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	other := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "other"}
	for _, a := range []sessions.Agent{agent, other} {
		if err := w.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	start, err := s.TailPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Another connection's transaction with an ID, that writes nothing of this store.
	foreign, err := pgxpool.NewWithConfig(ctx, w.pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(foreign.Close) // after the transaction's rollback
	openXact(t, foreign)
	got := tailOne(ctx, t, s, start)
	writeAndWait(t, w, agent, got, "a write while another transaction holds an ID")
	// A writer of another account of the store, in flight, with an ID.
	tx, _ := openXact(t, w.pool)
	if _, err := tx.Exec(ctx, lockAccountsShared, []string{other.AccountID}); err != nil {
		t.Fatal(err)
	}
	writeAndWait(t, w, agent, got, "a write while a writer of another account is in flight")
}

// TestWatermark checks the bound of watermarkSQL as a writer of acme and globex goes through its
// steps, while another transaction with an older ID stays open: the watermark of acme stays above
// that ID, except while the writer holds acme's lock with an ID, which it is then.
func TestWatermark(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), tailWait)
	defer cancel()
	w, _ := twoStores(t)
	watermark := func(account string) int64 {
		t.Helper()
		var wm int64
		if err := w.pool.QueryRow(ctx, watermarkSQL, account).Scan(&wm); err != nil {
			t.Fatal(err)
		}
		return wm
	}
	// eventually waits until the watermark of account is above x: a transaction of another
	// test that ends between the snapshot and the read of pg_locks may lower it for one read.
	eventually := func(what, account string, x int64) {
		t.Helper()
		for {
			wm := watermark(account)
			if wm > x {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: the watermark of %s is %d; want above %d", what, account, wm, x)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	// done ends a transaction with an ID: the xmax of snapshots goes past the IDs given before.
	done := func() {
		t.Helper()
		if _, err := w.pool.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
			t.Fatal(err)
		}
	}
	foreign, err := pgxpool.NewWithConfig(ctx, w.pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(foreign.Close) // after the transaction's rollback
	_, old := openXact(t, foreign)
	done()
	eventually("no writer", "acme", old)

	writer, err := w.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback(ctx)
	if _, err := writer.Exec(ctx, lockAccountsShared, []string{"acme", "globex"}); err != nil {
		t.Fatal(err)
	}
	eventually("a writer that holds the lock without an ID", "acme", old)

	var xid int64
	if err := writer.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&xid); err != nil {
		t.Fatal(err)
	}
	done()
	for _, account := range []string{"acme", "globex"} {
		if wm := watermark(account); wm != xid {
			t.Errorf("a writer with ID %d: the watermark of %s is %d; want %d", xid, account, wm, xid)
		}
	}
	eventually("a writer of other accounts", "initech", xid)

	if err := writer.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	eventually("a writer that committed", "acme", xid)
}

// TestTailSharedReads checks that the tails of one account waiting at one position share their
// reads: a write through another store wakes 10 tails, which deliver it after one read of the
// watermark and the feed between them (two statements, where a read of each would be twenty).
func TestTailSharedReads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), tailWait)
	defer cancel()
	w, _ := twoStores(t)
	s, tracer := tracedStore(t, w.pool)
	s.tailPoll = time.Hour // no read but the woken ones
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	if err := w.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	start, err := s.TailPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const tails = 10
	tailCtx, stop := context.WithCancel(ctx)
	defer stop()
	got := make(chan string, tails)
	var wg sync.WaitGroup
	for range tails {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Tail(tailCtx, sessions.Filter{AccountID: "acme"}, start, func(x sessions.Session, _ string) error {
				got <- x.ID
				return nil
			})
		}()
	}
	// Wait until every tail has read once and waits: the statements stop.
	for last := int64(-1); ; {
		time.Sleep(100 * time.Millisecond)
		if n := tracer.n.Load(); n == last {
			break
		} else {
			last = n
		}
	}
	before := tracer.n.Load()
	at := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	x := sessions.Session{ID: sessions.NewSessionID(at), AccountID: "acme", AgentID: agent.ID,
		StartedAt: at, EndedAt: at, Status: sessions.StatusOK}
	if err := w.PutSessions(ctx, x); err != nil {
		t.Fatal(err)
	}
	for range tails {
		select {
		case id := <-got:
			if id != x.ID {
				t.Fatalf("delivered %s, want %s", id, x.ID)
			}
		case <-ctx.Done():
			t.Fatal("not every tail delivered the session")
		}
	}
	if n := tracer.n.Load() - before; n != 2 {
		t.Errorf("the tails sent %d statements for one write, want 2 (the watermark and the rows, once)", n)
	}
	stop()
	wg.Wait()
}

// TestTailForeignPositions checks that a tail refuses, before it delivers anything, a position of
// another cluster (another system_identifier) and one ahead of this server's transactions, with a
// *sessions.ValidationError from both CheckPosition and Tail; and that a position of the format
// before the system was written, without it, is still read as this cluster's.
func TestTailForeignPositions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := newTestStore(t)
	if s.system == "" {
		t.Fatal("the test server's system_identifier was not read")
	}
	end, err := s.TailPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pos, err := parsePosition(end)
	if err != nil {
		t.Fatal(err)
	}
	other := pos
	other.system = "1"
	ahead := pos
	ahead.xid, ahead.xmax, ahead.xip = pos.xmax+1000, pos.xmax+1000, nil
	aheadSnapshot := pos // a later snapshot whose xmin a long transaction held back
	aheadSnapshot.xmax, aheadSnapshot.xip = pos.xmax+1000, nil
	legacy := pos
	legacy.system = ""
	f := sessions.Filter{AccountID: "acme"}
	for _, p := range []string{other.String(), ahead.String(), aheadSnapshot.String(), "x" + end} {
		var verr *sessions.ValidationError
		if err := s.CheckPosition(ctx, p); !errors.As(err, &verr) || verr.Field != "after" {
			t.Errorf("CheckPosition(%q) = %v; want a ValidationError of after", p, err)
		}
		err := s.Tail(ctx, f, p, func(sessions.Session, string) error { return errors.New("delivered") })
		if !errors.As(err, &verr) || verr.Field != "after" {
			t.Errorf("Tail(%q) = %v; want a ValidationError of after", p, err)
		}
	}
	for _, p := range []string{end, legacy.String(), ""} {
		if err := s.CheckPosition(ctx, p); err != nil {
			t.Errorf("CheckPosition(%q) = %v; want nil", p, err)
		}
	}
	// A tail from the position without the system hands out positions with it.
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	if err := s.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	x := sessions.Session{ID: sessions.NewSessionID(at), AccountID: "acme", AgentID: agent.ID, StartedAt: at, EndedAt: at, Status: sessions.StatusOK}
	if err := s.PutSessions(ctx, x); err != nil {
		t.Fatal(err)
	}
	errDone := errors.New("done")
	err = s.Tail(ctx, f, legacy.String(), func(got sessions.Session, p string) error {
		if got.ID != x.ID || !strings.HasPrefix(p, s.system+":") {
			t.Errorf("Tail from %s: %s at %s; want %s at a position of system %s", legacy, got.ID, p, x.ID, s.system)
		}
		return errDone
	})
	if !errors.Is(err, errDone) {
		t.Errorf("Tail = %v", err)
	}
}

// TestPositionFormat checks the positions' text: the snapshot's IDs as differences, read back
// whole; positions of the earlier format, with the IDs in full, still read; and what is not a
// position refused. A snapshot of 2,000 transactions in flight on a cluster of 10-digit IDs
// stays under 5,000 bytes, so that its resume token stays under httpapi's 8 KiB.
func TestPositionFormat(t *testing.T) {
	busy := feedPosition{system: "7715605453872793768", xid: 4_000_000_000, seq: 3, xmax: 4_000_006_500}
	for i := range 2000 {
		busy.xip = append(busy.xip, busy.xid+int64(i)*3+int64(i%2))
	}
	for _, c := range []struct {
		text string
		want feedPosition
	}{
		{"12.3", feedPosition{xid: 12, seq: 3}},
		{"7715605453872793768:12.3", feedPosition{system: "7715605453872793768", xid: 12, seq: 3}},
		{"12.0~8~0,3", feedPosition{xid: 12, xmax: 20, xip: []int64{12, 15}}},
		{"12.0/20/12,15", feedPosition{xid: 12, xmax: 20, xip: []int64{12, 15}}}, // the earlier format
		{"12.0/20/", feedPosition{xid: 12, xmax: 20}},
		{busy.String(), busy},
		{"18446744073709551611:12.3", feedPosition{system: "18446744073709551611", xid: 12, seq: 3}}, // a cluster made from 2038 on
	} {
		got, err := parsePosition(c.text)
		if err != nil || !cmp.Equal(c.want, got, cmp.AllowUnexported(feedPosition{})) {
			t.Errorf("parsePosition(%.40q) = %+v, %v; want %+v", c.text, got, err, c.want)
		}
	}
	if n := len(busy.String()); n > 5000 {
		t.Errorf("a position of 2,000 transactions in flight takes %d bytes", n)
	}
	for _, bad := range []string{"", "12", "12.", ".3", "12.3~", "12.0~8~3,0", "12.0~8~8", "12.0~-1~", "12.0~8~-1",
		"012.3", "12.03", "0:12.3", "x:12.3", "12.0/20/15,12", "12.0/20~0", "12.0~9223372036854775800~0",
		"-5:12.3", "18446744073709551616:12.3", "7715605453872793768:12.0/20/12,15"} {
		if p, err := parsePosition(bad); err == nil {
			t.Errorf("parsePosition(%q) = %+v; want an error", bad, p)
		}
	}
}

// TestTailAfterClose checks that a Tail after Close, on a pool that the store does not own (which
// stays open), fails with ErrUnavailable and starts no listener: one would hold a connection of
// its own and a goroutine that nothing stops.
func TestTailAfterClose(t *testing.T) {
	s, err := New(context.Background(), newTestPool(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.Tail(ctx, sessions.Filter{AccountID: "acct_1"}, "", func(sessions.Session, string) error { return nil })
	if !errors.Is(err, sessions.ErrUnavailable) || ctx.Err() != nil {
		t.Errorf("Tail after Close = %v, want ErrUnavailable at once", err)
	}
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.listen != nil {
		s.listen.stop()
		t.Error("a Tail after Close started a listener")
	}
}
