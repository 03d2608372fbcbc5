package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/internal/testscale"
	"github.com/masker-dev/sessions/store/storetest"
	"github.com/oklog/ulid/v2"
)

// The tests of this file run the SQL of docs/postgres.md: the fenced blocks whose first line is
// "-- recipe: NAME", so that the recipes of the document are the ones tested.

const recipeDoc = "../../docs/postgres.md"

// recipe returns the SQL block of docs/postgres.md named name.
func recipe(tb testing.TB, name string) string {
	tb.Helper()
	doc, err := os.ReadFile(recipeDoc)
	if err != nil {
		tb.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```sql\n")
	for _, b := range blocks[1:] {
		body, _, ok := strings.Cut(b, "\n```")
		if !ok {
			tb.Fatalf("%s: an unterminated sql block", recipeDoc)
		}
		if first, _, _ := strings.Cut(body, "\n"); first == "-- recipe: "+name {
			return body
		}
	}
	tb.Fatalf("%s has no sql block starting with -- recipe: %s", recipeDoc, name)
	return ""
}

// partition runs the functions and the migration of the partitioning recipe on the store's
// schema, then VACUUM (ANALYZE), as the document says. The migration runs in a session whose
// TimeZone is not UTC (and east of it), which must not shift the months.
func partition(tb testing.TB, s *Store, now time.Time) {
	tb.Helper()
	ctx := context.Background()
	migrate := "SET TimeZone = 'Asia/Tokyo';\n" + recipe(tb, "migrate") + "\nRESET TimeZone;"
	for _, sql := range []string{recipe(tb, "functions"), at(now, migrate), "VACUUM (ANALYZE) sessions"} {
		if _, err := s.pool.Exec(ctx, sql); err != nil {
			tb.Fatalf("%v\n%s", err, sql)
		}
	}
}

// recipeNow is the "now" at which the tests that need a partitioned table run the recipe: a
// fixed time near the sessions they write.
var recipeNow = time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)

// at returns the SQL of a recipe run with sessions_now() at now, in one session that resets the
// setting after it: the recipes never read the test machine's calendar.
func at(now time.Time, sql string) string {
	return "SET sessions.now = '" + now.UTC().Format(time.RFC3339Nano) + "';\n" + sql + "\nRESET sessions.now;"
}

// TestPartitionedStore runs the conformance suite on a store whose sessions table was partitioned
// by the recipe right after New: the store works on that layout unchanged.
func TestPartitionedStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sessions.Store {
		s := conformanceStore(t)
		partition(t, s, recipeNow)
		return s
	})
}

