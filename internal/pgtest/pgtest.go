// Package pgtest gives the tests of this module a PostgreSQL schema of their own on the server
// named by SESSIONS_TEST_POSTGRES_URL: created for one test, dropped after it. Without the
// variable, or when the server cannot be reached, it skips the test and says why; with CI=true it
// fails the test instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The environment of the tests: the server to run them against, and whether a missing server is a
// failure (CI) or a reason to skip.
const (
	urlEnv = "SESSIONS_TEST_POSTGRES_URL"
	ciEnv  = "CI"
)

// ServerURL returns the URL of the test server. Without SESSIONS_TEST_POSTGRES_URL, or when
// the server cannot be reached, it skips the test and says why; with CI=true it fails instead.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	unusable := func(format string, args ...any) {
		tb.Helper()
		if os.Getenv(ciEnv) == "true" {
			tb.Fatalf("CI=true: "+format, args...)
		}
		tb.Skipf(format, args...)
	}
	url := os.Getenv(urlEnv)
	if url == "" {
		unusable("%s is not set: set it to a PostgreSQL URL, such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run the PostgreSQL tests", urlEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		unusable("%s: cannot reach the server: %v", urlEnv, err)
	}
	conn.Close(ctx)
	return url
}

// NewSchema creates a schema with a random name on the test server, dropped when the test
// ends, and returns a pool whose connections use it as their search_path (and as their
// application_name, which tells their backends apart), closed when the test ends, before the
// schema is dropped. It skips or fails the test as ServerURL does.
func NewSchema(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	url := ServerURL(tb)
	ctx := context.Background()
	random := make([]byte, 8)
	if _, err := rand.Read(random); err != nil {
		tb.Fatal(err)
	}
	schema := "sessions_test_" + hex.EncodeToString(random)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close) // runs before the schema is dropped
	return pool, schema
}
