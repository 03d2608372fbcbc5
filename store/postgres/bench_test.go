package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/internal/tailbench"
)

// The benchmarks of this file share one schema per process, holding the benchdata data set
// (benchdata.Size() sessions: 100,000, or SESSIONS_BENCH_SIZE), loaded through PutSessions in
// batches of 10,000 and then vacuumed and analyzed. TestMain drops it when the process ends.
//
// Run them all (a few minutes at 100,000 sessions) with:
//
//	SESSIONS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	go test -run '^$' -bench . ./store/postgres
//
// and on 1,000,000 sessions with SESSIONS_BENCH_SIZE=1000000 in the environment too.
//
// With SESSIONS_BENCH_SCHEMA=name, the data set is kept in that schema between runs: a run that
// finds the schema reads it (it must hold SESSIONS_BENCH_SIZE sessions), and one that does not
// loads it there and leaves it, so that only the first run at a size pays for the load.
var bench struct {
	once   sync.Once
	url    string // of the server; empty when no schema is to be dropped
	schema string
	pool   *pgxpool.Pool
	store  *Store
	err    error // of the load, reported by every benchmark that needs the store
}

// benchSchemaEnv names the schema that keeps the benchmark data set between runs.
const benchSchemaEnv = "SESSIONS_BENCH_SCHEMA"

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.pool != nil {
		bench.pool.Close()
	}
	if bench.url != "" {
		if err := dropSchema(bench.url, bench.schema); err != nil {
			fmt.Fprintf(os.Stderr, "dropping benchmark schema %s: %v\n", bench.schema, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

func dropSchema(url, schema string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}

// benchStore returns the store of the benchmark schema, made and loaded on first use. It skips or
// fails b as pgtest.ServerURL does when there is no server.
func benchStore(b *testing.B) *Store {
	b.Helper()
	url := pgtest.ServerURL(b)
	bench.once.Do(func() {
		bench.err = errors.New("a benchmark failed while loading it") // until loadBench returns
		bench.err = loadBench(b, url)
	})
	if bench.err != nil {
		b.Fatalf("loading the benchmark data set: %v", bench.err)
	}
	return bench.store
}

func loadBench(b *testing.B, url string) error {
	ctx := context.Background()
	n, err := benchdata.Size()
	if err != nil {
		return err
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	schema := os.Getenv(benchSchemaEnv)
	kept := schema != ""
	if !kept {
		random := make([]byte, 8)
		if _, err := rand.Read(random); err != nil {
			return err
		}
		schema = "sessions_bench_" + hex.EncodeToString(random)
	}
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
	}
	if !kept {
		bench.url, bench.schema = url, schema // dropped by TestMain
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = schema
	if bench.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return err
	}
	if bench.store, err = New(ctx, bench.pool); err != nil {
		return err
	}
	if exists {
		var stored int
		if err := bench.pool.QueryRow(ctx, "SELECT count(*) FROM sessions").Scan(&stored); err != nil {
			return err
		}
		if stored != n && stored != n+benchdata.BusySize(b) { // with the busy agent's, once written
			return fmt.Errorf("%s=%s holds %d sessions, not the %d of the data set: drop it or set SESSIONS_BENCH_SIZE", benchSchemaEnv, schema, stored, n)
		}
		return nil
	}
	begin := time.Now()
	benchdata.Load(b, bench.store, n, 10_000)
	loaded := time.Since(begin)
	if err := vacuumAnalyze(ctx, bench.pool); err != nil {
		return err
	}
	// On stderr: the log of a benchmark shows only with -v.
	fmt.Fprintf(os.Stderr, "benchmark schema %s: loaded %d sessions in %v (%.0f sessions/s), vacuumed and analyzed in %v\n",
		schema, n, loaded.Round(time.Millisecond), float64(n)/loaded.Seconds(), (time.Since(begin) - loaded).Round(time.Millisecond))
	return nil
}

// vacuumAnalyze marks the pages all-visible, for index-only scans, and gives the planner fresh
// statistics, as autovacuum would do after a while.
func vacuumAnalyze(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, "VACUUM (ANALYZE) agents, sessions")
	return err
}

// BenchmarkPostgresList measures ListSessions on each query of benchdata.Cases.
func BenchmarkPostgresList(b *testing.B) {
	benchdata.RunList(b, benchStore(b))
}

// offsetSQL is the account-wide list as a hand-written endpoint would page it: the rows of the
// page, with their agent's name, after skipping $2 rows with OFFSET. It is benchmark-only code,
// over the same tables and indexes as the library's keyset query.
const offsetSQL = `SELECT s.id, s.account_id, s.agent_id, s.started_at, s.ended_at, s.status,
	s.redactions_by_kind, s.upstream_model, a.name
FROM sessions s JOIN agents a ON a.id = s.agent_id
WHERE s.account_id = $1
ORDER BY s.started_at DESC, s.id DESC
LIMIT $3 OFFSET $2`

// BenchmarkPostgresDepth measures page N of the account-wide list at limit 100, for N in
// benchdata.DepthPages: "keyset/page=N" is ListSessions with the cursor of page N, and
// "offset/page=N" the OFFSET query offsetSQL, run in the same query mode and scanned as
// ListSessions scans. internal/benchplot draws both.
func BenchmarkPostgresDepth(b *testing.B) {
	s := benchStore(b)
	benchdata.RunKeysetDepth(b, s)
	ctx := context.Background()
	for _, page := range benchdata.DepthPages {
		b.Run(fmt.Sprintf("offset/page=%d", page), func(b *testing.B) {
			offset := (page - 1) * benchdata.DepthLimit
			for b.Loop() {
				n, err := scanSessions(ctx, s.read, offsetSQL, s.listMode, benchdata.Account, offset, benchdata.DepthLimit)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatalf("page %d is empty", page)
				}
			}
		})
	}
}

// scanSessions runs query and scans its rows into sessions as ListSessions does, returning how
// many there were.
func scanSessions(ctx context.Context, pool *pgxpool.Pool, query string, args ...any) (int, error) {
	rows, err := pool.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var ss []sessions.Session
	for rows.Next() {
		var x sessions.Session
		var status string
		if err := rows.Scan(&x.ID, &x.AccountID, &x.AgentID, &x.StartedAt, &x.EndedAt, &status,
			&x.RedactionsByKind, &x.UpstreamModel, &x.AgentName); err != nil {
			return 0, err
		}
		x.Status = sessions.Status(status)
		ss = append(ss, x)
	}
	return len(ss), rows.Err()
}

// BenchmarkPostgresBare measures the library's overhead: for a few queries of benchdata.Cases,
// "library/<case>" is ListSessions and "bare/<case>" the very SQL that ListSessions runs for it
// (from listQuery), run raw through pgx in the same query mode on the same pool, with its rows
// scanned into plain variables (jsonb as raw bytes); "paired/<case>" runs the two alternately
// and reports the ratio library/bare, which is the cost of validation, normalization, the
// decoding of redactions_by_kind into a map, the sessions and the page.
func BenchmarkPostgresBare(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	want := map[string]bool{
		"agent/first/limit=100": true, "agent/page1000/limit=100": true, "agent/last/limit=100": true,
		"account/first/limit=100": true, "account/page1000/limit=100": true,
		"agent/filter/status=error+min_redactions=5/limit=25": true,
	}
	for _, c := range benchdata.Cases(b, s) {
		if !want[c.Name] {
			continue
		}
		b.Run("library/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.ListSessions(ctx, c.Filter); err != nil {
					b.Fatal(err)
				}
			}
		})
		query, args := listQuery(c.Filter.Normalize())
		args = append([]any{s.listMode}, args...)
		bare := func() error {
			var (
				id, account, agent, status, model, name string
				started, ended                          time.Time
				kinds                                   []byte
			)
			rows, err := s.read.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := rows.Scan(&id, &account, &agent, &started, &ended, &status, &kinds, &model, &name); err != nil {
					return err
				}
			}
			return rows.Err()
		}
		b.Run("bare/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bare(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("paired/"+c.Name, func(b *testing.B) {
			benchdata.RunPaired(b, func() error {
				_, err := s.ListSessions(ctx, c.Filter)
				return err
			}, bare)
		})
	}
}

