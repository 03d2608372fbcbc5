// Package sqlite is a [sessions.Store] on one SQLite database file, through database/sql and the
// pure-Go driver modernc.org/sqlite (no cgo). It is the embedded default: the example server runs
// on it, and small deployments ship with it.
//
// [Open] creates the file, or opens it, and creates or migrates its schema. The store owns two
// database/sql pools on the file: one writer connection, and a pool of read-only connections.
// [New] uses a handle that the application opened with the same driver, after checking the
// settings below on its connections (see New), and leaves it open.
//
// A file that the process may read but not write (its mode, its directory's, where SQLite
// creates the -wal and -shm files, or a read-only mount) is refused at Open and New with
// [ErrReadOnly], which is not [sessions.ErrUnavailable]: retrying does not help. The store has
// no read-only mode.
//
// # Settings
//
// Every setting is chosen on purpose (see writeParams in store.go):
//   - WAL journal: readers never wait for the writer, nor the writer for readers; a list reads a
//     consistent snapshot.
//   - One writer connection (MaxOpenConns 1) whose transactions all begin IMMEDIATE: writes of
//     the process queue in Go for that connection and never meet each other's locks, so
//     concurrent PutSessions calls never see SQLITE_BUSY; and a write transaction holds the write
//     lock from its start, so it cannot fail halfway for another process's lock.
//   - busy_timeout of 10 s: another process writing to the same file (a second store, the
//     sqlite3 shell) is waited for; past that, the call fails with [sessions.ErrUnavailable].
//   - foreign_keys on: the composite key that ties a session to an agent of its own account.
//   - query_only on the read connections.
//
// # Durability
//
// The writer runs with synchronous=FULL: a commit returns only after the WAL is synced to disk.
// A PutSessions (or PutAgent, or a batch of PurgeSessions) that returned nil survives a crash of
// the process, which a test checks by killing a writing process with SIGKILL, and also a power
// loss or an OS crash, as far as the disk honours fsync. A transaction under way at the crash is
// rolled back whole when the file is next opened: no batch is ever kept in part. (With
// synchronous=NORMAL a power loss could roll back the last acknowledged transactions; this
// package does not use it.)
//
// # Schema
//
// The schema lives in SQL files embedded in the package and numbered from 1 (migrations/). Open
// applies the missing ones in one immediate transaction; each records its version in the table
// sessions_schema. A file whose schema is newer than this package gives [ErrSchemaTooNew] and is
// not changed. (Earlier versions called the table schema_version; Open renames it, when it is
// this package's.)
//
// Applications whose schema tool (goose, golang-migrate, atlas, plain SQL) owns the schema apply
// the files of [Migrations], which record their versions themselves, and open the store with
// [WithoutMigrate], which only checks the version ([ErrSchemaTooOld] when it is behind);
// [Migrate] migrates on demand.
//
// Times are INTEGER Unix milliseconds (UTC), redactions_by_kind is JSON text with its sum,
// redaction_count, stored beside it, and status is checked against the three values. IDs use
// the BINARY collation: they compare bytewise, as Go compares strings. A session's foreign key
// (account_id, agent_id) references agents (account_id, id), so no session can point at an
// agent of another account. The sessions table is WITHOUT ROWID, clustered on its ID.
//
// # Lists
//
// A list is a keyset query built in one place (list.go): WHERE account_id = ? [AND agent_id = ?]
// [AND started_at >= ?] [AND (started_at, id) < (?, ?)] [AND status = ?]
// [AND redaction_count >= ?] ORDER BY started_at DESC, id DESC LIMIT ?, on the index
// sessions_agent_list (account_id, agent_id, started_at DESC, id DESC, status, redaction_count)
// or sessions_account_list (account_id, started_at DESC, id DESC, status, redaction_count). The
// page is one seek to the cursor and a walk along the index that stops after the page; the
// status and redaction_count filters are decided from the index entry, for at most 1,000
// entries, and when those hold less than a page, the page's IDs come from a loose index scan of
// sessions_agent_groups or sessions_account_groups (keyed by status and redaction count), so
// that a rare filter costs what it returns, not the window; its rows are then read by ID. A
// deep page costs what a first page costs. Read statements are prepared once and reused. A test
// reads EXPLAIN QUERY PLAN for every shape of the queries.
//
// # Writes and retention
//
// PutSessions writes a call's sessions with one statement that takes up to 10,000 sessions as a
// JSON parameter, which SQLite runs as its own transaction (a larger call is one transaction of
// such statements). The rules are enforced in SQL: an ID owned by another account or agent
// makes the statement fail, [sessions.ErrConflict]; a session whose agent is not in its account
// breaks the foreign key, [sessions.ErrAgentNotFound]. Either way nothing of the call is
// written. The writer checkpoints the WAL every 10,000 pages (40 MiB) rather than every 1,000, so
// that a run of batches over many agents copies their index pages back once, not after every
// batch. The WAL file can outgrow 40 MiB while a large batch is written, or while long reads
// keep a checkpoint from finishing; the writer truncates it back to 40 MiB when it next starts
// the log over (journal_size_limit). PurgeSessions deletes account by account, in
// batches of at most 2,000 sessions, each its own short transaction.
//
// # Live tail
//
// The store is a [sessions.Tailer]. Every session that PutSessions writes takes the next position
// of a counter in the same statement (migration 0002: the feed table, the column feed_position
// and the index sessions_feed on (account_id, feed_position)). SQLite's single writer commits
// positions in the order it hands them out, so a tail reads an account's feed after its position
// in order, in batches of 256, and never has to look back. Positions are decimal numbers. A
// waiting tail is woken at once by a write through the same store, and reads every second
// anyway, for writes of another process on the same file.
//
// # Errors
//
// Driver errors are mapped in one place (errors.go): a cancelled context gives an error matching
// [context.Canceled]; a deadline, SQLITE_BUSY past busy_timeout, a file that cannot be opened,
// read or written, or a closed store give one matching [sessions.ErrUnavailable].
package sqlite
