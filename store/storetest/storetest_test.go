package storetest_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/storetest"
)

// TestRun runs the suite against a brute-force store that follows the root package's rules
// literally, to check the suite itself: a correct store must pass every case.
func TestRun(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sessions.Store {
		s := newBruteStore()
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	})
}

// bruteStore is a sessions.Store and sessions.Purger that scans every session for every list.
// It is correct by construction, and slow.
type bruteStore struct {
	mu       sync.Mutex
	agents   map[string]sessions.Agent
	sessions map[string]sessions.Session
}

func newBruteStore() *bruteStore {
	return &bruteStore{agents: map[string]sessions.Agent{}, sessions: map[string]sessions.Session{}}
}

func (s *bruteStore) PutAgent(ctx context.Context, a sessions.Agent) error {
	if err := sessions.ContextError(ctx); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.agents[a.ID]; ok && old.AccountID != a.AccountID {
		return fmt.Errorf("%w: agent %s", sessions.ErrConflict, a.ID)
	}
	s.agents[a.ID] = a
	return nil
}

func (s *bruteStore) GetAgent(ctx context.Context, accountID, agentID string) (sessions.Agent, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return sessions.Agent{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.agents[agentID]
	if !ok || a.AccountID != accountID {
		return sessions.Agent{}, sessions.ErrAgentNotFound
	}
	return a, nil
}

func (s *bruteStore) PutSessions(ctx context.Context, in ...sessions.Session) error {
	if err := sessions.ContextError(ctx); err != nil {
		return err
	}
	ss, err := sessions.PrepareBatch(in)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range ss {
		if a, ok := s.agents[x.AgentID]; !ok || a.AccountID != x.AccountID {
			return fmt.Errorf("%w: session %s: agent %s", sessions.ErrAgentNotFound, x.ID, x.AgentID)
		}
		if old, ok := s.sessions[x.ID]; ok && (old.AccountID != x.AccountID || old.AgentID != x.AgentID) {
			return fmt.Errorf("%w: session %s", sessions.ErrConflict, x.ID)
		}
	}
	for _, x := range ss {
		s.sessions[x.ID] = x
	}
	return nil
}

func (s *bruteStore) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return sessions.Page{}, err
	}
	if err := f.Validate(); err != nil {
		return sessions.Page{}, err
	}
	f = f.Normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sessions.Session
	for _, x := range s.sessions {
		if f.Match(x) && (f.After == nil || f.After.Before(x.Cursor())) {
			x = x.Clone()
			x.AgentName = s.agents[x.AgentID].Name
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b sessions.Session) int {
		if a.Cursor().Before(b.Cursor()) {
			return -1
		}
		return 1
	})
	return sessions.NewPage(out[:min(len(out), f.Limit+1)], f.Limit), nil
}

func (s *bruteStore) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	for {
		if err := sessions.ContextError(ctx); err != nil {
			return n, err
		}
		// Bounded batches, like a real store.
		deleted := s.purgeBatch(before, 100)
		n += deleted
		if deleted < 100 {
			return n, nil
		}
	}
}

func (s *bruteStore) purgeBatch(before time.Time, max int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, x := range s.sessions {
		if n == int64(max) {
			break
		}
		if x.StartedAt.Before(before) {
			delete(s.sessions, id)
			n++
		}
	}
	return n
}

func (s *bruteStore) Close() error { return nil }
