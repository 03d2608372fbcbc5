package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// copyThreshold is the size from which a PutSessions batch goes through COPY (into sessions for
// new sessions, into the temporary table for an upsert); smaller batches are sent as arrays in
// one statement.
const copyThreshold = 100

// sessionColumns are the columns that PutSessions writes, in the order of row.
var sessionColumns = []string{"id", "account_id", "agent_id", "started_at", "ended_at", "status",
	"redactions_by_kind", "redaction_count", "upstream_model"}

// The two sources of a batch: the arrays of a small batch, or the temporary table of a large one.
//
// The temporary table is made once per connection and emptied at every commit (ON COMMIT DELETE
// ROWS; an aborted transaction leaves it empty too), rather than made and dropped by every batch
// (ON COMMIT DROP), which would add two catalog changes to each batch and bloat the catalog. Its
// name carries a version, so that connections of an older version of this package, with another
// table, do not mix them up. Behind a pooler in transaction mode, it is made again on each server
// connection that lacks it.
const (
	arraySource = `unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
		$6::text[], $7::jsonb[], $8::bigint[], $9::text[])
		AS batch (id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, redaction_count, upstream_model)`
	batchTable  = "sessions_batch_v1"
	tableSource = batchTable + ` AS batch`

	createBatchTable = `CREATE TEMPORARY TABLE IF NOT EXISTS ` + batchTable + ` (
		id text COLLATE "C", account_id text COLLATE "C", agent_id text COLLATE "C",
		started_at timestamptz, ended_at timestamptz, status text, redactions_by_kind jsonb,
		redaction_count bigint, upstream_model text
	) ON COMMIT DELETE ROWS`
)

// upsertSQL writes the batch of source. Its command tag counts the sessions it wrote, inserted or
// updated. A session whose ID belongs to another account or agent is not written (the WHERE of DO
// UPDATE), which the caller sees in the count; a session whose agent is not in its account breaks
// the foreign key. A replaced session moves to its new feed position, which the column defaults
// gave the proposed row (migration 0002). Rows go in ID order, so that concurrent batches lock
// shared IDs in the same order.
func upsertSQL(source string) string {
	return `INSERT INTO sessions AS s (id, account_id, agent_id, started_at, ended_at, status,
	redactions_by_kind, redaction_count, upstream_model)
SELECT id, account_id, agent_id, started_at, ended_at, status,
	redactions_by_kind, redaction_count, upstream_model
FROM ` + source + `
ORDER BY id
ON CONFLICT (id) DO UPDATE SET
	started_at = excluded.started_at,
	ended_at = excluded.ended_at,
	status = excluded.status,
	redactions_by_kind = excluded.redactions_by_kind,
	redaction_count = excluded.redaction_count,
	upstream_model = excluded.upstream_model,
	feed_xid = excluded.feed_xid,
	feed_seq = excluded.feed_seq
WHERE s.account_id = excluded.account_id AND s.agent_id = excluded.agent_id`
}

var (
	upsertFromArrays = upsertSQL(arraySource)
	upsertFromTable  = upsertSQL(tableSource)
)

// insertFromArrays writes the batch of arraySource, new sessions only: an ID that is already
// stored breaks the primary key. Rows go in ID order, as upsertSQL's.
const insertFromArrays = `INSERT INTO sessions (id, account_id, agent_id, started_at, ended_at, status,
	redactions_by_kind, redaction_count, upstream_model)
SELECT id, account_id, agent_id, started_at, ended_at, status,
	redactions_by_kind, redaction_count, upstream_model
FROM ` + arraySource + `
ORDER BY id`

