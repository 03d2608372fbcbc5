// Package postgres is a [sessions.Store] on PostgreSQL, through github.com/jackc/pgx/v5 and its
// pool, pgxpool. It is the store for production: several application replicas can share one
// database, list queries can go to a read replica (see [WithReadPool]), and every list page is one
// index seek plus the rows it reads.
//
// [Open] connects with a connection string and owns its pool; [New] uses a pool that the
// application already has. Both create or migrate the schema: the tables go in the connection's
// current schema, the first existing schema of its search_path, so one database can hold several
// isolated stores (set search_path in the connection string, as search_path=NAME in a URL's query,
// or in the pool's ConnConfig.RuntimeParams). It needs PostgreSQL 13 or later.
//
// # Schema
//
// The schema lives in SQL files embedded in the package and numbered from 1. Opening a store
// applies the missing ones in one transaction under a transaction-scoped advisory lock, whose key
// is derived from the schema's name: instances that start together on the same schema migrate it
// exactly once, and stores in other schemas do not wait for each other (unless two schema names
// hash to the same key, which only makes one wait for the other). A schema that is newer than this
// package gives [ErrSchemaTooNew]. Each migration records its version in the table
// sessions_schema.
//
// Applications whose schema tool (goose, golang-migrate, atlas, psql) owns the schema apply the
// files of [Migrations], which record their versions themselves, and open the store with
// [WithoutMigrate], which only checks the version ([ErrSchemaTooOld] when it is behind);
// [Migrate] migrates on demand.
//
// Sessions are kept with timestamptz(3) times (UTC, whole milliseconds), a status checked against
// the three values, redactions_by_kind as jsonb with redaction_count beside it, and IDs in
// COLLATE "C", so that they sort bytewise as Go strings do. A composite foreign key
// (account_id, agent_id) references agents (account_id, id): no session can point at an agent
// of another account.
//
// # Lists
//
// A list is a keyset query built in one place (see the file list.go), run as a prepared statement
// (WithCustomPlans plans each call instead). An unfiltered page is an index scan of
// sessions_agent_list (account_id, agent_id, started_at DESC, id DESC) or of
// sessions_account_list (account_id, started_at DESC, id DESC) that starts at the cursor,
// (started_at, id) < (t, id), and stops after the page. With a status or min_redactions filter,
// an index-only scan of the same index (both have INCLUDE (status, redaction_count)) reads at
// most 1,000 entries and the page's rows by primary key; when those entries hold less than a
// page, the page is read by a loose index scan of sessions_agent_groups or
// sessions_account_groups, which key the sessions by status and redaction count: a rare filter
// costs the groups' seeks and what it returns, not the window. A deep page starts with the same
// seek as a first page. An agent's page reads the agent's name once; an account-wide page reads
// the version of the account's agent names once (agent_names_versions, bumped by a trigger in
// the transaction of every rename), and takes the names that the store keeps at that version,
// reading those it does not keep in one more statement.
//
// # Writes and retention
//
// PutSessions writes a batch in one transaction: up to 100 sessions as arrays in one statement,
// more through COPY. It first writes the batch straight into sessions, as if all its sessions
// were new; if one of its IDs is already there, that transaction rolls back and another upserts
// the batch (INSERT ... ON CONFLICT from the arrays, or from a temporary table that COPY fills),
// holding its accounts' advisory locks exclusive, so that concurrent batches never deadlock on
// the summary rollups that both paths keep. The
// upsert rules are enforced in SQL: a session ID owned by another account or agent is not
// updated (and the batch fails with ErrConflict), and a session whose agent is not in its
// account breaks the foreign key (ErrAgentNotFound). PurgeSessions deletes in batches of at
// most 5,000 sessions, each its own short transaction, oldest first.
//
// docs/postgres.md in the repository says how to run the store on a managed server and on read
// replicas, and how to partition the sessions table by month (by the time in the session IDs),
// which the store then uses unchanged and which turns retention into dropping partitions.
//
// # Errors
//
// Driver errors are mapped in one place: a connection that cannot be made or is lost, a server
// that shuts down, or a deadline that passes give an error matching [sessions.ErrUnavailable]; a
// cancelled context gives one matching [context.Canceled]; a unique violation gives
// [sessions.ErrConflict] and a foreign-key violation [sessions.ErrAgentNotFound]. Every operation
// of a store is idempotent, so an operation whose connection was lost while in use is retried
// on another connection, up to once more than the pool has connections (after a failover every
// idle connection is dead); the pool replaces lost connections by itself.
package postgres
