package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions/internal/schema"
)

// TestMigrate checks that a new file gets every migration, recorded in sessions_schema, and that
// opening it again applies nothing and keeps its data.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	for range 2 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		var versions []int
		rows, err := s.read.QueryContext(ctx, "SELECT version FROM sessions_schema ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			versions = append(versions, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		var want []int
		for _, m := range migrations() {
			want = append(want, m.Version)
		}
		if diff := cmp.Diff(want, versions); diff != "" {
			t.Errorf("sessions_schema (-want +got):\n%s", diff)
		}
		var mode string
		if err := s.read.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v; want wal", mode, err)
		}
		// The bound of the WAL file that the package documents.
		var limit int64
		if err := s.write.QueryRowContext(ctx, "PRAGMA journal_size_limit").Scan(&limit); err != nil || limit != 40<<20 {
			t.Errorf("journal_size_limit = %d, %v; want %d", limit, err, 40<<20)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSchemaTooNew checks that a file migrated by a newer version of the package is refused
// with ErrSchemaTooNew, and left byte for byte as it was.
func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	path := newerFile(t)
	before := fileDigests(t, path)

	_, err := Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer file: %v, want ErrSchemaTooNew", err)
	}
	if diff := cmp.Diff(before, fileDigests(t, path)); diff != "" {
		t.Errorf("the file changed (-before +after):\n%s", diff)
	}
}

// TestSchemaTooNewRollbackJournal checks that a newer file in SQLite's default journal mode (not
// WAL: a file that another program made) is refused by Open, Open WithoutMigrate and New, and
// left byte for byte as it was: the store switches a file to WAL only once it knows the schema
// is one it can use.
func TestSchemaTooNewRollbackJournal(t *testing.T) {
	ctx := context.Background()
	path := newerFile(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode); err != nil || mode != "delete" {
		t.Fatalf("PRAGMA journal_mode = DELETE: %q, %v", mode, err)
	}
	db.Close()
	before := fileDigests(t, path)
	open := map[string]func() error{
		"Open":                func() error { _, err := Open(ctx, path); return err },
		"Open WithoutMigrate": func() error { _, err := Open(ctx, path, WithoutMigrate()); return err },
		"New": func() error {
			db, err := sql.Open("sqlite", path+"?"+HandleDSN)
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = New(ctx, db)
			return err
		},
	}
	for name, open := range open {
		if err := open(); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("%s of a newer file: %v, want ErrSchemaTooNew", name, err)
		}
		if diff := cmp.Diff(before, fileDigests(t, path)); diff != "" {
			t.Errorf("%s changed the file (-before +after):\n%s", name, diff)
		}
	}
}

// newerFile returns the path of a new file of the store whose schema version is one more than
// this package's, as a newer version of the package would leave it.
func newerFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := mustOpen(t, path)
	if _, err := s.write.ExecContext(context.Background(), "INSERT INTO sessions_schema (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)",
		schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileDigests returns the SHA-256 of the database file and of its -wal and -shm files, "absent"
// for those that do not exist.
func fileDigests(tb testing.TB, path string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			out[filepath.Base(p)] = "absent"
		case err != nil:
			tb.Fatal(err)
		default:
			sum := sha256.Sum256(b)
			out[filepath.Base(p)] = fmt.Sprintf("%x", sum)
		}
	}
	return out
}

// TestOpenBadPath checks that Open refuses what is not the path of a file.
func TestOpenBadPath(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if _, err := Open(context.Background(), path); err == nil {
			t.Errorf("Open(%q) succeeded", path)
		}
	}
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "no-such-dir", "x.db"))
	if err == nil {
		t.Error("Open in a directory that does not exist succeeded")
	}
}

// mustOpen opens the store of path, closed when the test ends (closing twice is harmless).
func mustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestWithoutMigrate checks that WithoutMigrate opens a schema at schemaVersion, refuses one
// behind (no file, an empty file, a schema missing its last migration) with ErrSchemaTooOld
// and one ahead with ErrSchemaTooNew, naming the versions, and changes no file it refuses
// (but for the header that the WAL setting writes into an empty file).
func TestWithoutMigrate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	current := filepath.Join(dir, "current.db")
	mustOpen(t, current).Close()
	behind := filepath.Join(dir, "behind.db")
	s := mustOpen(t, behind)
	if _, err := s.write.ExecContext(ctx, "DELETE FROM sessions_schema WHERE version = ?", schemaVersion); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ahead := filepath.Join(dir, "ahead.db")
	s = mustOpen(t, ahead)
	if _, err := s.write.ExecContext(ctx, "INSERT INTO sessions_schema (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)", schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	last := migrations()[schemaVersion-1].Name
	tests := []struct {
		name string
		path string
		want error  // nil: opens
		says string // in the error's message
	}{
		{"current", current, nil, ""},
		{"behind", behind, ErrSchemaTooOld, fmt.Sprintf("this package needs version %d: apply %s of sqlite.Migrations", schemaVersion, last)},
		{"ahead", ahead, ErrSchemaTooNew, fmt.Sprintf("version %d, this package knows up to %d", schemaVersion+1, schemaVersion)},
		{"empty file", empty, ErrSchemaTooOld, "sessions_schema is absent or empty"},
		{"no file", filepath.Join(dir, "absent.db"), ErrSchemaTooOld, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fileDigests(t, tt.path)
			s, err := Open(ctx, tt.path, WithoutMigrate())
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Open = %v, want %v saying %q", err, tt.want, tt.says)
			}
			if diff := cmp.Diff(before, fileDigests(t, tt.path)); diff != "" && tt.path != empty {
				t.Errorf("the file changed (-before +after):\n%s", diff)
			}
		})
	}
}

