package compat_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/store/postgres"
	"github.com/masker-dev/sessions/store/sqlite"
	"github.com/masker-dev/sessions/store/storetest"
)

// The recipe of README's "Bring your own migrations", as an application whose schema tool owns
// the schema follows it: the files of Migrations applied with plain SQL, each in a transaction,
// then the stores opened WithoutMigrate, which change no schema. Each passes the conformance
// suite.

// migrationFiles returns the SQL files of fsys in the order to apply them.
func migrationFiles(tb testing.TB, fsys fs.FS) []string {
	tb.Helper()
	names, err := fs.Glob(fsys, "*.sql") // sorted: 0001_..., 0002_...
	if err != nil || len(names) == 0 {
		tb.Fatalf("no migrations: %v", err)
	}
	var texts []string
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			tb.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	return texts
}

// applySQLite applies sqlite.Migrations to the file at path with database/sql.
func applySQLite(tb testing.TB, path string) {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, text := range migrationFiles(tb, sqlite.Migrations) {
		tx, err := db.Begin()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := tx.Exec(text); err != nil {
			tb.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestSQLiteOpenWithoutMigrate: the files applied with database/sql, then sqlite.Open with
// WithoutMigrate.
func TestSQLiteOpenWithoutMigrate(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sessions.Store {
		path := filepath.Join(t.TempDir(), "app.db")
		applySQLite(t, path)
		s, err := sqlite.Open(t.Context(), path, sqlite.WithoutMigrate())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestSQLiteNewWithoutMigrate: the files applied with database/sql, then sqlite.New with
// WithoutMigrate on the application's handle.
func TestSQLiteNewWithoutMigrate(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sessions.Store {
		path := filepath.Join(t.TempDir(), "app.db")
		applySQLite(t, path)
		db, err := sql.Open("sqlite", path+"?"+sqlite.HandleDSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sqlite.New(t.Context(), db, sqlite.WithoutMigrate())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestPostgresNewWithoutMigrate: the files applied with pgx, each in a transaction, in a schema
// of their own (the pool's search_path), then postgres.New with WithoutMigrate.
func TestPostgresNewWithoutMigrate(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sessions.Store {
		ctx := context.Background()
		pool, _ := pgtest.NewSchema(t)
		for _, text := range migrationFiles(t, postgres.Migrations) {
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, text)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		s, err := postgres.New(ctx, pool, postgres.WithoutMigrate())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
