package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/masker-dev/sessions"
)

// purgeBatchSQL deletes up to ? of an account's sessions that started before ?. The inner
// query is a range seek at the old end of the account's part of sessions_account_list, so a
// batch reads only the rows it deletes.
const purgeBatchSQL = `DELETE FROM sessions WHERE id IN (
	SELECT id FROM sessions INDEXED BY sessions_account_list
	WHERE account_id = ? AND started_at < ? LIMIT ?)`

// PurgeSessions deletes the sessions of every account that started before the given time, and
// returns how many it deleted. It works account by account, in batches of at most a few
// thousand sessions, each its own short transaction on the writer connection, so that writers
// wait at most one batch and readers never wait. When it returns an error, the batches already
// deleted stay deleted. It returns the context and database errors of the package.
func (s *Store) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return 0, err
	}
	cutoff, ok := sessions.PurgeCutoff(before)
	if !ok {
		return 0, nil
	}
	// Every session's account has an agent (the foreign key), so the accounts of agents are
	// all the accounts to visit; the unique index (account_id, id) of agents lists them.
	var accounts []string
	rows, err := s.read.QueryContext(ctx, "SELECT DISTINCT account_id FROM agents ORDER BY account_id")
	if err != nil {
		return 0, mapError(ctx, err)
	}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return 0, mapError(ctx, err)
		}
		accounts = append(accounts, a)
	}
	if err := rows.Err(); err != nil {
		return 0, mapError(ctx, err)
	}
	var deleted int64
	for _, account := range accounts {
		for {
			if err := sessions.ContextError(ctx); err != nil {
				return deleted, err
			}
			// One statement outside a transaction is its own transaction.
			s.writeMu.Lock()
			res, err := s.purgeOne(ctx, account, cutoff)
			s.writeMu.Unlock()
			if err != nil {
				return deleted, mapError(ctx, err)
			}
			s.reads.Changed() // a shared read of the tails from before it is stale
			n, err := res.RowsAffected()
			if err != nil {
				return deleted, mapError(ctx, err)
			}
			deleted += n
			if n < int64(s.purgeBatch) {
				break
			}
		}
	}
	return deleted, nil
}

// purgeOne deletes one batch of the sessions of account that started before cutoff, with the
// prepared statement of purgeBatchSQL.
func (s *Store) purgeOne(ctx context.Context, account string, cutoff time.Time) (sql.Result, error) {
	stmt, err := s.preparedWrite(ctx, purgeBatchSQL)
	if err != nil {
		return nil, err
	}
	return stmt.ExecContext(ctx, account, cutoff.UnixMilli(), s.purgeBatch)
}