// TestTooOldMessage checks the advice of ErrSchemaTooOld for a schema several versions behind,
// which the package's own files cannot show while it has few migrations.
func TestTooOldMessage(t *testing.T) {
	ms := []schema.Migration{{Version: 1, Name: "0001_a.sql"}, {Version: 2, Name: "0002_b.sql"}, {Version: 3, Name: "0003_c.sql"}}
	want := "sqlite: the database schema is older than this version of the package: the file has schema version 1, " +
		"this package needs version 3: apply 0002_b.sql to 0003_c.sql of sqlite.Migrations, or call sqlite.Migrate, " +
		"or open it without WithoutMigrate"
	if diff := cmp.Diff(want, tooOld(1, ms).Error()); diff != "" {
		t.Errorf("tooOld (-want +got):\n%s", diff)
	}
}

// TestMigrateHandle checks Migrate on a handle of the application: it creates the schema, after
// which a store opens WithoutMigrate, and a second Migrate changes nothing.
func TestMigrateHandle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	if got := versions(t, db); !cmp.Equal(allVersions(), got) {
		t.Errorf("sessions_schema = %v, want %v", got, allVersions())
	}
	s, err := Open(ctx, path, WithoutMigrate())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestLegacyTrackingTable checks the tracking table of earlier versions of the package,
// schema_version: Open renames it to sessions_schema and applies what is missing, keeping the
// data, and leaves a schema_version that the earlier versions read as too new; WithoutMigrate
// refuses it, saying how to migrate.
func TestLegacyTrackingTable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The file as the earlier versions made it: 0001_init.sql, recorded in schema_version.
	init, err := fs.ReadFile(migrationFiles, "migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(init), legacyTableSQL,
		"INSERT INTO schema_version VALUES (1, '0001_init.sql', 1700000000000)",
		"INSERT INTO agents (id, account_id, name) VALUES ('agt_01HYZ0000000000000000000AA', 'acme', 'kept')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Open(ctx, path, WithoutMigrate())
	if !errors.Is(err, ErrSchemaTooOld) || !strings.Contains(err.Error(), "schema_version") {
		t.Fatalf("Open WithoutMigrate = %v, want ErrSchemaTooOld naming schema_version", err)
	}
	s := mustOpen(t, path)
	a, err := s.GetAgent(ctx, "acme", "agt_01HYZ0000000000000000000AA")
	if err != nil || a.Name != "kept" {
		t.Errorf("GetAgent after the migration = %+v, %v", a, err)
	}
	s.Close()
	if got := versions(t, db); !cmp.Equal(allVersions(), got) {
		t.Errorf("sessions_schema = %v, want %v", got, allVersions())
	}
	// In its place, the one row that makes the earlier versions, which read only schema_version
	// (as below), refuse the file as newer than they know.
	var marker int
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&marker); err != nil || marker != schemaVersion {
		t.Errorf("schema_version's version: %d, %v; want %d", marker, err, schemaVersion)
	}
	// Opened again, the file keeps its versions in sessions_schema.
	mustOpen(t, path).Close()
	if got := versions(t, db); !cmp.Equal(allVersions(), got) {
		t.Errorf("sessions_schema after a second Open = %v, want %v", got, allVersions())
	}
}

// TestHostSchemaVersion checks that a table schema_version of the host application, in the same
// file, is neither read as this package's nor changed: the store creates its own schema beside
// it, and a second Open finds it at schemaVersion.
func TestHostSchemaVersion(t *testing.T) {
	tests := []struct {
		name  string
		setup []string
	}{
		{"golang-migrate's", []string{
			"CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, dirty INTEGER NOT NULL)",
			"INSERT INTO schema_version VALUES (7, 0)",
		}},
		{"the same columns, other names", []string{legacyTableSQL,
			"INSERT INTO schema_version VALUES (1, '0001_users.sql', 0), (2, '0002_orders.sql', 0)",
		}},
		{"this package's rows, not STRICT", []string{
			"CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
			"INSERT INTO schema_version VALUES (1, '0001_init.sql', 0)",
		}},
		{"this package's rows, no tables of it", []string{legacyTableSQL,
			"INSERT INTO schema_version VALUES (1, '0001_init.sql', 0)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "host.db")
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range tt.setup {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			before := dump(t, db, "SELECT * FROM schema_version")
			for range 2 {
				s, err := Open(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
			}
			if got := versions(t, db); !cmp.Equal(allVersions(), got) {
				t.Errorf("sessions_schema = %v, want %v", got, allVersions())
			}
			if diff := cmp.Diff(before, dump(t, db, "SELECT * FROM schema_version")); diff != "" {
				t.Errorf("the host's schema_version changed (-before +after):\n%s", diff)
			}
		})
	}
}

// legacyTableSQL is the tracking table of earlier versions of the package.
const legacyTableSQL = `CREATE TABLE schema_version (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL -- Unix milliseconds, UTC
) STRICT`

// allVersions returns 1..schemaVersion.
func allVersions() []int {
	var vs []int
	for _, m := range migrations() {
		vs = append(vs, m.Version)
	}
	return vs
}

// versions returns the versions recorded in sessions_schema.
func versions(tb testing.TB, db *sql.DB) []int {
	tb.Helper()
	rows, err := db.Query("SELECT version FROM sessions_schema ORDER BY version")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			tb.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return vs
}

// dump returns every row of query, each as a string.
func dump(tb testing.TB, db *sql.DB, query string) []string {
	tb.Helper()
	rows, err := db.Query(query)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