// BenchmarkPostgresIngest measures PutSessions into the loaded data set in batches of 1, 100 and
// 10,000 (arrays up to 100 sessions, COPY above), reporting sessions/s. The sessions it writes
// start after the data set; they are deleted afterwards, and the table vacuumed, so that the
// other benchmarks of a run see the data set alone whatever their order.
func BenchmarkPostgresIngest(b *testing.B) {
	s := benchStore(b)
	b.Cleanup(func() {
		ctx := context.Background()
		if _, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE started_at > $1", benchdata.End); err != nil {
			b.Error(err)
		}
		if err := vacuumAnalyze(ctx, s.pool); err != nil {
			b.Error(err)
		}
	})
	benchdata.RunIngest(b, s, 1, 100, 10_000)
}

// BenchmarkPostgresIngestCOPY measures two cases of COPY ingest that benchdata.RunIngest does not
// cover, each operation one PutSessions call of 10,000 new sessions over 20 agents of one
// account, into a fresh, empty schema, reporting sessions/s:
//
//   - backfill: start times spread at random over 30 days (an import), so that index inserts
//     land anywhere rather than at the right edge of the indexes;
//   - live-parallel: as many writers as GOMAXPROCS, as several application replicas ingest, each
//     writing its own batches of live sessions (wall time, generating the sessions included).
func BenchmarkPostgresIngestCOPY(b *testing.B) {
	const batchSize = 10_000
	newSession := func(rnd *mrand.Rand, agents []sessions.Agent, start time.Time) sessions.Session {
		a := agents[rnd.IntN(len(agents))]
		return sessions.Session{
			ID: sessions.NewSessionID(start), AccountID: a.AccountID, AgentID: a.ID,
			StartedAt: start, EndedAt: start.Add(time.Duration(rnd.IntN(600_000)) * time.Millisecond),
			Status:           sessions.StatusOK,
			RedactionsByKind: map[string]int{"PHONE": rnd.IntN(3), "NAME": rnd.IntN(3), "DOB": rnd.IntN(2)},
			UpstreamModel:    "gpt-4o-mini",
		}
	}
	newStore := func(b *testing.B) (*Store, []sessions.Agent) {
		s := newTestStore(b)
		var agents []sessions.Agent
		for range 20 {
			a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct-bench"}
			if err := s.PutAgent(context.Background(), a); err != nil {
				b.Fatal(err)
			}
			agents = append(agents, a)
		}
		return s, agents
	}

	b.Run("backfill/batch=10000", func(b *testing.B) {
		ctx := context.Background()
		s, agents := newStore(b)
		rnd := mrand.New(mrand.NewPCG(1, 2))
		clock := time.Now().Add(-24 * time.Hour)
		batch := make([]sessions.Session, batchSize)
		n := 0
		for b.Loop() {
			b.StopTimer()
			for i := range batch {
				clock = clock.Add(time.Duration(rnd.IntN(10)) * time.Millisecond)
				batch[i] = newSession(rnd, agents, clock.Add(-time.Duration(rnd.Int64N(int64(30*24*time.Hour)))))
			}
			b.StartTimer()
			if err := s.PutSessions(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			n += batchSize
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "sessions/s")
	})

	b.Run("live-parallel/batch=10000", func(b *testing.B) {
		ctx := context.Background()
		s, agents := newStore(b)
		var seed atomic.Uint64
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			rnd := mrand.New(mrand.NewPCG(seed.Add(1), 2))
			clock := time.Now().Add(-24 * time.Hour)
			batch := make([]sessions.Session, batchSize)
			for pb.Next() {
				for i := range batch {
					clock = clock.Add(time.Duration(rnd.IntN(10)) * time.Millisecond)
					batch[i] = newSession(rnd, agents, clock)
				}
				if err := s.PutSessions(ctx, batch...); err != nil {
					b.Error(err)
					return
				}
				n.Add(batchSize)
			}
		})
		b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "sessions/s")
	})
}

