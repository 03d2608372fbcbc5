package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/agentnames"
	"github.com/masker-dev/sessions/internal/sharedread"
	"github.com/masker-dev/sessions/internal/wakeup"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// Store is a [sessions.Store], [sessions.Purger], [sessions.Tailer], [sessions.Summarizer] and
// [sessions.Scanner] on one SQLite database file. It is safe for concurrent use by multiple
// goroutines.
type Store struct {
	write *sql.DB // one connection: every write, in an immediate transaction
	// writeMu serializes the writes of this store. A store of Open needs it not (its writer is
	// one connection), but one of New writes through the caller's pool of several connections,
	// where a write statement that began to read before another write committed fails with
	// SQLITE_BUSY at once, without waiting for busy_timeout.
	writeMu sync.Mutex
	read    *sql.DB // a pool of read-only connections for GetAgent and ListSessions

	purgeBatch int  // the most sessions one PurgeSessions transaction deletes
	putChunk   int  // the most sessions of one PutSessions statement
	noMigrate  bool // WithoutMigrate
	owned      bool // Close closes write and read (Open opened them)

	feed     wakeup.Signal                        // woken by every PutSessions of this store that wrote
	tailPoll time.Duration                        // how often a waiting tail reads anyway, for writes of other processes
	reads    sharedread.Reads[readKey, []tailRow] // the tails' reads of the feed, shared by the tails of an account

	stmts      stmtCache // the read queries' prepared statements
	writeStmts stmtCache // the writes' prepared statements

	names agentnames.Kept // the agent names that pages have met, by version (names.go)
}

var (
	_ sessions.Store           = (*Store)(nil)
	_ sessions.Purger          = (*Store)(nil)
	_ sessions.Tailer          = (*Store)(nil)
	_ sessions.PositionChecker = (*Store)(nil)
)

// busyTimeoutMillis is how long a connection waits for a lock held by another connection (of
// another process: within a store, writes queue on the single writer connection of
// database/sql and never meet each other's locks) before SQLITE_BUSY. It is longer than any
// write transaction of this package, which are short.
const busyTimeoutMillis = 10_000

// writeParams are the settings of the writer connection, chosen on purpose:
//
//   - busy_timeout first (the driver runs it first, whatever its place): the version check and
//     the journal mode may have to wait for another process.
//   - WAL, set by setWAL once the version check has passed (so that a file the store refuses
//     is left as it was): readers never block the writer nor the writer the readers, and a
//     commit appends to the log instead of rewriting pages. The mode is stored in the file.
//   - synchronous(FULL): every commit syncs the WAL to disk before it returns, so a
//     PutSessions that returned nil survives a crash of the process AND a power loss or an OS
//     crash (on a disk that honours fsync). It costs one fsync per transaction, which a batch
//     of sessions shares. (With NORMAL, the WAL is synced only at checkpoints: a process crash
//     still loses nothing, since committed frames are in the OS's page cache, but a power loss
//     could roll back the transactions committed since the last checkpoint; the file would
//     stay consistent. On the ingest benchmark of 1,000 sessions over 1,000 agents, NORMAL
//     was within the noise of FULL, at most about 5% faster, so the store keeps the stronger
//     promise.)
//   - cache_size(-65536): up to 64 MiB of pages cached by the writer (the default is 2 MiB).
//     Inserts land in three B-trees (the rows by ID and the two list indexes); when start times
//     or IDs arrive out of order, as in an import, the pages they touch are spread over the
//     indexes, and a small cache reads them again and again.
//   - wal_autocheckpoint(10000): the writer copies the WAL back into the database file once it
//     holds 10,000 pages (40 MiB) instead of the default 1,000. A batch of sessions over many
//     agents changes one page of the agent-list index per agent, so 1,000 sessions over 1,000
//     agents write about 1,000 pages: with the default, nearly every commit was followed by a
//     checkpoint that wrote the same hot pages again. With 10,000, one checkpoint serves about
//     ten such commits, and a page changed by all of them is copied once. The cost is a
//     longer recovery (reading the WAL) when the file is opened after a crash, and a larger
//     WAL file; see journal_size_limit.
//   - journal_size_limit(41943040): the WAL file holds about 40 MiB between checkpoints, but it
//     grows past that while one transaction writes more (a batch of 10,000 sessions into a
//     large store: 56 MB measured after seeding 1M sessions), or while readers keep a
//     checkpoint from reaching the end of the log (95 MB measured after 60 s of concurrent
//     writers and readers). SQLite never shrinks a WAL file by itself; with this limit the
//     writer truncates it back to 40 MiB when it starts the log over after a checkpoint
//     that completed.
//   - foreign_keys(1): the composite foreign key (account_id, agent_id) -> agents is what
//     keeps a session from pointing at an unknown agent, or at another account's agent.
//   - _txlock=immediate: BEGIN IMMEDIATE takes the write lock at the start of the transaction,
//     so a transaction that reads and then writes can never fail with SQLITE_BUSY halfway
//     (a deferred transaction that upgrades its read lock can, and busy_timeout does not
//     help it).
//
// The store also keeps a single writer connection (MaxOpenConns(1)): concurrent writes of the
// process wait for it in database/sql, in Go, and never see SQLITE_BUSY.
var writeParams = url.Values{
	"_pragma": {
		fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis),
		"synchronous(FULL)",
		"cache_size(-65536)",
		"wal_autocheckpoint(10000)",
		fmt.Sprintf("journal_size_limit(%d)", walSizeLimit),
		"foreign_keys(1)",
	},
	"_txlock": {"immediate"},
}

