package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/masker-dev/sessions"
)

// nobody is the user ID of the unprivileged user as whom asUnprivileged runs, as root.
const nobody = 65534

// asUnprivileged runs fn with file permissions that apply: as root (whom chmod does not stop),
// with the effective user ID of nobody (and no capabilities) during fn, restored after it;
// otherwise as the user that runs the tests. The effective ID is the process's: the test that
// calls it must not run in parallel with others, and fn must not fail the test with
// FailNow/Fatal.
func asUnprivileged(tb testing.TB, fn func()) {
	tb.Helper()
	if os.Geteuid() != 0 {
		fn()
		return
	}
	if err := syscall.Seteuid(nobody); err != nil {
		tb.Fatalf("as root, cannot take the user ID %d to test file permissions: %v", nobody, err)
	}
	defer func() {
		if err := syscall.Seteuid(0); err != nil {
			panic(err) // every later test would run without root's rights
		}
	}()
	fn()
}

// TestOpenReadOnlyFile checks that Open refuses, with ErrReadOnly (and not ErrUnavailable, which
// would tell the caller to retry) naming the path, a database file that the process may read but
// not write: the file's own mode, its directory's (where SQLite creates -wal and -shm), or
// both; with or without WithoutMigrate. Run as root, it takes the user ID of nobody, so that the
// permissions apply.
func TestOpenReadOnlyFile(t *testing.T) {
	tests := []struct {
		name              string
		fileMode, dirMode os.FileMode
	}{
		{"file 0444", 0o444, 0o777},
		{"directory 0555", 0o666, 0o555},
		{"both", 0o444, 0o555},
	}
	for _, tt := range tests {
		for _, opts := range [][]Option{nil, {WithoutMigrate()}} {
			dir := t.TempDir()
			path := filepath.Join(dir, "sessions.db")
			mustOpen(t, path).Close() // migrated, WAL, checkpointed: no -wal or -shm left
			// The test's directories are 0700, which nobody could not enter.
			for _, d := range []string{filepath.Dir(dir), dir} {
				if err := os.Chmod(d, 0o777); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(path, tt.fileMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.dirMode); err != nil {
				t.Fatal(err)
			}
			var err error
			asUnprivileged(t, func() {
				var s *Store
				if s, err = Open(t.Context(), path, opts...); err == nil {
					s.Close()
				}
			})
			if !errors.Is(err, ErrReadOnly) || errors.Is(err, sessions.ErrUnavailable) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s, %d options: Open = %v, want ErrReadOnly naming the path, and not ErrUnavailable", tt.name, len(opts), err)
			}
			if err := os.Chmod(dir, 0o777); err != nil { // so that the test can remove it
				t.Fatal(err)
			}
		}
	}
}

// TestPrepareReadOnlyConnection checks the refusal of a read-only database on the connection
// that SQLite makes of a file that the process may not write (mode=ro gives the same), whoever
// runs the test.
func TestPrepareReadOnlyConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	mustOpen(t, path).Close()
	for _, migrate := range []bool{true, false} {
		db := openHandle(t, "file:"+path, "mode=ro&"+writeParams.Encode())
		if err := prepare(t.Context(), db, migrate); !errors.Is(err, ErrReadOnly) {
			t.Errorf("prepare(migrate %v) on a read-only connection = %v, want ErrReadOnly", migrate, err)
		}
	}
}
