package postgres

import (
	"context"
	"time"

	"github.com/masker-dev/sessions"
)

// defaultPurgeBatch is the most sessions that one transaction of PurgeSessions deletes.
const defaultPurgeBatch = 5000

// purgeBatchSQL deletes at most $2 sessions that started before $1, and deletes them by their
// physical address (a TID scan). It finds them account by account (the accounts of the agents),
// oldest first: each account's are read backwards from the end of its range of
// sessions_account_list, so that purging needs no index of its own, and a batch reads no more
// index entries than it deletes.
//
// A physical address is unique within one table only: on a sessions table partitioned by an
// operator (docs/postgres.md), every partition would delete its rows at the addresses found in
// any partition. There, purgePartitionedSQL deletes the same sessions by ID.
//
// Both check the cutoff again on the rows they delete: a session that a concurrent PutSessions
// moves past the cutoff (a late correction of its start) while the DELETE waits for its lock is
// checked again in its new version, which the ID or the address alone would still match.
var purgeBatchSQL = `DELETE FROM sessions WHERE ctid = ANY (ARRAY(` + purgeSelect("ctid") + `)) AND started_at < $1`

// purgePartitionedSQL is purgeBatchSQL for a partitioned sessions table: it deletes by primary
// key, which also prunes each ID to its partition.
var purgePartitionedSQL = `DELETE FROM sessions WHERE id = ANY (ARRAY(` + purgeSelect("id") + `)) AND started_at < $1`

// purgeSelect returns the query of the column col of the sessions that a purge batch deletes.
func purgeSelect(col string) string {
	return `
	SELECT old.` + col + `
	FROM (SELECT DISTINCT account_id FROM agents) AS account
	CROSS JOIN LATERAL (
		SELECT ` + col + ` FROM sessions
		WHERE account_id = account.account_id AND started_at < $1
		ORDER BY started_at, id
		LIMIT $2
	) AS old
	LIMIT $2
`
}

// partitionedSQL tells whether the sessions table of the current schema is partitioned.
const partitionedSQL = `SELECT relkind = 'p' FROM pg_catalog.pg_class WHERE oid = 'sessions'::regclass`

// PurgeSessions deletes the sessions of every account that started before the given time, in
// batches of at most 5,000 sessions, each in its own short transaction, so that it never holds
// locks for long nor bloats one transaction. It returns how many it deleted; when it returns an
// error, the batches already deleted stay deleted. It returns the context and connection errors
// of the package, between batches too.
func (s *Store) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	cutoff, ok := sessions.PurgeCutoff(before)
	if !ok {
		return 0, sessions.ContextError(ctx)
	}
	// An operator may partition the table while the store runs: ask at every purge.
	var partitioned bool
	err := s.retry(ctx, s.pool, func() error {
		return s.pool.QueryRow(ctx, partitionedSQL).Scan(&partitioned)
	})
	if err != nil {
		return 0, err
	}
	query := purgeBatchSQL
	if partitioned {
		query = purgePartitionedSQL
	}
	var deleted int64
	for {
		if err := sessions.ContextError(ctx); err != nil {
			return deleted, err
		}
		var n int64
		err := s.retry(ctx, s.pool, func() error {
			tag, err := s.pool.Exec(ctx, query, s.purgeMode, cutoff, s.purgeBatch)
			n = tag.RowsAffected()
			return err
		})
		deleted += n
		if n > 0 {
			s.reads.Changed() // a shared read of the tails from before it is stale
		}
		if err != nil {
			return deleted, err
		}
		if n == 0 {
			return deleted, nil
		}
	}
}
