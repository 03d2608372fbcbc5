package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/internal/testscale"
)

// fixture holds an account with two agents in a fresh store.
type fixture struct {
	store          *Store
	account, other string
	a1, a2         sessions.Agent
	t0             time.Time
}

func newFixture(tb testing.TB) fixture {
	tb.Helper()
	f := fixture{
		store:   newTestStore(tb),
		account: "acct-1",
		other:   "acct-2",
		t0:      time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC),
	}
	f.a1 = sessions.Agent{ID: sessions.NewAgentID(), AccountID: f.account, Name: "front desk"}
	f.a2 = sessions.Agent{ID: sessions.NewAgentID(), AccountID: f.account, Name: "billing"}
	for _, a := range []sessions.Agent{f.a1, f.a2} {
		if err := f.store.PutAgent(context.Background(), a); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

// session returns a session of agent a that started i seconds after t0, with i%4 PHONE
// redactions and a status that cycles through the three.
func (f fixture) session(a sessions.Agent, i int) sessions.Session {
	start := f.t0.Add(time.Duration(i) * time.Second)
	return sessions.Session{
		ID:               sessions.NewSessionID(start),
		AccountID:        a.AccountID,
		AgentID:          a.ID,
		StartedAt:        start,
		EndedAt:          start.Add(794 * time.Millisecond),
		Status:           []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}[i%3],
		RedactionsByKind: map[string]int{"PHONE": i % 4, "NAME": 1},
		UpstreamModel:    "gpt-4o-mini",
	}
}

// listed returns ss as ListSessions returns them: normalized, with the agent's name.
func listed(ss []sessions.Session, name string) []sessions.Session {
	out := make([]sessions.Session, len(ss))
	for i, s := range ss {
		out[i] = s.Normalize()
		out[i].AgentName = name
	}
	return out
}

