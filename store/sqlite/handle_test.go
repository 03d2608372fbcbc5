package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/masker-dev/sessions"
)

// openHandle opens a handle on path with the modernc driver and dsn's parameters, as an
// application would, closed when the test ends.
func openHandle(tb testing.TB, path, dsn string) *sql.DB {
	tb.Helper()
	if dsn != "" {
		path += "?" + dsn
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// The conformance suite on a store of New runs in the module compat (TestSQLiteNewWithoutMigrate,
// on a handle whose schema plain SQL applied); the store's code after New is the code of Open.

// TestNewCloseLeavesHandleOpen checks that Close of a store made by New leaves the handle open.
func TestNewCloseLeavesHandleOpen(t *testing.T) {
	db := openHandle(t, filepath.Join(t.TempDir(), "app.db"), HandleDSN)
	s, err := New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("the handle after Close: %v", err)
	}
}

// TestNewSetsWAL checks what New does with a file that is not in WAL mode, as a handle opened
// without journal_mode leaves it (the default is a rollback journal): it switches the file to
// WAL, which every connection then uses, one opened later too.
func TestNewSetsWAL(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	db := openHandle(t, path, "_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)")
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "delete" {
		t.Fatalf("journal_mode before New = %q, %v; want delete", mode, err)
	}
	s, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other := openHandle(t, path, "")
	if err := other.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode after New, on a new connection = %q, %v; want wal", mode, err)
	}
}

// TestNewRefusesSettings checks that New refuses a handle whose connections lack a setting of
// each connection, with ErrSettings naming it and the DSN that fixes it, and changes nothing.
func TestNewRefusesSettings(t *testing.T) {
	const (
		busy = "_pragma=busy_timeout(10000)"
		sync = "_pragma=synchronous(FULL)"
		fk   = "_pragma=foreign_keys(1)"
	)
	tests := []struct {
		name  string
		dsn   string
		setup string // run on one connection of the pool only, which New must see through
		says  string
	}{
		{"no busy_timeout", sync + "&" + fk, "", "busy_timeout is 0"},
		{"synchronous NORMAL", busy + "&_pragma=synchronous(NORMAL)&" + fk, "", "synchronous is 1"},
		{"no foreign keys", busy + "&" + sync, "", "foreign_keys is off"},
		{"foreign keys on one connection only", busy + "&" + sync, "PRAGMA foreign_keys = ON", "connection 2 of 2: foreign_keys is off"},
		{"in memory", busy + "&" + sync + "&" + fk, "", "cannot be set to WAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "app.db")
			if tt.name == "in memory" {
				path = ":memory:"
			}
			db := openHandle(t, path, tt.dsn)
			if tt.setup != "" {
				if _, err := db.ExecContext(ctx, tt.setup); err != nil {
					t.Fatal(err)
				}
			}
			_, err := New(ctx, db)
			if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "sqlite.HandleDSN") {
				t.Fatalf("New = %v, want ErrSettings saying %q and naming sqlite.HandleDSN", err, tt.says)
			}
			var tables int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil || tables != 0 {
				t.Errorf("%d tables after a refused New, %v; want none", tables, err)
			}
		})
	}
}

// TestNewWithoutMigrate checks New with WithoutMigrate: an empty database is refused, one that
// Migrate made is used.
func TestNewWithoutMigrate(t *testing.T) {
	ctx := t.Context()
	db := openHandle(t, filepath.Join(t.TempDir(), "app.db"), HandleDSN)
	if _, err := New(ctx, db, WithoutMigrate()); !errors.Is(err, ErrSchemaTooOld) {
		t.Fatalf("New WithoutMigrate on an empty file = %v, want ErrSchemaTooOld", err)
	}
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, db, WithoutMigrate()); err != nil {
		t.Fatal(err)
	}
}

// TestNewReadOnly checks that New refuses with ErrReadOnly a handle that SQLite opened
// read-only (mode=ro: what it does by itself with a file that the process may not write).
func TestNewReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	mustOpen(t, path).Close()
	db := openHandle(t, "file:"+path, "mode=ro&"+HandleDSN)
	_, err := New(ctx, db)
	if !errors.Is(err, ErrReadOnly) || errors.Is(err, sessions.ErrUnavailable) {
		t.Fatalf("New on a read-only handle = %v, want ErrReadOnly and not ErrUnavailable", err)
	}
}