// lockAccountsSQL returns the statement that takes the advisory lock of each account of $1
// (accountKeySQL) until the end of the transaction, shared or exclusive, in the order of the
// keys, so that two writers never wait for each other's account locks in a cycle. PutSessions
// runs it first, before its transaction writes anything and so before it has an ID: a tail of
// an account that sees no holder of the account's lock knows that every writer to come gets an
// ID above what it has seen (watermarkSQL).
//
// A batch of new sessions takes the locks shared, and writers of new sessions of one account do
// not take turns. A batch that replaces stored sessions takes them exclusive: its statement fires
// both summary triggers (INSERT for its new sessions, then UPDATE for the replaced ones), two
// passes over rollup rows, each in key order but not in one order together, and two such
// writers, or one and a writer of new sessions, would lock shared rows in opposite orders. With
// its accounts' locks exclusive, no other PutSessions writes those accounts meanwhile.
func lockAccountsSQL(mode string) string {
	return `SELECT pg_advisory_xact_lock` + mode + `(k)
FROM (SELECT DISTINCT ` + accountKeySQL("a.account") + ` AS k FROM unnest($1::text[]) AS a (account) ORDER BY k OFFSET 0) AS l`
}

var (
	lockAccountsShared    = lockAccountsSQL("_shared")
	lockAccountsExclusive = lockAccountsSQL("")
)

// errStoredIDs reports that a batch written as new sessions holds an ID that is already stored:
// PutSessions writes it again as an upsert.
var errStoredIDs = errors.New("postgres: the batch replaces stored sessions")

// PutSessions writes every session in one transaction, or none of them. A batch of more than 100
// sessions goes through COPY, in a few round trips whatever its size; a smaller one is sent as
// arrays in one statement. It first writes the batch as new sessions, which is what a batch
// usually is: straight into sessions, which skips the temporary table, the INSERT ... SELECT and
// the speculative insertion of ON CONFLICT (about a tenth of the server's work on a batch of new
// sessions; most of the rest is the indexes and the foreign key, checked row by row on either
// path). When an ID is already stored (a correction, a batch sent again, an ID of another account
// or agent), that transaction rolls back and a second one upserts the batch (see
// lockAccountsSQL for its locks): that case sends the batch twice, and is the rare one. The rows
// go in ID order on both paths, so that concurrent batches that share IDs wait for each other in
// the same order rather than deadlock.
//
// It returns a *sessions.ValidationError naming the first invalid session,
// sessions.ErrAgentNotFound when a session's agent is not in the session's account,
// sessions.ErrConflict when a session ID belongs to another account or agent, and the context and
// connection errors of the package.
func (s *Store) PutSessions(ctx context.Context, in ...sessions.Session) error {
	ss, err := sessions.PrepareBatch(in)
	if err != nil || len(ss) == 0 {
		return err
	}
	b := newBatch(ss)
	// Deadlocks are left to writes that do not go through PutSessions (a purge's single pass can
	// still meet an upsert's two, and an operator's own SQL), and to advisory locks' hash
	// collisions: the server aborts one of the transactions, which wrote nothing, and it runs
	// again, a few times at most.
	for attempt := 1; ; attempt++ {
		err := s.writeBatch(ctx, b, false)
		if errors.Is(err, errStoredIDs) {
			err = s.writeBatch(ctx, b, true)
		}
		var pgErr *pgconn.PgError
		if attempt == maxDeadlockAttempts || !errors.As(err, &pgErr) || pgErr.Code != "40P01" {
			return err
		}
		// A random pause, growing with the attempts, so that the two batches do not meet again.
		pause := time.Duration(attempt) * (5*time.Millisecond + rand.N(20*time.Millisecond))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return sessions.ContextError(ctx)
		}
	}
}

// writeBatch writes b in one transaction: as new sessions under its accounts' shared locks, or,
// with upsert, as an upsert under their exclusive locks (lockAccountsSQL). Written as new, it
// returns errStoredIDs, having written nothing, when an ID of b is already stored.
func (s *Store) writeBatch(ctx context.Context, b batch, upsert bool) error {
	return s.retry(ctx, s.pool, func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if !s.withoutFeedLocks {
				lock := lockAccountsShared
				if upsert {
					lock = lockAccountsExclusive
				}
				if _, err := tx.Exec(ctx, lock, b.accountIDs()); err != nil {
					return err
				}
			}
			var err error
			switch {
			case upsert:
				err = upsertSessions(ctx, tx, b)
			case b.len() > copyThreshold:
				_, err = tx.CopyFrom(ctx, pgx.Identifier{"sessions"}, sessionColumns, pgx.CopyFromSlice(b.len(), b.row))
			default:
				_, err = tx.Exec(ctx, insertFromArrays, b.arrays()...)
			}
			var pgErr *pgconn.PgError
			if !upsert && errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
				return errStoredIDs
			}
			return err
		})
	})
}

