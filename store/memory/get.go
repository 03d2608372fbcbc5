package memory

import (
	"context"

	"github.com/masker-dev/sessions"
	"github.com/oklog/ulid/v2"
)

// GetSession returns the session with this ID in this account, with AgentName filled from its
// agent's current name, or sessions.ErrSessionNotFound for an unknown or malformed ID or a
// session of another account.
func (s *Store) GetSession(ctx context.Context, accountID, sessionID string) (sessions.Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return sessions.Session{}, err
	}
	if !sessions.IsSessionID(sessionID) {
		return sessions.Session{}, sessions.ErrSessionNotFound
	}
	r, ok := s.ids[ulid.MustParseStrict(sessionID[len(sessions.SessionIDPrefix):])]
	if !ok || s.agents[s.records.at(r).agent].accountID != accountID {
		return sessions.Session{}, sessions.ErrSessionNotFound
	}
	return s.sessions([]ref{r})[0], nil
}
