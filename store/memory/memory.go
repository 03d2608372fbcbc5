// Package memory is a sessions.Store that keeps everything in the process's memory: for unit
// tests, demos and small deployments that can afford to lose their data on restart.
//
// Each account and each agent has an index of its sessions kept in list order, so that a page
// costs a binary search plus the sessions it reads, whatever the number of sessions.
package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/masker-dev/sessions"
)

// purgeBatch is the most sessions PurgeSessions deletes while it holds the lock.
const purgeBatch = 1000

// Store is an in-memory sessions.Store and sessions.Purger. It is safe for concurrent use by
// multiple goroutines. Its zero value is not usable: call New.
type Store struct {
	mu        sync.RWMutex
	closed    bool
	agents    map[string]*agent  // by agent ID
	sessions  map[string]*record // by session ID
	byAccount map[string]*index  // account ID -> its sessions
	byAgent   map[string]*index  // agent ID -> its sessions
	names     []string           // interned kinds and upstream models, by number
	nameIDs   map[string]uint32  // the number of each interned name
}

type agent struct {
	id, accountID, name string
}

// record is a stored session, kept small and with few pointers for the garbage collector to
// follow: times in Unix milliseconds, kinds and model as numbers of interned names.
type record struct {
	id       string
	agent    *agent
	started  int64
	ended    int64
	count    int
	status   sessions.Status
	kinds    []kindCount // no pointers: the collector does not scan it
	upstream uint32      // interned name
}

type kindCount struct {
	kind uint32 // interned name
	n    int32  // at most sessions.MaxKindCount
}

// position is a place in list order, as in sessions.Cursor.
type position struct {
	started int64
	id      string
}

func (r *record) position() position { return position{r.started, r.id} }

// New returns an empty Store.
func New() *Store {
	return &Store{
		agents:    map[string]*agent{},
		sessions:  map[string]*record{},
		byAccount: map[string]*index{},
		byAgent:   map[string]*index{},
		nameIDs:   map[string]uint32{},
	}
}

var errClosed = fmt.Errorf("%w: memory: store is closed", sessions.ErrUnavailable)

// check returns the error of a cancelled context or a closed store. The caller holds s.mu.
func (s *Store) check(ctx context.Context) error {
	if err := sessions.ContextError(ctx); err != nil {
		return err
	}
	if s.closed {
		return errClosed
	}
	return nil
}

// PutAgent creates the agent, or renames an agent of the same account. It returns a
// *sessions.ValidationError for an invalid agent and sessions.ErrConflict when the ID belongs to
// another account.
func (s *Store) PutAgent(ctx context.Context, a sessions.Agent) error {
	if err := a.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if old, ok := s.agents[a.ID]; ok {
		if old.accountID != a.AccountID {
			return fmt.Errorf("%w: agent %s", sessions.ErrConflict, a.ID)
		}
		old.name = a.Name
		return nil
	}
	s.agents[a.ID] = &agent{id: a.ID, accountID: a.AccountID, name: a.Name}
	return nil
}

// GetAgent returns the agent with this ID in this account, or sessions.ErrAgentNotFound.
func (s *Store) GetAgent(ctx context.Context, accountID, agentID string) (sessions.Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return sessions.Agent{}, err
	}
	a, ok := s.agents[agentID]
	if !ok || a.accountID != accountID {
		return sessions.Agent{}, sessions.ErrAgentNotFound
	}
	return sessions.Agent{ID: a.id, AccountID: a.accountID, Name: a.name}, nil
}

// PutSessions writes every session or none, as sessions.Store documents.
func (s *Store) PutSessions(ctx context.Context, ss ...sessions.Session) error {
	batch, err := sessions.PrepareBatch(ss)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	// Check the whole batch before changing anything.
	agents := make([]*agent, len(batch))
	for i, in := range batch {
		a, ok := s.agents[in.AgentID]
		if !ok || a.accountID != in.AccountID {
			return fmt.Errorf("%w: session %s: agent %s", sessions.ErrAgentNotFound, in.ID, in.AgentID)
		}
		if old, ok := s.sessions[in.ID]; ok && old.agent != a {
			return fmt.Errorf("%w: session %s", sessions.ErrConflict, in.ID)
		}
		agents[i] = a
	}
	for i, in := range batch {
		if old, ok := s.sessions[in.ID]; ok {
			s.unindex(old)
		}
		r := s.newRecord(in, agents[i])
		s.sessions[r.id] = r
		s.indexOf(s.byAccount, r.agent.accountID).insert(r)
		s.indexOf(s.byAgent, r.agent.id).insert(r)
	}
	return nil
}

func (s *Store) newRecord(in sessions.Session, a *agent) *record {
	r := &record{
		id:       in.ID,
		agent:    a,
		started:  in.StartedAt.UnixMilli(),
		ended:    in.EndedAt.UnixMilli(),
		count:    in.RedactionCount(),
		status:   in.Status,
		upstream: s.intern(in.UpstreamModel),
	}
	if len(in.RedactionsByKind) > 0 {
		r.kinds = make([]kindCount, 0, len(in.RedactionsByKind))
		for k, n := range in.RedactionsByKind {
			r.kinds = append(r.kinds, kindCount{s.intern(k), int32(n)})
		}
	}
	return r
}