// TestBenchQueriesAgree checks, on a small data set, that the benchmarks compare like with like:
// the bare query of BenchmarkPostgresBare is the SQL that ListSessions runs and returns its
// rows, and the OFFSET query of BenchmarkPostgresDepth returns the same page as the keyset walk.
func TestBenchQueriesAgree(t *testing.T) {
	t.Parallel() // most of it is the round trips of a thousand PutAgent calls
	s := newTestStore(t)
	ctx := context.Background()
	benchdata.Load(t, s, 3_000, 1_000)
	account := sessions.Filter{AccountID: benchdata.Account, Limit: benchdata.DepthLimit}
	positions := benchdata.Positions(t, s, account)
	for _, page := range []int{1, 2, 7, 30} {
		f := account
		f.After = benchdata.PageCursor(positions, benchdata.DepthLimit, page)
		want, err := s.ListSessions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.read.Query(ctx, offsetSQL, benchdata.Account, (page-1)*benchdata.DepthLimit, benchdata.DepthLimit)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			vals, err := r.Values()
			return vals[0].(string), err
		})
		if err != nil {
			t.Fatal(err)
		}
		var wantIDs []string
		for _, x := range want.Sessions {
			wantIDs = append(wantIDs, x.ID)
		}
		if strings.Join(ids, ",") != strings.Join(wantIDs, ",") {
			t.Errorf("page %d: OFFSET gives %d sessions %v..., keyset %d sessions %v...",
				page, len(ids), head(ids), len(wantIDs), head(wantIDs))
		}
		query, args := listQuery(f.Normalize())
		rows, err = s.read.Query(ctx, query, args...)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if wantN := len(want.Sessions) + map[bool]int{true: 1}[want.Next != nil]; n != wantN {
			t.Errorf("page %d: the bare query gives %d rows, want %d (the page and one more when there is a next page)", page, n, wantN)
		}
	}
}

func head(ids []string) []string { return ids[:min(3, len(ids))] }

// BenchmarkTailLatency measures the live tail: from PutSessions returning to the delivery, with
// the writer and the tail on two stores on one schema, so that the tail is woken by
// LISTEN/NOTIFY.
//
//	SESSIONS_TEST_POSTGRES_URL=... go test -run '^$' -bench TailLatency -benchtime 200x ./store/postgres
func BenchmarkTailLatency(b *testing.B) {
	w, s := twoStores(b)
	tailbench.Latency(b, w, s)
}

