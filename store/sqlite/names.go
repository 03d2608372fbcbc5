package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// namesSQL reads the current names of agents of an account (?2, a JSON array of IDs: one
// statement whatever their number, values never in the SQL), with the account's version of
// names, in one statement, so from one snapshot.
const namesSQL = `SELECT id, name, ` + namesVersion + `
FROM agents WHERE account_id = ?1 AND id IN (SELECT value FROM json_each(?2))`

// agentNames sets names[id], for each of ids, agents of account, to the agent's current name,
// and returns the version of the account's names that it read (0 for NULL, or when it found no
// agent).
func (s *Store) agentNames(ctx context.Context, account string, ids []string, names map[string]string) (int64, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, fmt.Errorf("sqlite: agent IDs: %w", err)
	}
	stmt, err := s.prepared(ctx, namesSQL)
	if err != nil {
		return 0, mapError(ctx, err)
	}
	rows, err := stmt.QueryContext(ctx, account, string(list))
	if err != nil {
		return 0, mapError(ctx, err)
	}
	defer rows.Close()
	var version sql.NullInt64 // NULL: version 0
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name, &version); err != nil {
			return 0, mapError(ctx, err)
		}
		names[id] = name
	}
	return version.Int64, mapError(ctx, rows.Err())
}
