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

// mapError translates an error of database/sql or of the driver into the errors of package
// sessions. It is the only place where driver errors are interpreted:
//   - ctx ended: context.Canceled as it is, a deadline as sessions.ErrUnavailable (and
//     context.DeadlineExceeded), whatever the driver made of the interrupted statement;
//   - a foreign-key violation: sessions.ErrAgentNotFound (the only foreign key is
//     sessions -> agents); a primary-key or unique violation: sessions.ErrConflict;
//   - SQLITE_BUSY or SQLITE_LOCKED (another process held the lock past busy_timeout), a file
//     that cannot be opened, read or written (CANTOPEN, IOERR, FULL, PROTOCOL, READONLY),
//     and a closed database: sessions.ErrUnavailable;
//   - anything else is returned as it is, prefixed with "sqlite: ".
//
// Errors that are mapped already pass unchanged.
func mapError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sessions.ErrUnavailable) || errors.Is(err, sessions.ErrConflict) ||
		errors.Is(err, sessions.ErrAgentNotFound) || errors.Is(err, ErrSchemaTooNew) {
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
		switch e.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_PROTOCOL,
			sqlite3.SQLITE_READONLY:
			return unavailable(err)
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