// intern returns the number of the name v, adding it when it is new. The caller holds s.mu
// for writing.
func (s *Store) intern(v string) uint32 {
	if id, ok := s.nameIDs[v]; ok {
		return id
	}
	id := uint32(len(s.names))
	s.names = append(s.names, v)
	s.nameIDs[v] = id
	return id
}

func (s *Store) indexOf(m map[string]*index, key string) *index {
	x, ok := m[key]
	if !ok {
		x = &index{}
		m[key] = x
	}
	return x
}

// unindex removes r from the ID map and from both indexes, dropping an index left empty.
func (s *Store) unindex(r *record) {
	delete(s.sessions, r.id)
	removeFrom(s.byAccount, r.agent.accountID, r)
	removeFrom(s.byAgent, r.agent.id, r)
}

func removeFrom(m map[string]*index, key string, r *record) {
	x := m[key]
	x.remove(r)
	if x.n == 0 {
		delete(m, key)
	}
}

// ListSessions returns one page of the sessions that match f, as sessions.Store documents. It
// costs a binary search plus the sessions it reads, including those that the filter skips.
func (s *Store) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	if err := f.Validate(); err != nil {
		return sessions.Page{}, err
	}
	f = f.Normalize()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return sessions.Page{}, err
	}
	var x *index
	if f.AgentID != "" {
		if a, ok := s.agents[f.AgentID]; ok && a.accountID == f.AccountID {
			x = s.byAgent[f.AgentID]
		}
	} else {
		x = s.byAccount[f.AccountID]
	}
	if x == nil {
		return sessions.NewPage(nil, f.Limit), nil
	}

	// Start after the cursor or at Until, whichever comes later in list order.
	start := position{started: maxMillis + 1}
	if !f.Until.IsZero() {
		start = position{started: f.Until.UnixMilli()}
	}
	if c := f.After; c != nil {
		if p := (position{c.StartedAt.UnixMilli(), c.ID}); p.started < start.started || p.started == start.started && p.id < start.id {
			start = p
		}
	}
	since := int64(minMillis - 1)
	if !f.Since.IsZero() {
		since = f.Since.UnixMilli()
	}

	out := make([]sessions.Session, 0, f.Limit+1)
	b, i := x.seek(start)
	for ; b < len(x.blocks); b, i = b+1, 0 {
		for _, r := range x.blocks[b][i:] {
			if r.started < since {
				return sessions.NewPage(out, f.Limit), nil
			}
			if (f.Status != "" && r.status != f.Status) || r.count < f.MinRedactions {
				continue
			}
			out = append(out, s.session(r))
			if len(out) > f.Limit {
				return sessions.NewPage(out, f.Limit), nil
			}
		}
	}
	return sessions.NewPage(out, f.Limit), nil
}

var (
	minMillis = sessions.MinTime.UnixMilli()
	maxMillis = sessions.MaxTime.UnixMilli()
)

// session returns r as a Session. The caller holds s.mu.
func (s *Store) session(r *record) sessions.Session {
	kinds := make(map[string]int, len(r.kinds))
	for _, kc := range r.kinds {
		kinds[s.names[kc.kind]] = int(kc.n)
	}
	return sessions.Session{
		ID:               r.id,
		AccountID:        r.agent.accountID,
		AgentID:          r.agent.id,
		StartedAt:        time.UnixMilli(r.started).UTC(),
		EndedAt:          time.UnixMilli(r.ended).UTC(),
		Status:           r.status,
		RedactionsByKind: kinds,
		UpstreamModel:    s.names[r.upstream],
		AgentName:        r.agent.name,
	}
}

// PurgeSessions deletes the sessions of every account that started before the given time, at
// most purgeBatch of them each time it takes the lock, and returns how many it deleted.
func (s *Store) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return 0, err
	}
	cut := sessions.Filter{Since: before}.Normalize().Since // rounded up to whole milliseconds
	if cut.IsZero() {
		return 0, nil // nothing is stored before MinTime
	}
	limit := cut.UnixMilli()
	var deleted int64
	for {
		n, err := s.purgeBatch(ctx, limit)
		deleted += int64(n)
		if err != nil || n < purgeBatch {
			return deleted, err
		}
	}
}

// purgeBatch deletes up to purgeBatch sessions that started before limit (Unix ms).
func (s *Store) purgeBatch(ctx context.Context, limit int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	n := 0
	for _, x := range s.byAccount {
		for n < purgeBatch {
			r := x.last()
			if r == nil || r.started >= limit {
				break
			}
			s.unindex(r)
			n++
		}
		if n == purgeBatch {
			break
		}
	}
	return n, nil
}

// Close empties the store. Later calls of its methods return an error that matches
// sessions.ErrUnavailable. It always returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.agents, s.sessions, s.byAccount, s.byAgent, s.names, s.nameIDs = nil, nil, nil, nil, nil, nil
	return nil
}
