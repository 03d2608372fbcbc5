package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/agentnames"
)

// namesSQL reads the current names of agents of an account (?2, a JSON array of IDs), with the
// account's version of names, in one statement, so from one snapshot.
const namesSQL = `SELECT id, name, ` + namesVersion + `
FROM agents WHERE account_id = ?1 AND id IN (SELECT value FROM json_each(?2))`

// nameAgents sets the AgentName of each of ss, the sessions of a page of account read at version
// (of agent_names_versions, migration 0007), from the names that the store keeps (agentnames),
// or else from the database (one statement for the page's distinct agents), whose names it then
// keeps.
func (s *Store) nameAgents(ctx context.Context, account string, version int64, ss []sessions.Session) error {
	if len(ss) == 0 || s.names.Fill(account, version, ss) {
		return nil
	}
	ids, err := json.Marshal(agentnames.Distinct(ss))
	if err != nil {
		return fmt.Errorf("sqlite: agent IDs: %w", err)
	}
	stmt, err := s.prepared(ctx, namesSQL)
	if err != nil {
		return mapError(ctx, err)
	}
	rows, err := stmt.QueryContext(ctx, account, string(ids))
	if err != nil {
		return mapError(ctx, err)
	}
	defer rows.Close()
	byAgent := map[string]string{}
	var current sql.NullInt64 // NULL: version 0
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name, &current); err != nil {
			return mapError(ctx, err)
		}
		byAgent[id] = name
	}
	if err := rows.Err(); err != nil {
		return mapError(ctx, err)
	}
	for i := range ss {
		ss[i].AgentName = byAgent[ss[i].AgentID]
	}
	if len(byAgent) > 0 { // else no row told the version
		s.names.Keep(account, current.Int64, byAgent)
	}
	return nil
}
