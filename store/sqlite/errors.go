package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/masker-dev/sessions"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrSchemaTooNew means that the database file was migrated by a newer version of this package
// than the running one: the store refuses to use it, and leaves it unchanged. Test it with
// errors.Is.
var ErrSchemaTooNew = errors.New("sqlite: the database schema is newer than this version of the package")

// ErrSchemaTooOld means that a store opened with [WithoutMigrate] found a schema older than
// this version of the package (or none): its message says which versions, and how to migrate.
// The file is left unchanged. Test it with errors.Is.
var ErrSchemaTooOld = errors.New("sqlite: the database schema is older than this version of the package")

// ErrReadOnly means that the process may read the database but not write it: the file, or its
// directory (where SQLite creates the -wal and -shm files beside it), is not writable by the
// process, or its file system is mounted read-only. [Open] and [New] refuse such a database
// with it, and a write to a file that became read-only after Open returns it too. It does not
// match [sessions.ErrUnavailable]: retrying does not help; giving the process write access
// does. Test it with errors.Is.
var ErrReadOnly = errors.New("sqlite: the database is read-only for this process")

// ErrSettings means that [New] was given a handle whose connections lack a setting that the
// store's durability or rules depend on; its message names each one and the DSN that sets it.
// Test it with errors.Is.
var ErrSettings = errors.New("sqlite: the database handle lacks settings that the store needs")

// mapError translates an error of database/sql or of the driver into the errors of package
// sessions. It is the only place where driver errors are interpreted:
//   - ctx ended: context.Canceled as it is, a deadline as sessions.ErrUnavailable (and
//     context.DeadlineExceeded), whatever the driver made of the interrupted statement;
//   - a foreign-key violation: sessions.ErrAgentNotFound (the only foreign key is
//     sessions -> agents); a primary-key or unique violation: sessions.ErrConflict;
//   - SQLITE_BUSY or SQLITE_LOCKED (another process held the lock past busy_timeout), a file
//     that cannot be opened, read or written (CANTOPEN, IOERR, FULL, PROTOCOL, and the
//     passing kinds of READONLY: RECOVERY, CANTLOCK, CANTINIT, while another connection
//     recovers the WAL), and a closed database: sessions.ErrUnavailable;
//   - SQLITE_READONLY otherwise (a file or directory that the process may not write, a
//     read-only mount, a file moved away): ErrReadOnly, which is not ErrUnavailable, since
//     retrying does not help;
//   - anything else is returned as it is, prefixed with "sqlite: ".
//
// Errors that are mapped already pass unchanged.
func mapError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sessions.ErrUnavailable) || errors.Is(err, sessions.ErrConflict) ||
		errors.Is(err, sessions.ErrAgentNotFound) || errors.Is(err, ErrSchemaTooNew) ||
		errors.Is(err, ErrSchemaTooOld) || errors.Is(err, ErrReadOnly) || errors.Is(err, ErrSettings) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		// The context ended: that is the cause, even when the driver reports an interrupt.
		if !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		return sessions.FromContextError(fmt.Errorf("sqlite: %w", err))
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch code := e.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w (sqlite: %v)", sessions.ErrAgentNotFound, err)
		case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w (sqlite: %v)", sessions.ErrConflict, err)
		}
		switch e.Code() {
		case sqlite3.SQLITE_READONLY_RECOVERY, sqlite3.SQLITE_READONLY_CANTLOCK, sqlite3.SQLITE_READONLY_CANTINIT:
			return unavailable(err)
		}
		switch e.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_PROTOCOL:
			return unavailable(err)
		case sqlite3.SQLITE_READONLY:
			return fmt.Errorf("%w (sqlite: %v)", ErrReadOnly, err)
		}
		return fmt.Errorf("sqlite: %w", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return unavailable(err)
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) || err.Error() == "sql: database is closed" {
		return unavailable(err)
	}
	return fmt.Errorf("sqlite: %w", err)
}

// isOwnerConflict reports whether err is the failure by which upsertSQL refuses a session ID of
// another account or agent: its DO UPDATE sets started_at to NULL for that row, and the NOT NULL
// constraint of the column fails. No other write of the package can break a NOT NULL
// constraint: every value it writes is bound from Go strings and integers.
func isOwnerConflict(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_NOTNULL
}

func unavailable(err error) error {
	return fmt.Errorf("%w: sqlite: %w", sessions.ErrUnavailable, err)
}