// TestPartitionRecipe partitions a table of 20,000 sessions (benchdata: 90 days, over four
// months) with the recipe, and checks the partitions, the lists, their plans, and retention.
// With the small data sets the table holds 15,000 sessions: every month still holds enough of
// them for the planner to read each partition in index order (on 12,000, it rightly sorts the
// few sessions of the rarest filter instead), and the lists that the test walks, page by page,
// before and after the migration, after the purge and after the drop, are a quarter shorter.
func TestPartitionRecipe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	n := testscale.Pick(15_000, 20_000)
	benchdata.Load(t, s, n, 10_000)
	busy := benchdata.AgentList()[0]
	filters := []sessions.Filter{
		{AccountID: benchdata.Account},
		{AccountID: benchdata.Account, AgentID: busy.ID},
		{AccountID: benchdata.Account, AgentID: busy.ID, Status: sessions.StatusError, MinRedactions: 3},
		{AccountID: benchdata.Account, Since: benchdata.End.Add(-40 * 24 * time.Hour), Until: benchdata.End.Add(-20 * 24 * time.Hour)},
	}
	var before [][]sessions.Session
	for _, f := range filters {
		before = append(before, walk(t, s, f))
	}

	// The recipe runs on the last day of the data set, whatever the test machine's date.
	now := benchdata.End
	partition(t, s, now)

	var partitioned bool
	if err := s.pool.QueryRow(ctx, partitionedSQL).Scan(&partitioned); err != nil || !partitioned {
		t.Fatalf("sessions partitioned = %v, %v; want true", partitioned, err)
	}
	t.Run("months", func(t *testing.T) {
		rows, err := s.pool.Query(ctx, `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'sessions'::regclass ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		// From the oldest session's month (August 2026) to three months after now.
		want := append([]string{"sessions_default"}, monthsFrom(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), 6)...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("partitions (-want +got):\n%s", diff)
		}
	})
	total := n
	t.Run("each session in the partition of its ID's month", func(t *testing.T) {
		rows, err := s.pool.Query(ctx, "SELECT tableoid::regclass::text, id FROM sessions")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var part, id string
			if err := rows.Scan(&part, &id); err != nil {
				t.Fatal(err)
			}
			if want := monthPartition(t, id); part != want {
				t.Errorf("session %s is in %s, want %s", id, part, want)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != total {
			t.Errorf("%d sessions after the migration, want %d", n, total)
		}
	})
	t.Run("sessions_id_bound", func(t *testing.T) {
		for _, tm := range []time.Time{
			time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), benchdata.End, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2031, 2, 28, 23, 59, 59, 999e6, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		} {
			var got string
			if err := s.pool.QueryRow(ctx, "SELECT sessions_id_bound($1)", tm).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if want := sessions.NewSessionID(tm)[:15] + strings.Repeat("0", 16); got != want {
				t.Errorf("sessions_id_bound(%v) = %s, want %s", tm, got, want)
			}
		}
	})
	t.Run("same lists", func(t *testing.T) {
		for i, f := range filters {
			if diff := cmp.Diff(before[i], walk(t, s, f)); diff != "" {
				t.Errorf("filter %+v: the list changed (-before +after):\n%s", f, diff)
			}
		}
	})
	t.Run("plans", func(t *testing.T) {
		// Empty partitions (the months ahead, the default one) may be read with a sequential scan
		// and a sort of nothing; any partition that holds sessions must be read in index order.
		rows, err := s.pool.Query(ctx, "SELECT DISTINCT tableoid::regclass::text FROM sessions")
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		full := map[string]bool{}
		for _, n := range names {
			full[n] = true
		}
		for i, f := range filters {
			for _, deep := range []bool{false, true} {
				f := f
				f.Limit = 25
				if deep { // half way down the filter's own list (at 90%, a short tail of a rare filter may rightly be sorted)
					all := before[i]
					c := all[len(all)/2].Cursor()
					f.After = &c
				}
				query, args := listQuery(f.Normalize())
				plan := explain(t, s, query, args)
				walkPlan(plan, func(n planNode) {
					if !strings.Contains(n.NodeType, "Sort") && n.NodeType != "Seq Scan" {
						return
					}
					walkPlan(n, func(m planNode) {
						if full[m.RelationName] {
							t.Errorf("filter %+v, deep %v: a %s node over %q, which holds sessions\n%s", f, deep, n.NodeType, m.RelationName, plan.raw)
						}
					})
				})
			}
		}
	})
	t.Run("writes", func(t *testing.T) {
		late := benchdata.End.Add(time.Hour)
		x := sessions.Session{ID: sessions.NewSessionID(late), AccountID: benchdata.Account, AgentID: busy.ID,
			StartedAt: late, EndedAt: late.Add(time.Minute), Status: sessions.StatusOK, RedactionsByKind: map[string]int{}}
		if err := s.PutSessions(ctx, x); err != nil {
			t.Fatal(err)
		}
		// A correction of its start time, into another month: an update in place.
		x.StartedAt = late.Add(-60 * 24 * time.Hour)
		if err := s.PutSessions(ctx, x); err != nil {
			t.Fatal(err)
		}
		var part string
		var started time.Time
		if err := s.pool.QueryRow(ctx, "SELECT tableoid::regclass::text, started_at FROM sessions WHERE id = $1", x.ID).Scan(&part, &started); err != nil {
			t.Fatal(err)
		}
		if part != monthPartition(t, x.ID) || !started.Equal(x.StartedAt) {
			t.Errorf("after the correction: in %s, started %v; want %s, %v", part, started, monthPartition(t, x.ID), x.StartedAt)
		}
		other := benchdata.AgentList()[1]
		y := x
		y.AgentID = other.ID
		if err := s.PutSessions(ctx, y); !errors.Is(err, sessions.ErrConflict) {
			t.Errorf("the ID for another agent: %v, want ErrConflict", err)
		}
		z := sessions.Session{ID: sessions.NewSessionID(late), AccountID: "acct-other", AgentID: busy.ID,
			StartedAt: late, EndedAt: late, Status: sessions.StatusOK}
		if err := s.PutSessions(ctx, z); !errors.Is(err, sessions.ErrAgentNotFound) {
			t.Errorf("an agent of another account: %v, want ErrAgentNotFound", err)
		}
		if _, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE id = $1", x.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("purge", func(t *testing.T) {
		// PurgeSessions on the partitioned table deletes exactly what started before its time:
		// here part of the oldest month, while the other months hold rows at the same physical
		// addresses (which a delete by ctid would hit too).
		purgeAt := benchdata.End.Add(-75 * 24 * time.Hour)
		n, err := s.PurgeSessions(ctx, purgeAt)
		if err != nil {
			t.Fatal(err)
		}
		var kept []sessions.Session
		for _, x := range before[0] {
			if !x.StartedAt.Before(purgeAt) {
				kept = append(kept, x)
			}
		}
		if int(n) != len(before[0])-len(kept) {
			t.Errorf("PurgeSessions deleted %d, want %d", n, len(before[0])-len(kept))
		}
		if diff := cmp.Diff(kept, walk(t, s, filters[0])); diff != "" {
			t.Errorf("after PurgeSessions (-want +got):\n%s", diff)
		}
	})
	t.Run("maintain and retention", func(t *testing.T) {
		// Maintenance at the data set's end (1 November 2026) keeps every month: August ended
		// fewer than 90 days before. Then an explicit cut drops August and September.
		if _, err := s.pool.Exec(ctx, at(now, recipe(t, "maintain"))); err != nil {
			t.Fatal(err)
		}
		if got, want := months(t, s), monthsFrom(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), 6); !cmp.Equal(got, want) {
			t.Errorf("after maintenance at %s: partitions %v, want %v", now.Format(time.RFC3339Nano), got, want)
		}
		cut := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		rows, err := s.pool.Query(ctx, "SELECT sessions_drop_months_before($1)", cut)
		if err != nil {
			t.Fatal(err)
		}
		dropped, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"sessions_y2026m08", "sessions_y2026m09"}; !cmp.Equal(dropped, want) {
			t.Errorf("dropped %v, want %v", dropped, want)
		}
		var want []sessions.Session
		for _, x := range before[0] {
			if id, _ := ulid.Parse(strings.TrimPrefix(x.ID, sessions.SessionIDPrefix)); !ulid.Time(id.Time()).Before(cut) {
				want = append(want, x)
			}
		}
		if diff := cmp.Diff(want, walk(t, s, filters[0])); diff != "" {
			t.Errorf("after the drop (-want +got):\n%s", diff)
		}
	})
}

// TestPartitionMaintenanceDates runs the migration and then the maintenance of the recipe at
// dates chosen to be hard, in a session TimeZone with daylight saving time: the months it
// creates and drops follow the recipe's "now", never the test machine's calendar.
func TestPartitionMaintenanceDates(t *testing.T) {
	ctx := context.Background()
	for _, now := range []time.Time{
		time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC),                 // the first instant of a month, 90 days after 1 December
		time.Date(2027, 4, 30, 23, 59, 59, 999e6, time.UTC),         // the last instant of a month
		time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC),               // a leap day
		time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC),             // the turn of a year
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Hour), // New Year in New York, not yet in UTC
	} {
		t.Run(now.Format(time.RFC3339Nano), func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t)
			start := time.Date(now.Year(), now.Month()-5, 1, 0, 0, 0, 0, time.UTC)
			partition(t, s, start)
			maintain := "SET TimeZone = 'America/New_York';\n" + recipe(t, "maintain") + "\nRESET TimeZone;"
			if _, err := s.pool.Exec(ctx, at(now, maintain)); err != nil {
				t.Fatal(err)
			}
			// The migration made start's month and three more; maintenance adds now's month and
			// three more, and drops every month that ended 2160 hours (90 days) before now or
			// earlier.
			var want []string
			cut := now.Add(-90 * 24 * time.Hour)
			for _, name := range slices.Concat(monthsFrom(start, 3), monthsFrom(now, 3)) {
				m, err := time.Parse("sessions_y2006m01", name)
				if err != nil {
					t.Fatal(err)
				}
				if m.AddDate(0, 1, 0).After(cut) && !slices.Contains(want, name) {
					want = append(want, name)
				}
			}
			slices.Sort(want)
			if got := months(t, s); !cmp.Equal(got, want) {
				t.Errorf("partitions %v, want %v", got, want)
			}
		})
	}
}

// TestPartitionDropWithoutLocalMidnight drops months in a session TimeZone where the first of a
// month has no midnight (Asunción moved its clocks from 00:00 to 01:00 on 1 October 2023): the
// month of October 2023 ends at 1 November 00:00 UTC there too, and goes with a cut at that
// instant.
func TestPartitionDropWithoutLocalMidnight(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	partition(t, s, time.Date(2023, 9, 15, 0, 0, 0, 0, time.UTC))
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET TimeZone = 'America/Asuncion'"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "RESET TimeZone")
	rows, err := conn.Query(ctx, "SELECT sessions_drop_months_before($1)", time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sessions_y2023m09", "sessions_y2023m10"}; !cmp.Equal(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
}

// months returns the names of the monthly partitions of sessions, sorted.
func months(tb testing.TB, s *Store) []string {
	tb.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'sessions'::regclass AND c.relname <> 'sessions_default' ORDER BY 1`)
	if err != nil {
		tb.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	return names
}

// monthsFrom returns the names of the monthly partitions of the UTC month of t and the n months
// after it. (Months are counted from the first of the month: time.AddDate would make 30 February
// into 2 March.)
func monthsFrom(t time.Time, n int) []string {
	var names []string
	t = t.UTC()
	for i := range n + 1 {
		names = append(names, time.Date(t.Year(), t.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC).Format("sessions_y2006m01"))
	}
	return names
}

// monthPartition returns the name of the monthly partition of a session ID.
func monthPartition(tb testing.TB, id string) string {
	tb.Helper()
	u, err := ulid.Parse(strings.TrimPrefix(id, sessions.SessionIDPrefix))
	if err != nil {
		tb.Fatalf("session ID %q: %v", id, err)
	}
	return ulid.Time(u.Time()).UTC().Format("sessions_y2006m01")
}

// walk returns every session that f lists, walking pages of 100.
func walk(tb testing.TB, s *Store, f sessions.Filter) []sessions.Session {
	tb.Helper()
	f.Limit = sessions.MaxLimit
	var all []sessions.Session
	for {
		p, err := s.ListSessions(context.Background(), f)
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, p.Sessions...)
		if p.Next == nil {
			return all
		}
		f.After = p.Next
	}
}

// TestRolesRecipe runs the roles recipe with random role and schema names and the test
// database: the owner role migrates the schema, and the application role, which may not create
// tables, opens it, writes (with COPY, straight and through its temporary table), lists and
// purges.
func TestRolesRecipe(t *testing.T) {
	base := pgtest.ServerURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) }) // after the cleanup below, which uses it
	random := make([]byte, 6)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	suffix := hex.EncodeToString(random)
	owner, app, schema := "sessions_owner_"+suffix, "sessions_app_"+suffix, "sessions_roles_"+suffix
	var db string
	if err := admin.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	sql := strings.NewReplacer(
		"sessions_owner", owner, "sessions_app", app,
		"SCHEMA sessions", "SCHEMA "+schema, "search_path = sessions", "search_path = "+schema,
		"DATABASE app", "DATABASE "+pgx.Identifier{db}.Sanitize(),
	).Replace(recipe(t, "roles"))
	t.Cleanup(func() {
		for _, q := range []string{
			"DROP SCHEMA IF EXISTS " + schema + " CASCADE",
			"DROP OWNED BY " + owner + ", " + app,
			"DROP ROLE IF EXISTS " + app, "DROP ROLE IF EXISTS " + owner,
		} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	if _, err := admin.Exec(ctx, sql); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	as := func(role string) string {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User(role)
		return u.String()
	}

	ownerStore, err := Open(ctx, as(owner))
	if err != nil {
		t.Fatalf("Open as the owner: %v", err)
	}
	ownerStore.Close()

	s, err := Open(ctx, as(app))
	if err != nil {
		t.Fatalf("Open as the application: %v", err)
	}
	defer s.Close()
	if _, err := s.pool.Exec(ctx, "CREATE TABLE nope (x int)"); err == nil {
		t.Error("the application role can create tables in the schema")
	}
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct-1", Name: "one"}
	if err := s.PutAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	batch := make([]sessions.Session, 2*copyThreshold)
	for i := range batch {
		start := t0.Add(time.Duration(i) * time.Second)
		batch[i] = sessions.Session{ID: sessions.NewSessionID(start), AccountID: a.AccountID, AgentID: a.ID,
			StartedAt: start, EndedAt: start.Add(time.Second), Status: sessions.StatusOK}
	}
	start, err := s.TailPosition(ctx)
	if err != nil {
		t.Fatalf("TailPosition as the application: %v", err)
	}
	// New sessions go straight into sessions; the same ones again, through the temporary table.
	for _, round := range []string{"new", "again"} {
		if err := s.PutSessions(ctx, batch...); err != nil {
			t.Fatalf("PutSessions (%s) as the application: %v", round, err)
		}
	}
	if got := walk(t, s, sessions.Filter{AccountID: a.AccountID}); len(got) != len(batch) {
		t.Errorf("listed %d sessions, want %d", len(got), len(batch))
	}
	// The tail reads its watermark in pg_locks and pg_database.
	tailCtx, cancel := context.WithTimeout(ctx, tailWait)
	defer cancel()
	err = s.Tail(tailCtx, sessions.Filter{AccountID: a.AccountID}, start, func(sessions.Session, string) error { return errStop })
	if !errors.Is(err, errStop) {
		t.Errorf("Tail as the application returned %v; want a delivery", err)
	}
	if n, err := s.PurgeSessions(ctx, t0.Add(time.Minute)); err != nil || n != 60 {
		t.Errorf("PurgeSessions = %d, %v; want 60, nil", n, err)
	}
}

// TestPurgeRacesCorrection checks that a purge keeps a session that a concurrent PutSessions
// moves past the cutoff while the purge's DELETE waits for its lock, on the plain table (by
// address) and on the partitioned one (by ID): the DELETE checks the cutoff again on the row's
// new version. A statement trigger makes the correcting store's transaction sleep a second before
// it commits, with its row locked.
func TestPurgeRacesCorrection(t *testing.T) {
	for _, partitioned := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "partitioned"}[partitioned], func(t *testing.T) {
			ctx := context.Background()
			s := newTestStore(t)
			if partitioned {
				partition(t, s, recipeNow)
			}
			for _, q := range []string{
				`CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF current_setting('test.slow', true) = 'on' THEN PERFORM pg_sleep(1); END IF; RETURN NULL; END $$`,
				`CREATE TRIGGER test_slow_commit AFTER INSERT OR UPDATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION test_slow_commit()`,
			} {
				if _, err := s.pool.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			cfg := s.pool.Config().Copy()
			cfg.ConnConfig.RuntimeParams["test.slow"] = "on"
			slowPool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer slowPool.Close()
			slow, err := New(ctx, slowPool)
			if err != nil {
				t.Fatal(err)
			}
			defer slow.Close()

			agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "n"}
			if err := s.PutAgent(ctx, agent); err != nil {
				t.Fatal(err)
			}
			old := recipeNow.Add(-200 * 24 * time.Hour)
			x := sessions.Session{ID: sessions.NewSessionID(recipeNow), AccountID: "acme", AgentID: agent.ID,
				StartedAt: old, EndedAt: old.Add(time.Minute), Status: sessions.StatusOK}
			if err := s.PutSessions(ctx, x); err != nil {
				t.Fatal(err)
			}
			corrected := x
			corrected.StartedAt, corrected.EndedAt = recipeNow, recipeNow.Add(time.Minute)
			done := make(chan error, 1)
			go func() { done <- slow.PutSessions(ctx, corrected) }()
			time.Sleep(300 * time.Millisecond) // the correction holds the row's lock, and sleeps
			n, err := s.PurgeSessions(ctx, recipeNow.Add(-90*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got, err := s.GetSession(ctx, "acme", x.ID)
			if err != nil || n != 0 || !got.StartedAt.Equal(recipeNow) {
				t.Errorf("PurgeSessions deleted %d; then GetSession = %v, %v; want 0 deleted and the corrected session", n, got.StartedAt, err)
			}
		})
	}
}

