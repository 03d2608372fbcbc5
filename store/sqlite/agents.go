package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/masker-dev/sessions"
)

// PutAgent creates the agent, or replaces the name of an agent of the same account. It returns
// a *sessions.ValidationError for an invalid agent, sessions.ErrConflict when the ID belongs to
// an agent of another account, and the context and database errors of the package.
func (s *Store) PutAgent(ctx context.Context, a sessions.Agent) error {
	if err := a.Validate(); err != nil {
		return err
	}
	// The update applies only within the account: an ID of another account changes no row.
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.write.ExecContext(ctx, `INSERT INTO agents (id, account_id, name) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE agents.account_id = excluded.account_id`,
		a.ID, a.AccountID, a.Name)
	if err != nil {
		return mapError(ctx, err)
	}
	s.reads.Changed() // a shared read of the tails from before it has the old name
	n, err := res.RowsAffected()
	if err != nil {
		return mapError(ctx, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: agent %s", sessions.ErrConflict, a.ID)
	}
	return nil
}

// GetAgent returns the agent with this ID in this account. It returns sessions.ErrAgentNotFound
// alike for an unknown ID, a malformed ID and an agent of another account, and the context and
// database errors of the package.
func (s *Store) GetAgent(ctx context.Context, accountID, agentID string) (sessions.Agent, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return sessions.Agent{}, err
	}
	if !sessions.IsAgentID(agentID) {
		return sessions.Agent{}, sessions.ErrAgentNotFound
	}
	a := sessions.Agent{ID: agentID, AccountID: accountID}
	err := s.read.QueryRowContext(ctx, "SELECT name FROM agents WHERE account_id = ? AND id = ?",
		accountID, agentID).Scan(&a.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return sessions.Agent{}, sessions.ErrAgentNotFound
	}
	if err != nil {
		return sessions.Agent{}, mapError(ctx, err)
	}
	return a, nil
}
