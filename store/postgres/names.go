package postgres

import (
	"context"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/agentnames"
)

// namesSQL reads the current names of agents of an account ($2, an array of IDs), with the
// account's version of names from the same snapshot.
const namesSQL = `SELECT id, name, (SELECT version FROM agent_names_versions WHERE account_id = $1)
FROM agents WHERE account_id = $1 AND id = ANY($2)`

// nameAgents sets the AgentName of each of ss, the sessions of an account-wide page of account
// read at version (of agent_names_versions, migration 0007), from the names that the store keeps
// (agentnames), or else from the database (one statement for the page's distinct agents), whose
// names it then keeps. It runs on the read pool, as the page.
func (s *Store) nameAgents(ctx context.Context, account string, version int64, ss []sessions.Session) error {
	if len(ss) == 0 || s.names.Fill(account, version, ss) {
		return nil
	}
	ids := agentnames.Distinct(ss)
	rows, err := s.read.Query(ctx, namesSQL, s.listMode, account, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	byAgent := make(map[string]string, len(ids))
	var current *int64 // NULL: version 0
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name, &current); err != nil {
			return err
		}
		byAgent[id] = name
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range ss {
		ss[i].AgentName = byAgent[ss[i].AgentID]
	}
	if len(byAgent) > 0 { // else no row told the version
		s.names.Keep(account, valueOrZero(current), byAgent)
	}
	return nil
}

// valueOrZero returns *v, or 0 for nil (SQL NULL).
func valueOrZero(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}
