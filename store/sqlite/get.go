package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// getQuery reads one session of one account by its primary key, with its agent's current name.
const getQuery = `SELECT s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind, s.upstream_model, a.name
FROM sessions s JOIN agents a ON a.id = s.agent_id
WHERE s.id = ? AND s.account_id = ?`

// GetSession returns the session with this ID in this account, with AgentName filled from its
// agent's current name. It returns sessions.ErrSessionNotFound for an unknown or malformed ID
// and for a session of another account, and the context and database errors of the package.
func (s *Store) GetSession(ctx context.Context, accountID, sessionID string) (sessions.Session, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return sessions.Session{}, err
	}
	if !sessions.IsSessionID(sessionID) {
		return sessions.Session{}, sessions.ErrSessionNotFound
	}
	x := sessions.Session{ID: sessionID, AccountID: accountID}
	var started, ended int64
	var status string
	var kinds []byte
	err := s.read.QueryRowContext(ctx, getQuery, sessionID, accountID).
		Scan(&x.AgentID, &started, &ended, &status, &kinds, &x.UpstreamModel, &x.AgentName)
	if errors.Is(err, sql.ErrNoRows) {
		return sessions.Session{}, sessions.ErrSessionNotFound
	}
	if err != nil {
		return sessions.Session{}, mapError(ctx, err)
	}
	x.Status = sessions.Status(status)
	x.StartedAt = time.UnixMilli(started).UTC()
	x.EndedAt = time.UnixMilli(ended).UTC()
	if x.RedactionsByKind, err = kindsjson.Parse(kinds); err != nil {
		return sessions.Session{}, fmt.Errorf("sqlite: session %s: %w", x.ID, err)
	}
	return x, nil
}