// TestPartitionMonthOverDefaultRows checks the maintenance when the default partition already
// holds sessions of the month that it creates (an ID of sessions.SessionIDFor, whose time part
// is a hash, falls in any month): sessions_create_month moves them into the new month, the
// maintenance succeeds, and the store reads the same sessions and summary as before.
func TestPartitionMonthOverDefaultRows(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "Front desk"}
	if err := s.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	partition(t, s, recipeNow) // months up to three after recipeNow's
	month := time.Date(recipeNow.Year(), recipeNow.Month()+4, 1, 0, 0, 0, 0, time.UTC)
	lo, hi := sessions.NewSessionID(month)[:15], sessions.NewSessionID(month.AddDate(0, 1, 0))[:15]
	var ids []string
	for i := 0; len(ids) < 2; i++ { // calls recorded now, whose IDs' time part is in that month
		if id := sessions.SessionIDFor("acme", fmt.Sprintf("CA%032d", i)); id >= lo && id < hi {
			ids = append(ids, id)
		}
	}
	for i, id := range ids {
		at := recipeNow.Add(time.Duration(i) * time.Minute)
		if err := s.PutSessions(ctx, sessions.Session{ID: id, AccountID: "acme", AgentID: agent.ID, StartedAt: at,
			EndedAt: at.Add(time.Minute), Status: sessions.StatusOK, RedactionsByKind: map[string]int{"NAME": i + 1}}); err != nil {
			t.Fatal(err)
		}
	}
	where := func() string {
		var part string
		if err := s.pool.QueryRow(ctx, "SELECT tableoid::regclass::text FROM sessions WHERE id = $1", ids[0]).Scan(&part); err != nil {
			t.Fatal(err)
		}
		return part
	}
	f := sessions.Filter{AccountID: "acme", Since: recipeNow.Add(-time.Hour)}
	before, err := s.SummarizeSessions(ctx, f)
	if err != nil || where() != "sessions_default" {
		t.Fatalf("before the maintenance: %v, the session in %s", err, where())
	}
	if _, err := s.pool.Exec(ctx, at(month, recipe(t, "maintain"))); err != nil {
		t.Fatalf("the maintenance of a month later: %v", err)
	}
	if want := fmt.Sprintf("sessions_y%04dm%02d", month.Year(), month.Month()); where() != want {
		t.Errorf("the session is in %s, want %s", where(), want)
	}
	after, err := s.SummarizeSessions(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("summary (-before +after):\n%s", diff)
	}
	page, err := s.ListSessions(ctx, sessions.Filter{AccountID: "acme", Since: recipeNow.Add(-time.Hour), Limit: 10})
	if err != nil || len(page.Sessions) != len(ids) {
		t.Errorf("ListSessions = %d sessions, %v; want %d", len(page.Sessions), err, len(ids))
	}
}

// TestPartitionMonthWhileWriting checks the maintenance while a writer's transaction, still open,
// has written a row of the month it creates into the default partition: the maintenance waits for
// the writer (it locks the default partition against writes), then moves the row too and attaches
// the month, where it used to fail on the row it had not seen.
func TestPartitionMonthWhileWriting(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	if err := s.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	partition(t, s, recipeNow)
	month := time.Date(recipeNow.Year(), recipeNow.Month()+4, 1, 0, 0, 0, 0, time.UTC)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	id := sessions.NewSessionID(month.Add(time.Hour)) // the month's, which has no partition yet
	if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, account_id, agent_id, started_at, ended_at, status)
		VALUES ($1, 'acme', $2, $3, $3, 'ok')`, id, agent.ID, recipeNow); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.pool.Exec(ctx, at(month, recipe(t, "maintain")))
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // the maintenance waits for the writer
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the maintenance while a writer wrote its month: %v", err)
	}
	var part string
	if err := s.pool.QueryRow(ctx, "SELECT tableoid::regclass::text FROM sessions WHERE id = $1", id).Scan(&part); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("sessions_y%04dm%02d", month.Year(), month.Month()); part != want {
		t.Errorf("the writer's session is in %s, want %s", part, want)
	}
}
