package storetest_test

import (
	"context"

	"github.com/masker-dev/sessions"
)

func (s *bruteStore) GetSession(ctx context.Context, accountID, sessionID string) (sessions.Session, error) {
	if err := s.ctxErr(ctx); err != nil {
		return sessions.Session{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[sessionID]
	if !ok || (x.AccountID != accountID && s.bug != "GetSession ignores account") {
		return sessions.Session{}, sessions.ErrSessionNotFound
	}
	x = x.Clone()
	x.AgentName = s.agents[x.AgentID].Name
	return x, nil
}
