package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/masker-dev/sessions"
)

// ErrSchemaTooNew means that the database schema was migrated by a newer version of this package
// than the running one: the store refuses to use it. Test it with errors.Is.
var ErrSchemaTooNew = errors.New("postgres: the database schema is newer than this version of the package")

// ErrSchemaTooOld means that a store opened with [WithoutMigrate] found a schema older than this
// version of the package (or none): its message names the schema, the versions, and how to
// migrate. Test it with errors.Is.
var ErrSchemaTooOld = errors.New("postgres: the database schema is older than this version of the package")

// mapError translates an error of pgx, or of the server, into the errors of package sessions. It is
// the only place where driver errors are interpreted:
//   - ctx ended: context.Canceled as it is, a deadline as sessions.ErrUnavailable (and
//     context.DeadlineExceeded);
//   - unique violation: sessions.ErrConflict; foreign-key violation: sessions.ErrAgentNotFound;
//   - a connection that cannot be made or was lost, a server shutting down or overloaded, a
//     statement timeout, a deadlock or serialization failure: sessions.ErrUnavailable;
//   - anything else is returned as it is, prefixed with "postgres: ".
func mapError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sessions.ErrUnavailable) || errors.Is(err, sessions.ErrConflict) ||
		errors.Is(err, sessions.ErrAgentNotFound) || errors.Is(err, ErrSchemaTooNew) ||
		errors.Is(err, ErrSchemaTooOld) {
		return err // mapped already
	}
	if cerr := ctx.Err(); cerr != nil {
		// The context ended: that is the cause, whatever the driver made of the interrupted I/O.
		if !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		return sessions.FromContextError(fmt.Errorf("postgres: %w", err))
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == "23505": // unique_violation
			return fmt.Errorf("%w (postgres: %s)", sessions.ErrConflict, pgErr.ConstraintName)
		case code == "23503": // foreign_key_violation
			return fmt.Errorf("%w (postgres: %s)", sessions.ErrAgentNotFound, pgErr.ConstraintName)
		case strings.HasPrefix(code, "08"), // connection_exception
			strings.HasPrefix(code, "57P"), // admin_shutdown, crash_shutdown, cannot_connect_now
			code == "53300",                // too_many_connections
			code == "57014",                // query_canceled: statement_timeout
			code == "55P03",                // lock_not_available: lock_timeout
			code == "40001",                // serialization_failure
			code == "40P01",                // deadlock_detected
			code == "25006":                // read_only_sql_transaction: a primary that became a replica
			return unavailable(err)
		}
		return fmt.Errorf("postgres: %w", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return unavailable(err)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || connectionLost(err) {
		return unavailable(err)
	}
	return fmt.Errorf("postgres: %w", err)
}

func unavailable(err error) error {
	return fmt.Errorf("%w: postgres: %w", sessions.ErrUnavailable, err)
}

// connectionLost reports whether err says that a connection that was in use broke: the server
// closed it (terminated backend, shutdown) or the network failed. Such an operation can be retried
// on another connection. A connection that could not be made is not lost: retrying it at once
// would only delay ErrUnavailable.
func connectionLost(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" // admin_shutdown, crash_shutdown
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || pgconn.SafeToRetry(err)
}

// retry runs op, and runs it again while it fails on a lost connection and ctx is live, up to
// attempts times in all; then it maps op's error. Only idempotent operations go through it: every
// operation of a Store is one. When a server restarts or fails over, every idle connection of a
// pool is lost at once, and the pool only finds out by using them (or by pinging those idle for a
// second or more): attempts should be one more than the pool's MaxConns.
func retry(ctx context.Context, attempts int, op func() error) error {
	var err error
	for range max(attempts, 1) {
		err = op()
		if err == nil || ctx.Err() != nil || !connectionLost(err) {
			break
		}
	}
	return mapError(ctx, err)
}

// errClosed is the error of a Tail after Close.
var errClosed = fmt.Errorf("%w: postgres: store is closed", sessions.ErrUnavailable)
