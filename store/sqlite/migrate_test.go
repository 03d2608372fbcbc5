package sqlite

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMigrate checks that a new file gets every migration, recorded in schema_version, and that
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
		rows, err := s.read.QueryContext(ctx, "SELECT version FROM schema_version ORDER BY version")
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
			t.Errorf("schema_version (-want +got):\n%s", diff)
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
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := mustOpen(t, path)
	if _, err := s.write.ExecContext(ctx, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)",
		schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileDigests(t, path)

	_, err := Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer file: %v, want ErrSchemaTooNew", err)
	}
	if diff := cmp.Diff(before, fileDigests(t, path)); diff != "" {
		t.Errorf("the file changed (-before +after):\n%s", diff)
	}
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
