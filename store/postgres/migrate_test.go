package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/pgtest"
)

// TestMigrateConcurrently opens ten stores on one new schema at once, each with its own pool
// from a connection string, as ten application instances starting together would: each succeeds,
// and each migration was applied exactly once.
func TestMigrateConcurrently(t *testing.T) {
	pool, schema := pgtest.NewSchema(t)
	connString := schemaURL(t, schema)
	ctx := context.Background()
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, connString)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
	var applied []int
	rows, err := pool.Query(ctx, "SELECT version FROM sessions_schema ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		applied = append(applied, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range migrations() {
		want = append(want, m.Version)
	}
	if diff := cmp.Diff(want, applied); diff != "" {
		t.Errorf("applied versions (-want +got):\n%s", diff)
	}
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.NewSchema(t)
	if _, err := New(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO sessions_schema (version, name) VALUES ($1, 'from the future')", schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err := New(ctx, pool)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("New on a newer schema = %v, want ErrSchemaTooNew", err)
	}
	t.Log(err)
}

func TestNoSchema(t *testing.T) {
	_, err := Open(context.Background(), schemaURL(t, "no_such_schema_here"))
	if !errors.Is(err, errNoSchema) {
		t.Errorf("Open with no usable schema = %v, want %v", err, errNoSchema)
	}
}

// schemaURL returns the URL of the test server with schema as the search_path.
func schemaURL(tb testing.TB, schema string) string {
	tb.Helper()
	u, err := url.Parse(pgtest.ServerURL(tb))
	if err != nil {
		tb.Fatalf("SESSIONS_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx passes a parameter it does not know to the server
	u.RawQuery = q.Encode()
	return u.String()
}

func TestMigrationsNumbered(t *testing.T) {
	ms := migrations() // panics on a gap
	if len(ms) == 0 || schemaVersion != len(ms) {
		t.Fatalf("%d migrations, schemaVersion %d", len(ms), schemaVersion)
	}
	for _, m := range ms {
		if strings.TrimSpace(m.SQL) == "" {
			t.Errorf("migration %s is empty", m.Name)
		}
	}
}

// TestSchemasIsolated opens two stores in two schemas of one database: neither sees the other's
// agents or sessions.
func TestSchemasIsolated(t *testing.T) {
	ctx := context.Background()
	one, two := newFixture(t), newTestStore(t)
	// The same agent ID in another account is no conflict in another schema.
	if err := two.PutAgent(ctx, sessions.Agent{ID: one.a1.ID, AccountID: one.other}); err != nil {
		t.Fatal(err)
	}
	if err := one.store.PutSessions(ctx, one.session(one.a1, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := two.GetAgent(ctx, one.account, one.a1.ID); !errors.Is(err, sessions.ErrAgentNotFound) {
		t.Errorf("GetAgent in the other schema = %v, want ErrAgentNotFound", err)
	}
	p, err := two.ListSessions(ctx, sessions.Filter{AccountID: one.account})
	if err != nil || len(p.Sessions) != 0 {
		t.Errorf("ListSessions in the other schema = %d sessions, %v; want none", len(p.Sessions), err)
	}
}

// TestWithoutMigrate checks that WithoutMigrate opens a schema at schemaVersion, and refuses an
// empty schema and one missing its last migration with ErrSchemaTooOld, and one ahead with
// ErrSchemaTooNew, naming the versions and the fix, without creating anything.
func TestWithoutMigrate(t *testing.T) {
	ctx := context.Background()
	last := migrations()[schemaVersion-1].Name
	tests := []struct {
		name  string
		setup func(t *testing.T, pool *pgxpool.Pool)
		want  error  // nil: opens
		says  string // in the error's message
	}{
		{"current", func(t *testing.T, pool *pgxpool.Pool) { mustMigrate(t, pool) }, nil, ""},
		{"empty schema", func(*testing.T, *pgxpool.Pool) {}, ErrSchemaTooOld, "sessions_schema is absent or empty"},
		{"behind", func(t *testing.T, pool *pgxpool.Pool) {
			mustMigrate(t, pool)
			mustExec(t, pool, "DELETE FROM sessions_schema WHERE version = $1", schemaVersion)
		}, ErrSchemaTooOld, fmt.Sprintf("this package needs version %d: apply %s of postgres.Migrations", schemaVersion, last)},
		{"ahead", func(t *testing.T, pool *pgxpool.Pool) {
			mustMigrate(t, pool)
			mustExec(t, pool, "INSERT INTO sessions_schema (version, name) VALUES ($1, 'from the future')", schemaVersion+1)
		}, ErrSchemaTooNew, fmt.Sprintf("version %d, and this package knows versions up to %d", schemaVersion+1, schemaVersion)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, _ := pgtest.NewSchema(t)
			tt.setup(t, pool)
			var before int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&before); err != nil {
				t.Fatal(err)
			}
			s, err := New(ctx, pool, WithoutMigrate())
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("New = %v, want %v saying %q", err, tt.want, tt.says)
			}
			var after int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&after); err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Errorf("%d tables before New, %d after", before, after)
			}
		})
	}
}

// TestPlainSQLThenOpen checks the recipe of a schema tool: the files of Migrations applied with
// plain SQL (pgx's Exec, as psql -f would send them), then Open, with or without migrating,
// finds the schema at schemaVersion and applies nothing (it once failed with relation "agents"
// already exists).
func TestPlainSQLThenOpen(t *testing.T) {
	ctx := context.Background()
	for _, opts := range [][]Option{nil, {WithoutMigrate()}} {
		pool, _ := pgtest.NewSchema(t)
		names, err := fs.Glob(Migrations, "*.sql")
		if err != nil || len(names) != schemaVersion {
			t.Fatalf("Migrations: %v, %v; want %d files", names, err, schemaVersion)
		}
		for _, name := range names {
			b, err := fs.ReadFile(Migrations, name)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, pool, string(b))
		}
		s, err := New(ctx, pool, opts...)
		if err != nil {
			t.Fatalf("New after the files: %v", err)
		}
		if err := s.PutAgent(ctx, sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}); err != nil {
			t.Error(err)
		}
		s.Close()
	}
}

// mustMigrate runs Migrate on pool.
func mustMigrate(tb testing.TB, pool *pgxpool.Pool) {
	tb.Helper()
	if err := Migrate(context.Background(), pool); err != nil {
		tb.Fatal(err)
	}
}

// mustExec runs sql on pool.
func mustExec(tb testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	tb.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatal(err)
	}
}
