package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/masker-dev/sessions"
	sqlite "modernc.org/sqlite"
)

// HandleDSN is what [New] needs in the data source name of a handle: the per-connection
// settings, as _pragma parameters of modernc.org/sqlite, which runs them on every connection
// that the pool opens. Append it to the file name: sql.Open("sqlite", "app.db?"+sqlite.HandleDSN).
// It has no journal_mode: WAL is a property of the file, which New sets itself once it knows that
// the file's schema is one it can use, so that a file it refuses is left as it was.
const HandleDSN = "_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"

// New returns a store on db, a database that the application opened with the driver of
// modernc.org/sqlite (database/sql's "sqlite"), after creating or migrating its schema (unless
// [WithoutMigrate]). Close leaves db open. The store reads and writes through db's pool.
//
// New checks the settings that the store's promises depend on, on every connection that db
// holds and on one that it opens for the check (which shows what db's DSN gives the connections
// that the pool opens later), unless db's MaxOpenConns forbids one more:
//   - journal_mode WAL, a property of the file: when it is not, New sets it (once is enough for
//     every connection, now and later), or refuses with [ErrSettings] when SQLite cannot (an
//     in-memory database);
//   - synchronous FULL or EXTRA (a write that returned survives a power loss), foreign_keys on
//     (a session cannot point at an unknown agent or at another account's agent), and a
//     busy_timeout above zero (writers of other connections are waited for, rather than failing
//     at once): settings of each connection, which New cannot set for connections that the pool
//     opens later, so it refuses a handle that lacks one with [ErrSettings], naming each and the
//     DSN that fixes it ([HandleDSN]).
//
// The writes of the store begin their transactions with a write statement, so the default
// _txlock (deferred) serves. Settings that only speed the store up (cache_size,
// wal_autocheckpoint, journal_size_limit: see the package documentation) are left to db's owner.
//
// It returns [ErrReadOnly] when the process cannot write the database, and the other errors of
// [Open].
func New(ctx context.Context, db *sql.DB, opts ...Option) (*Store, error) {
	if _, ok := db.Driver().(*sqlite.Driver); !ok {
		return nil, fmt.Errorf("%w: New wants a handle of modernc.org/sqlite (sql.Open(\"sqlite\", ...)), got the driver %T", ErrSettings, db.Driver())
	}
	if err := sessions.ContextError(ctx); err != nil {
		return nil, err
	}
	s := &Store{write: db, read: db, purgeBatch: defaultPurgeBatch, putChunk: defaultPutChunk, tailPoll: defaultTailPoll}
	for _, opt := range opts {
		opt(s)
	}
	if err := checkSettings(ctx, db); err != nil {
		return nil, err
	}
	if err := prepare(ctx, db, !s.noMigrate); err != nil {
		return nil, err
	}
	if err := setWAL(ctx, db); err != nil { // once the schema is known to be ours
		return nil, err
	}
	return s, nil
}

// checkSettings checks the settings of New on every connection of db, and a new one.
func checkSettings(ctx context.Context, db *sql.DB) error {
	stats := db.Stats()
	n := stats.OpenConnections + 1
	if stats.MaxOpenConnections > 0 {
		n = min(n, stats.MaxOpenConnections)
	}
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Hold them all at once, so that each is another connection.
	for range n {
		c, err := db.Conn(ctx)
		if err != nil {
			return mapError(ctx, err)
		}
		conns = append(conns, c)
	}
	var problems []string
	for i, c := range conns {
		p, err := connSettings(ctx, c)
		if err != nil {
			return err
		}
		for _, p := range p {
			p = fmt.Sprintf("connection %d of %d: %s", i+1, n, p)
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s; open the handle with these settings in its DSN, so that every connection of the pool runs them: sql.Open(\"sqlite\", FILE+\"?\"+sqlite.HandleDSN)",
			ErrSettings, strings.Join(problems, "; "))
	}
	return nil
}

// connSettings returns what is wrong with the settings of c. It changes nothing: a file in
// another journal mode than WAL is switched to it after the version check (setWAL), and one
// whose mode cannot be WAL (memory, or off) is refused here.
func connSettings(ctx context.Context, c *sql.Conn) ([]string, error) {
	var mode string
	if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, mapError(ctx, err)
	}
	var problems []string
	if strings.EqualFold(mode, "memory") || strings.EqualFold(mode, "off") {
		problems = append(problems, fmt.Sprintf("journal_mode is %s and cannot be set to WAL (an in-memory database?); the store needs a database file", mode))
	}
	var sync, fk, busy int
	err := c.QueryRowContext(ctx, "SELECT synchronous, foreign_keys, timeout FROM pragma_synchronous, pragma_foreign_keys, pragma_busy_timeout").
		Scan(&sync, &fk, &busy)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	if sync < 2 {
		problems = append(problems, fmt.Sprintf("synchronous is %d, want FULL (2) or EXTRA (3), so that a write that returned survives a power loss", sync))
	}
	if fk != 1 {
		problems = append(problems, "foreign_keys is off, want on: the foreign key keeps sessions to the agents of their account")
	}
	if busy <= 0 {
		problems = append(problems, "busy_timeout is 0, want a wait in milliseconds such as 10000, so that a write waits for the lock of another connection rather than failing")
	}
	return problems, nil
}
