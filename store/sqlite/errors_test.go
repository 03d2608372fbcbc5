package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/masker-dev/sessions"
)

// TestMapError checks the translation of driver errors, with errors made by a real database
// where it can.
func TestMapError(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel := context.WithTimeout(live, -1)
	defer cancel()

	path := filepath.Join(t.TempDir(), "x.db")
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE p (id TEXT PRIMARY KEY, u TEXT UNIQUE)",
		"CREATE TABLE c (p TEXT REFERENCES p (id))",
		"INSERT INTO p VALUES ('a', 'x')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	driverErr := func(q string) error {
		_, err := db.Exec(q)
		if err == nil {
			t.Fatalf("%s succeeded", q)
		}
		return fmt.Errorf("exec: %w", err)
	}
	unmapped := errors.New("scan failed")
	// SQLITE_READONLY, from a connection that SQLite opened read-only, as it does for a file
	// that the process may not write.
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, readOnlyErr := ro.Exec("CREATE TABLE t (x)")
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want []error // errors.Is each
		not  []error // and none of these
	}{
		{"nil", live, nil, nil, nil},
		{"cancelled", cancelled, errors.New("interrupted (9)"), []error{context.Canceled}, []error{sessions.ErrUnavailable}},
		{"deadline", expired, errors.New("interrupted (9)"), []error{sessions.ErrUnavailable, context.DeadlineExceeded}, []error{context.Canceled}},
		{"deadline, live ctx", live, fmt.Errorf("x: %w", context.DeadlineExceeded), []error{sessions.ErrUnavailable}, nil},
		{"foreign key", live, driverErr("INSERT INTO c VALUES ('b')"), []error{sessions.ErrAgentNotFound}, []error{sessions.ErrConflict}},
		{"primary key", live, driverErr("INSERT INTO p VALUES ('a', 'y')"), []error{sessions.ErrConflict}, []error{sessions.ErrAgentNotFound}},
		{"unique", live, driverErr("INSERT INTO p VALUES ('b', 'x')"), []error{sessions.ErrConflict}, nil},
		{"syntax", live, driverErr("SELEC 1"), nil, []error{sessions.ErrUnavailable, sessions.ErrConflict, sessions.ErrAgentNotFound}},
		{"closed", live, errors.New("sql: database is closed"), []error{sessions.ErrUnavailable}, nil},
		{"conn done", live, sql.ErrConnDone, []error{sessions.ErrUnavailable}, nil},
		{"bad conn", live, driver.ErrBadConn, []error{sessions.ErrUnavailable}, nil},
		{"mapped", live, fmt.Errorf("%w: x", sessions.ErrConflict), []error{sessions.ErrConflict}, []error{sessions.ErrUnavailable}},
		{"too new", live, ErrSchemaTooNew, []error{ErrSchemaTooNew}, []error{sessions.ErrUnavailable}},
		{"too old", live, ErrSchemaTooOld, []error{ErrSchemaTooOld}, []error{sessions.ErrUnavailable}},
		{"read-only", live, readOnlyErr, []error{ErrReadOnly}, []error{sessions.ErrUnavailable}},
		{"other", live, unmapped, []error{unmapped}, []error{sessions.ErrUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapError(tt.ctx, tt.err)
			if (got == nil) != (tt.err == nil) {
				t.Fatalf("mapError(%v) = %v", tt.err, got)
			}
			for _, w := range tt.want {
				if !errors.Is(got, w) {
					t.Errorf("mapError(%v) = %v, want it to match %v", tt.err, got, w)
				}
			}
			for _, w := range tt.not {
				if errors.Is(got, w) {
					t.Errorf("mapError(%v) = %v, want it not to match %v", tt.err, got, w)
				}
			}
		})
	}
}

// TestBusy checks that SQLITE_BUSY, from another process holding the write lock longer than
// busy_timeout, is ErrUnavailable. The other process is another connection that holds an
// immediate transaction open.
func TestBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := mustOpen(t, path)
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	// Shorten the wait of the writer connection (there is one) for the test.
	if _, err := s.write.ExecContext(ctx, "PRAGMA busy_timeout = 100"); err != nil {
		t.Fatal(err)
	}
	err = s.PutAgent(ctx, sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"})
	if !errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("PutAgent while another process writes: %v, want ErrUnavailable", err)
	}
}
