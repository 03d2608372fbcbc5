package postgres

import "context"

// namesSQL reads the current names of agents of an account ($2, an array of IDs), with the
// account's version of names (agent_names_versions, migration 0007) from the same snapshot.
const namesSQL = `SELECT id, name, (SELECT version FROM agent_names_versions WHERE account_id = $1)
FROM agents WHERE account_id = $1 AND id = ANY($2)`

// agentNames sets names[id], for each of ids, agents of account, to the agent's current name,
// and returns the version of the account's names that it read (0 for NULL, or when it found no
// agent). It reads on the read pool, without retry.
func (s *Store) agentNames(ctx context.Context, account string, ids []string, names map[string]string) (int64, error) {
	rows, err := s.read.Query(ctx, namesSQL, s.listMode, account, ids)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var version *int64 // NULL: version 0
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name, &version); err != nil {
			return 0, err
		}
		names[id] = name
	}
	return valueOrZero(version), rows.Err()
}

// valueOrZero returns *v, or 0 for nil (SQL NULL).
func valueOrZero(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}
