package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/masker-dev/sessions"
)

// getQuery reads one session of one account by its primary key, with its agent's current name.
const getQuery = `SELECT s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind, s.upstream_model, a.name
FROM sessions s JOIN agents a ON a.id = s.agent_id
WHERE s.id = $1 AND s.account_id = $2`

// GetSession returns the session with this ID in this account, with AgentName filled from its
// agent's current name. Like ListSessions, it reads from the pool of WithReadPool when there is
// one. It returns sessions.ErrSessionNotFound for an unknown or malformed ID and for a session of
// another account, and the context and connection errors of the package.
func (s *Store) GetSession(ctx context.Context, accountID, sessionID string) (sessions.Session, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return sessions.Session{}, err
	}
	if !sessions.IsSessionID(sessionID) {
		return sessions.Session{}, sessions.ErrSessionNotFound
	}
	var x sessions.Session
	err := s.retry(ctx, s.read, func() error {
		x = sessions.Session{ID: sessionID, AccountID: accountID}
		var status string
		err := s.read.QueryRow(ctx, getQuery, sessionID, accountID).Scan(&x.AgentID, &x.StartedAt, &x.EndedAt,
			&status, (*kindsColumn)(&x.RedactionsByKind), &x.UpstreamModel, &x.AgentName)
		x.Status = sessions.Status(status)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return sessions.Session{}, sessions.ErrSessionNotFound
	}
	if err != nil {
		return sessions.Session{}, err
	}
	x.StartedAt, x.EndedAt = x.StartedAt.UTC(), x.EndedAt.UTC()
	if x.RedactionsByKind == nil {
		x.RedactionsByKind = map[string]int{}
	}
	return x, nil
}