func TestAgents(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	renamed := f.a1
	renamed.Name = "reception"
	if err := f.store.PutAgent(ctx, renamed); err != nil {
		t.Fatal(err)
	}
	stolen := f.a1
	stolen.AccountID = f.other
	if err := f.store.PutAgent(ctx, stolen); !errors.Is(err, sessions.ErrConflict) {
		t.Errorf("PutAgent(agent of another account) = %v, want ErrConflict", err)
	}
	var verr *sessions.ValidationError
	if err := f.store.PutAgent(ctx, sessions.Agent{ID: "agt_bad", AccountID: f.account}); !errors.As(err, &verr) {
		t.Errorf("PutAgent(bad ID) = %v, want a ValidationError", err)
	}

	tests := []struct {
		name             string
		account, agentID string
		want             sessions.Agent
		wantErr          error
	}{
		{"renamed", f.account, f.a1.ID, renamed, nil},
		{"other", f.account, f.a2.ID, f.a2, nil},
		{"other account", f.other, f.a1.ID, sessions.Agent{}, sessions.ErrAgentNotFound},
		{"unknown", f.account, sessions.NewAgentID(), sessions.Agent{}, sessions.ErrAgentNotFound},
		{"malformed", f.account, "agt_nope", sessions.Agent{}, sessions.ErrAgentNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.store.GetAgent(ctx, tt.account, tt.agentID)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("GetAgent: error %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GetAgent (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPutSessions checks the ways of writing alike (arrays; COPY straight into sessions for new
// sessions, and through the temporary table otherwise), on the store's table and on the
// partitioned table of docs/postgres.md: a round trip, an upsert, and the errors that write
// nothing, in batches that hold sessions already written and in batches of new sessions only.
func TestPutSessions(t *testing.T) {
	for _, layout := range []string{"table", "partitioned"} {
		for _, n := range []int{3, copyThreshold + 50} {
			t.Run(fmt.Sprint(layout, "/", n), func(t *testing.T) {
				ctx := context.Background()
				f := newFixture(t)
				if layout == "partitioned" {
					partition(t, f.store, recipeNow)
				}
				ss := make([]sessions.Session, n)
				for i := range ss {
					ss[i] = f.session(f.a1, i)
				}
				ss[0].StartedAt = ss[0].StartedAt.Add(123456789 * time.Nanosecond).In(time.FixedZone("x", 3600))
				ss[0].RedactionsByKind = map[string]int{"PHONE": 0}
				if err := f.store.PutSessions(ctx, ss...); err != nil {
					t.Fatal(err)
				}
				// A correction of the first session (an upsert), in a batch of the same size.
				ss[0].Status = sessions.StatusError
				ss[0].RedactionsByKind = map[string]int{"DOB": 7}
				if err := f.store.PutSessions(ctx, ss...); err != nil {
					t.Fatal(err)
				}
				want := listAll(t, f.store, sessions.Filter{AccountID: f.account})

				fresh := f.session(f.a1, 2*n+1)
				errorCases := []struct {
					name    string
					bad     sessions.Session
					wantErr error
				}{
					{"other agent", withAgent(ss[1], f.a2), sessions.ErrConflict},
					{"other account", withAccount(ss[1], f.other, f.a1.ID), sessions.ErrConflict},
					{"unknown agent", withAgent(fresh, sessions.Agent{ID: sessions.NewAgentID(), AccountID: f.account}), sessions.ErrAgentNotFound},
					{"agent of another account", withAccount(fresh, f.other, f.a1.ID), sessions.ErrAgentNotFound},
				}
				rewrites := append([]sessions.Session{f.session(f.a2, n+2)}, ss[2:]...)
				news := make([]sessions.Session, n)
				for i := range news {
					news[i] = f.session(f.a2, n+2+i)
				}
				for _, tc := range errorCases {
					for name, good := range map[string][]sessions.Session{"with rewrites": rewrites, "with new sessions": news} {
						batch := append(slices.Clip(good), tc.bad)
						if err := f.store.PutSessions(ctx, batch...); !errors.Is(err, tc.wantErr) {
							t.Errorf("%s %s: PutSessions = %v, want %v", tc.name, name, err, tc.wantErr)
						}
					}
				}
				got := listAll(t, f.store, sessions.Filter{AccountID: f.account})
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("after failed batches, sessions changed (-want +got):\n%s", diff)
				}
				if len(got) != n || got[n-1].Status != sessions.StatusError || got[n-1].RedactionCount() != 7 ||
					!got[n-1].StartedAt.Equal(f.t0.Add(123*time.Millisecond)) {
					t.Errorf("stored %d sessions, the first as %+v", len(got), got[n-1])
				}
			})
		}
	}
}

func withAgent(s sessions.Session, a sessions.Agent) sessions.Session {
	s.AccountID, s.AgentID = a.AccountID, a.ID
	return s
}

func withAccount(s sessions.Session, account, agentID string) sessions.Session {
	s.AccountID, s.AgentID = account, agentID
	return s
}

// listAll walks every page of f with pages of 7.
func listAll(tb testing.TB, s *Store, f sessions.Filter) []sessions.Session {
	tb.Helper()
	var all []sessions.Session
	f.Limit = 7
	for {
		p, err := s.ListSessions(context.Background(), f)
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, p.Sessions...)
		if p.Next == nil {
			return all
		}
		if len(p.Sessions) == 0 {
			tb.Fatal("a Next that leads to an empty page")
		}
		f.After = p.Next
	}
}

func TestListSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var all []sessions.Session
	for i := range 40 {
		all = append(all, f.session([]sessions.Agent{f.a1, f.a2}[i%2], i))
	}
	// Two sessions that start in the same millisecond: the ID breaks the tie.
	all = append(all, f.session(f.a1, 39), f.session(f.a2, 39))
	if err := f.store.PutSessions(ctx, all...); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{f.a1.ID: f.a1.Name, f.a2.ID: f.a2.Name}
	tests := []struct {
		name   string
		filter sessions.Filter
	}{
		{"account", sessions.Filter{AccountID: f.account}},
		{"agent", sessions.Filter{AccountID: f.account, AgentID: f.a1.ID}},
		{"status", sessions.Filter{AccountID: f.account, Status: sessions.StatusError}},
		{"min redactions", sessions.Filter{AccountID: f.account, AgentID: f.a2.ID, MinRedactions: 3}},
		{"window", sessions.Filter{AccountID: f.account, Since: f.t0.Add(5 * time.Second), Until: f.t0.Add(30*time.Second + 1)}},
		{"after", sessions.Filter{AccountID: f.account, After: &sessions.Cursor{StartedAt: f.t0.Add(20*time.Second + 1)}}},
		{"other account", sessions.Filter{AccountID: f.other}},
		{"unknown agent", sessions.Filter{AccountID: f.account, AgentID: sessions.NewAgentID()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := []sessions.Session{}
			nf := tt.filter.Normalize()
			for _, s := range all {
				if s := s.Normalize(); nf.Match(s) && (nf.After == nil || nf.After.Before(s.Cursor())) {
					s.AgentName = names[s.AgentID]
					want = append(want, s)
				}
			}
			sortList(want)
			got := listAll(t, f.store, tt.filter)
			if got == nil {
				got = []sessions.Session{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ListSessions (-want +got):\n%s", diff)
			}
		})
	}
	var verr *sessions.ValidationError
	if _, err := f.store.ListSessions(ctx, sessions.Filter{}); !errors.As(err, &verr) {
		t.Errorf("ListSessions(no account) = %v, want a ValidationError", err)
	}
}

func sortList(ss []sessions.Session) {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && ss[j].Cursor().Before(ss[j-1].Cursor()); j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

func TestPurgeSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.store.purgeBatch = 7 // several batches
	var all []sessions.Session
	for i := range 50 {
		all = append(all, f.session(f.a1, i))
	}
	// Another account, whose sessions all go.
	b := sessions.Agent{ID: sessions.NewAgentID(), AccountID: f.other}
	if err := f.store.PutAgent(ctx, b); err != nil {
		t.Fatal(err)
	}
	var others []sessions.Session
	for i := range 10 {
		s := f.session(b, i)
		s.StartedAt = s.StartedAt.Add(-300 * time.Second)
		s.ID = sessions.NewSessionID(s.StartedAt)
		others = append(others, s)
	}
	if err := f.store.PutSessions(ctx, append(others, all...)...); err != nil {
		t.Fatal(err)
	}
	// Sessions started at t0+0s .. t0+49s, and t0-300s .. t0-291s: before t0+20s plus a fraction
	// deletes 21 (0..20) and 10.
	deleted, err := f.store.PurgeSessions(ctx, f.t0.Add(20*time.Second+time.Nanosecond))
	if err != nil || deleted != 31 {
		t.Fatalf("PurgeSessions = %d, %v; want 31, nil", deleted, err)
	}
	if got := listAll(t, f.store, sessions.Filter{AccountID: f.other}); len(got) != 0 {
		t.Errorf("after PurgeSessions, %d sessions of the other account are left", len(got))
	}
	got := listAll(t, f.store, sessions.Filter{AccountID: f.account})
	want := listed(all[21:], f.a1.Name)
	sortList(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after PurgeSessions (-want +got):\n%s", diff)
	}
	if deleted, err := f.store.PurgeSessions(ctx, time.Time{}); err != nil || deleted != 0 {
		t.Errorf("PurgeSessions(zero time) = %d, %v; want 0, nil", deleted, err)
	}
	if deleted, err := f.store.PurgeSessions(ctx, time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || deleted != 29 {
		t.Errorf("PurgeSessions(year 20000) = %d, %v; want 29, nil", deleted, err)
	}
}

func TestContext(t *testing.T) {
	f := newFixture(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"expired", expired, sessions.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := map[string]func() error{
				"PutAgent":    func() error { return f.store.PutAgent(tc.ctx, f.a1) },
				"GetAgent":    func() error { _, err := f.store.GetAgent(tc.ctx, f.account, f.a1.ID); return err },
				"PutSessions": func() error { return f.store.PutSessions(tc.ctx, f.session(f.a1, 1)) },
				"ListSessions": func() error {
					_, err := f.store.ListSessions(tc.ctx, sessions.Filter{AccountID: f.account})
					return err
				},
				"PurgeSessions": func() error {
					_, err := f.store.PurgeSessions(tc.ctx, f.t0)
					return err
				},
			}
			for name, op := range ops {
				if err := op(); !errors.Is(err, tc.want) {
					t.Errorf("%s = %v, want %v", name, err, tc.want)
				}
			}
		})
	}
}

// TestBatchTableReuse writes large batches on one connection, where the temporary table of COPY
// outlives each transaction: a batch that fails leaves nothing behind for the next one.
func TestBatchTableReuse(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.NewSchema(t)
	cfg := pool.Config()
	cfg.MaxConns = 1
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	s, err := New(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{store: s, account: "acct-1", t0: time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)}
	f.a1 = sessions.Agent{ID: sessions.NewAgentID(), AccountID: f.account, Name: "one"}
	f.a2 = sessions.Agent{ID: sessions.NewAgentID(), AccountID: f.account, Name: "two"}
	for _, a := range []sessions.Agent{f.a1, f.a2} {
		if err := s.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var want []sessions.Session
	for round := range 4 {
		batch := make([]sessions.Session, 2*copyThreshold)
		for i := range batch {
			batch[i] = f.session(f.a1, round*1000+i)
		}
		if round%2 == 1 {
			// Fails: its last session takes the ID of one of the first round, for another agent.
			batch[len(batch)-1] = withAgent(want[0], f.a2)
			if err := s.PutSessions(ctx, batch...); !errors.Is(err, sessions.ErrConflict) {
				t.Fatalf("round %d: PutSessions = %v, want ErrConflict", round, err)
			}
			continue
		}
		if err := s.PutSessions(ctx, batch...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		want = append(want, batch...)
	}
	want = listed(want, f.a1.Name)
	sortList(want)
	if diff := cmp.Diff(want, listAll(t, s, sessions.Filter{AccountID: f.account})); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}
}

// countingTracer counts the statements and COPYs that a pool's connections send.
type countingTracer struct{ n atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *countingTracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *countingTracer) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// tracedStore returns a store on a new pool with pool's configuration, whose statements the
// returned tracer counts; both are closed when the test ends.
func tracedStore(t *testing.T, pool *pgxpool.Pool) (*Store, *countingTracer) {
	t.Helper()
	cfg := pool.Config()
	tracer := &countingTracer{}
	cfg.ConnConfig.Tracer = tracer
	traced, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(traced.Close)
	s, err := New(t.Context(), traced)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, tracer
}

// TestPutSessionsRoundTrips checks that a batch costs a few statements whatever its size, and
// which way a large batch takes: new sessions straight into sessions, a batch that rewrites
// sessions through the temporary table. The largest batch is 10,000 sessions with the large data
// sets, 1,000 with the small ones: ten times copyThreshold, and a hundred times the batch that
// takes arrays, already shows that the statements do not grow with the batch.
func TestPutSessionsRoundTrips(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.NewSchema(t)
	s, tracer := tracedStore(t, pool)
	f := fixture{store: s, account: "acct-1", t0: time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)}
	f.a1 = sessions.Agent{ID: sessions.NewAgentID(), AccountID: f.account}
	if err := s.PutAgent(ctx, f.a1); err != nil {
		t.Fatal(err)
	}
	large := testscale.Pick(1_000, 10_000)
	for i, n := range []int{1, copyThreshold, copyThreshold + 1, large} {
		batch := make([]sessions.Session, n)
		for j := range batch {
			batch[j] = f.session(f.a1, i*100_000+j)
		}
		// Each transaction begins with BEGIN and the accounts' advisory locks (the tail's
		// watermark). New sessions: the INSERT of the arrays or the COPY, COMMIT. The same
		// sessions again: that transaction, whose INSERT or COPY fails, ROLLBACK; then another
		// that upserts: the arrays' upsert, or the temporary table, COPY into it and the upsert,
		// COMMIT. (pgx reads the column types of each COPY's table with one more statement, once
		// per connection, not traced.)
		want := map[string]int64{"new": 4, "again": 8}
		if n > copyThreshold {
			want = map[string]int64{"new": 4, "again": 10}
		}
		for _, round := range []string{"new", "again"} {
			before := tracer.n.Load()
			if err := s.PutSessions(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			if got := tracer.n.Load() - before; got != want[round] {
				t.Errorf("PutSessions(%d sessions, %s) sent %d statements, want %d", n, round, got, want[round])
			}
		}
	}
	var count int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM sessions").Scan(&count); err != nil || count != 1+2*copyThreshold+1+large {
		t.Errorf("%d sessions stored (%v), want %d", count, err, 1+2*copyThreshold+1+large)
	}
}

// TestPutSessionsConcurrentCopies writes large batches that share IDs from two goroutines at once:
// the copy of one waits for the other's transaction, then takes the upsert. Batches of the same
// agent both succeed; batches of two agents give one success and one ErrConflict, and only the
// winner's sessions are stored. No round may deadlock. With the small data sets it runs four
// rounds, not six: each case, one agent and two, still comes twice.
func TestPutSessionsConcurrentCopies(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const n = 3 * copyThreshold
	for round := range testscale.Pick(4, 6) {
		ids := make([]sessions.Session, n+copyThreshold)
		for i := range ids {
			ids[i] = f.session(f.a1, round*10_000+i)
		}
		// Two overlapping windows of the same IDs: the first n, and the last n.
		batches := [2][]sessions.Session{slices.Clone(ids[:n]), slices.Clone(ids[copyThreshold:])}
		sameAgent := round%2 == 0
		if !sameAgent {
			for i := range batches[1] {
				batches[1][i] = withAgent(batches[1][i], f.a2)
			}
		}
		var errs [2]error
		var wg sync.WaitGroup
		for k := range batches {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[k] = f.store.PutSessions(ctx, batches[k]...)
			}()
		}
		wg.Wait()
		var want []sessions.Session
		switch {
		case sameAgent && errs[0] == nil && errs[1] == nil:
			want = ids
		case !sameAgent && errs[0] == nil && errors.Is(errs[1], sessions.ErrConflict):
			want = batches[0]
		case !sameAgent && errs[1] == nil && errors.Is(errs[0], sessions.ErrConflict):
			want = batches[1]
		default:
			t.Fatalf("round %d (same agent: %v): PutSessions returned %v and %v", round, sameAgent, errs[0], errs[1])
		}
		got := listAll(t, f.store, sessions.Filter{AccountID: f.account, Since: ids[0].StartedAt, Until: ids[len(ids)-1].StartedAt.Add(time.Second)})
		names := map[string]string{f.a1.ID: f.a1.Name, f.a2.ID: f.a2.Name}
		wantListed := make([]sessions.Session, len(want))
		for i, x := range want {
			wantListed[i] = x.Normalize()
			wantListed[i].AgentName = names[x.AgentID]
		}
		sortList(wantListed)
		if diff := cmp.Diff(wantListed, got); diff != "" {
			t.Fatalf("round %d (same agent: %v): stored sessions (-want +got):\n%s", round, sameAgent, diff)
		}
	}
}
