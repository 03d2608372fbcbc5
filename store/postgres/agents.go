package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/masker-dev/sessions"
)

// PutAgent creates the agent, or replaces the name of an agent of the same account. It returns
// a *sessions.ValidationError for an invalid agent, sessions.ErrConflict when the ID belongs to
// an agent of another account, and the context and connection errors of the package.
func (s *Store) PutAgent(ctx context.Context, a sessions.Agent) error {
	if err := a.Validate(); err != nil {
		return err
	}
	err := s.retry(ctx, s.pool, func() error {
		tag, err := s.pool.Exec(ctx, `INSERT INTO agents AS a (id, account_id, name) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE a.account_id = excluded.account_id`,
			a.ID, a.AccountID, a.Name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: agent %s", sessions.ErrConflict, a.ID)
		}
		return nil
	})
	if err == nil {
		s.reads.Changed() // a shared read of the tails from before it has the old name
	}
	return err
}

// GetAgent returns the agent with this ID in this account. It returns sessions.ErrAgentNotFound
// alike for an unknown ID, a malformed ID and an agent of another account, and the context and
// connection errors of the package.
func (s *Store) GetAgent(ctx context.Context, accountID, agentID string) (sessions.Agent, error) {
	if !sessions.IsAgentID(agentID) {
		if err := sessions.ContextError(ctx); err != nil {
			return sessions.Agent{}, err
		}
		return sessions.Agent{}, sessions.ErrAgentNotFound
	}
	a := sessions.Agent{ID: agentID, AccountID: accountID}
	err := s.retry(ctx, s.pool, func() error {
		err := s.pool.QueryRow(ctx, "SELECT name FROM agents WHERE id = $1 AND account_id = $2",
			agentID, accountID).Scan(&a.Name)
		if errors.Is(err, pgx.ErrNoRows) {
			return sessions.ErrAgentNotFound
		}
		return err
	})
	if err != nil {
		return sessions.Agent{}, err
	}
	return a, nil
}