// setWAL switches the file of db to WAL, where it is not already, and checks that it is: the
// mode of every connection of the file, from then on. It returns ErrSettings for a database that
// cannot be (in memory), and ErrReadOnly for a file that the process cannot write.
func setWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return mapError(ctx, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("%w: journal_mode is %s and cannot be set to WAL (an in-memory database?); the store needs a database file", ErrSettings, mode)
	}
	return nil
}

// walSizeLimit is the size, in bytes, to which the writer truncates the WAL file when it starts
// the log over: 10,000 pages of 4 KiB, the wal_autocheckpoint threshold.
const walSizeLimit = 40 << 20

// readParams are the settings of the read connections: the same busy_timeout, and
// query_only(1), so that a write sent to the read pool by mistake fails instead of taking the
// write lock beside the writer connection. The WAL mode is a property of the file, set by the
// writer before the read pool opens.
var readParams = url.Values{
	"_pragma": {
		fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis),
		"query_only(1)",
	},
}

// defaultPurgeBatch is the most sessions that one PurgeSessions transaction deletes: a few
// milliseconds of the writer connection.
const defaultPurgeBatch = 2000

// defaultReadConns is the least size of the read pool.
const defaultReadConns = 8

// errPath is returned by Open for a path that it cannot use.
var errPath = errors.New("sqlite: want the path of a database file")

// Option configures a store made by [Open] or [New].
type Option func(*Store)

// WithoutMigrate makes [Open] and [New] leave the schema to the application (its schema tool
// applies the files of [Migrations], or it calls [Migrate]): they only read the schema's
// version, and refuse a schema that is behind with [ErrSchemaTooOld], and one that is ahead with
// [ErrSchemaTooNew]. With it, Open does not create a file that does not exist
// ([ErrSchemaTooOld]).
func WithoutMigrate() Option {
	return func(s *Store) { s.noMigrate = true }
}

// Open opens the SQLite database file at path, creating it when it does not exist, creates or
// migrates its schema (unless [WithoutMigrate]), and returns a store that owns the database:
// Close closes it. The directory of path must exist. A path must name a file: ":memory:", an
// empty path, and a path with '?' are refused, since the store opens several connections to
// the same file.
//
// It returns [ErrSchemaTooNew], leaving the file unchanged, when the schema was made by a newer
// version of this package; with WithoutMigrate, [ErrSchemaTooOld] when the schema is behind;
// [ErrReadOnly] when the process may read the file but not write it or its directory (the
// store writes; it has no read-only mode); an error matching [context.Canceled] when ctx is
// cancelled, and one matching [sessions.ErrUnavailable] when ctx's deadline passes or the file
// cannot be opened or locked.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("%w, got %q", errPath, path)
	}
	if err := sessions.ContextError(ctx); err != nil {
		return nil, err
	}
	s := &Store{purgeBatch: defaultPurgeBatch, putChunk: defaultPutChunk, tailPoll: defaultTailPoll}
	for _, opt := range opts {
		opt(s)
	}
	if s.noMigrate {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist, and WithoutMigrate creates no file", ErrSchemaTooOld, path)
		}
	}
	write, err := sql.Open("sqlite", path+"?"+writeParams.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	err = prepare(ctx, write, !s.noMigrate)
	if err == nil {
		err = setWAL(ctx, write) // once the schema is known to be ours: a refused file is left as it was
	}
	if err != nil {
		write.Close()
		if errors.Is(err, ErrReadOnly) {
			err = fmt.Errorf("%w; give the process write access to %s and to its directory, where SQLite creates %[2]s-wal and %[2]s-shm", err, path)
		}
		return nil, err
	}
	read, err := sql.Open("sqlite", path+"?"+readParams.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// Readers of a WAL database run in parallel. Eight connections at least: twice
	// httpapi.DefaultMaxAccountCalls, so that one account's slow requests hold at most half.
	n := max(defaultReadConns, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, mapError(ctx, err)
	}
	s.write, s.read, s.owned = write, read, true
	return s, nil
}

// Close closes the database that Open opened; the last connection to close checkpoints the WAL
// into the database file. It leaves open the handle given to [New]. The store must not be used
// afterwards; methods called after Close return an error matching [sessions.ErrUnavailable]
// (when Open opened the database).
func (s *Store) Close() error {
	err := errors.Join(s.stmts.close(), s.writeStmts.close())
	if !s.owned {
		return err
	}
	return errors.Join(err, s.read.Close(), s.write.Close())
}