// maxDeadlockAttempts is how many times PutSessions runs a batch that the server aborts as a
// deadlock: 8 attempts, with pauses of up to 0.7 s in all, outlast the contention of the tests'
// concurrent writers with commits slowed by pg_sleep.
const maxDeadlockAttempts = 8

// upsertSessions writes b in tx, new sessions and new versions of stored ones, and returns
// ErrConflict when an ID of b belongs to another account or agent. A small batch is sent as
// arrays in one statement; a large one is copied into the temporary table first (COPY, a few
// round trips whatever its size).
func upsertSessions(ctx context.Context, tx pgx.Tx, b batch) error {
	if b.len() <= copyThreshold {
		tag, err := tx.Exec(ctx, upsertFromArrays, b.arrays()...)
		if err != nil {
			return err
		}
		return checkWritten(tag, b)
	}
	if _, err := tx.Exec(ctx, createBatchTable); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{batchTable}, sessionColumns, pgx.CopyFromSlice(b.len(), b.row)); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, upsertFromTable)
	if err != nil {
		return err
	}
	return checkWritten(tag, b)
}

// checkWritten returns ErrConflict unless the upsert of tag wrote every session of b: those it did
// not write belong to another account or agent. The caller's transaction then rolls back, and
// nothing is written.
func checkWritten(tag pgconn.CommandTag, b batch) error {
	if written := int(tag.RowsAffected()); written != b.len() {
		return fmt.Errorf("%w: %d of %d sessions belong to another account or agent",
			sessions.ErrConflict, b.len()-written, b.len())
	}
	return nil
}

// batch holds the sessions of one PutSessions call column by column, in sessionColumns order.
type batch struct {
	ids, accounts, agents []string
	started, ended        []time.Time
	statuses              []string
	kinds                 []json.RawMessage
	counts                []int64
	models                []string
}

// newBatch sorts ss by ID (bytewise, as COLLATE "C" sorts): the SQL sorts the rows again, for a
// guaranteed order, and a sorted input makes that sort cheap.
func newBatch(ss []sessions.Session) batch {
	slices.SortFunc(ss, func(a, b sessions.Session) int { return strings.Compare(a.ID, b.ID) })
	n := len(ss)
	b := batch{
		ids: make([]string, n), accounts: make([]string, n), agents: make([]string, n),
		started: make([]time.Time, n), ended: make([]time.Time, n), statuses: make([]string, n),
		kinds: make([]json.RawMessage, n), counts: make([]int64, n), models: make([]string, n),
	}
	buf := make([]byte, 0, 40*n) // the JSON of every session's kinds, one after the other
	for i, s := range ss {
		start := len(buf)
		buf = kindsjson.Append(buf, s.RedactionsByKind)
		kinds := json.RawMessage(buf[start:len(buf):len(buf)])
		b.ids[i], b.accounts[i], b.agents[i] = s.ID, s.AccountID, s.AgentID
		b.started[i], b.ended[i], b.statuses[i] = s.StartedAt, s.EndedAt, string(s.Status)
		b.kinds[i], b.counts[i], b.models[i] = kinds, int64(s.RedactionCount()), s.UpstreamModel
	}
	return b
}

func (b batch) len() int { return len(b.ids) }

// accountIDs returns the distinct accounts of b, sorted.
func (b batch) accountIDs() []string {
	ids := slices.Clone(b.accounts)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// row returns the i-th session, for COPY.
func (b batch) row(i int) ([]any, error) {
	return []any{b.ids[i], b.accounts[i], b.agents[i], b.started[i], b.ended[i], b.statuses[i],
		b.kinds[i], b.counts[i], b.models[i]}, nil
}

// arrays returns the columns, the arguments of arraySource.
func (b batch) arrays() []any {
	return []any{b.ids, b.accounts, b.agents, b.started, b.ended, b.statuses, b.kinds, b.counts, b.models}
}
