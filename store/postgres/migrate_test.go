package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
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