// BenchmarkIngestFeedCost measures what the feed of the live tail (migration 0002: the defaults
// feed_xid and feed_seq, the index sessions_feed and the NOTIFY trigger; and PutSessions's
// statement that takes the accounts' locks, lockAccountsSQL) costs ingest: each
// operation writes one batch of new live sessions over 20 agents into a fresh schema with the
// feed, and one into a fresh schema where the feed was removed, alternating, and it reports the
// sessions/s of each and their ratio (with/without).
//
//	SESSIONS_TEST_POSTGRES_URL=... go test -run '^$' -bench IngestFeedCost -benchtime 20x -count 3 ./store/postgres
func BenchmarkIngestFeedCost(b *testing.B) {
	for _, size := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			ctx := context.Background()
			with, without := newTestStore(b), newTestStore(b)
			for _, sql := range []string{
				"DROP TRIGGER sessions_feed_notify ON sessions",
				"DROP INDEX sessions_feed",
				"ALTER TABLE sessions ALTER COLUMN feed_xid SET DEFAULT 0, ALTER COLUMN feed_seq SET DEFAULT 0",
			} {
				if _, err := without.pool.Exec(ctx, sql); err != nil {
					b.Fatal(err)
				}
			}
			without.withoutFeedLocks = true
			tailbench.IngestCost(b, with, without, size)
		})
	}
}

// plainQuery returns the keyset query that a user would write by hand for f (valid and
// normalized; no Until), with f's filters added to its WHERE clause: the limit that
// BenchmarkPostgresPlain holds the library to. It reads no agent name.
func plainQuery(f sessions.Filter) (string, []any) {
	q := `SELECT id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model
FROM sessions WHERE account_id = $1`
	args := []any{f.AccountID}
	add := func(fragment string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(fragment, len(args))
	}
	if f.AgentID != "" {
		add(" AND agent_id = $%d", f.AgentID)
	}
	if f.Status != "" {
		add(" AND status = $%d", string(f.Status))
	}
	if f.MinRedactions > 0 {
		add(" AND redaction_count >= $%d", f.MinRedactions)
	}
	if f.After != nil {
		args = append(args, f.After.StartedAt, f.After.ID)
		q += fmt.Sprintf(" AND (started_at, id) < ($%d, $%d)", len(args)-1, len(args))
	}
	add(" ORDER BY started_at DESC, id DESC LIMIT $%d", f.Limit+1)
	return q, args
}

// BenchmarkPostgresPlain runs, alternately in one loop, ListSessions and the plain keyset query of
// plainQuery for the same filter, through pgx in its default mode (prepared statements) on the
// same pool, scanned into sessions.Session values (redactions_by_kind by pgx's JSON codec), and
// reports library/bare: what the library's SQL and Go code cost beyond the query a user would
// write. The library also reads each session's agent name. "prepared/<case>" is the store as New
// makes it (prepared statements); "custom/<case>" a store made WithCustomPlans on the same pool.
func BenchmarkPostgresPlain(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	custom, err := New(ctx, bench.pool, WithCustomPlans())
	if err != nil {
		b.Fatal(err)
	}
	want := map[string]bool{
		"agent/first/limit=100": true, "agent/page1000/limit=100": true,
		"account/first/limit=100": true, "account/page1000/limit=100": true,
		"agent/filter/status=error/limit=25": true, "agent/filter/min_redactions=5/limit=25": true,
	}
	for _, c := range benchdata.Cases(b, s) {
		if !want[c.Name] {
			continue
		}
		query, args := plainQuery(c.Filter.Normalize())
		plain := func() error {
			rows, err := s.read.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			var ss []sessions.Session
			for rows.Next() {
				var x sessions.Session
				var status string
				if err := rows.Scan(&x.ID, &x.AccountID, &x.AgentID, &x.StartedAt, &x.EndedAt, &status,
					&x.RedactionsByKind, &x.UpstreamModel); err != nil {
					return err
				}
				x.Status = sessions.Status(status)
				ss = append(ss, x)
			}
			plainSink = ss // the page a caller would keep, as ListSessions returns one
			return rows.Err()
		}
		for _, store := range []struct {
			name string
			s    *Store
		}{{"prepared", s}, {"custom", custom}} {
			b.Run(store.name+"/"+c.Name, func(b *testing.B) {
				benchdata.RunPaired(b, func() error {
					_, err := store.s.ListSessions(ctx, c.Filter)
					return err
				}, plain)
			})
		}
	}
}

// plainSink keeps the plain query's page alive, so that building it is part of what is measured.
var plainSink []sessions.Session
