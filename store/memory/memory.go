// Package memory is a sessions.Store that keeps everything in the process's memory: for unit
// tests, demos and small deployments that can afford to lose their data on restart.
//
// Each account and each agent has an index of its sessions kept in list order, so that a page
// costs a binary search plus the sessions it reads, whatever the number of sessions.
package memory

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/oklog/ulid/v2"
)

// purgeBatch is the most sessions PurgeSessions deletes while it holds the lock.
const purgeBatch = 1000

// Store is an in-memory [sessions.Store], [sessions.Purger], [sessions.Tailer],
// [sessions.Summarizer] and [sessions.Scanner]. It is safe for concurrent use by multiple
// goroutines. Its zero value is not usable: call New.
type Store struct {
	identity  string // of this Store value, in each feed position (feed.go)
	mu        sync.RWMutex
	closed    bool
	agents    []agent             // by number
	agentNums map[string]uint32   // agent ID -> number
	byAccount map[string]*index   // account ID -> its sessions
	records   table               // the sessions, by number
	ids       map[ulid.ULID]ref   // the ULID of each session ID -> its record
	moreKinds map[ref][]kindCount // the kinds of records with more than inlineKinds of them
	names     []string            // interned kinds and upstream models, by number
	nameIDs   map[string]uint32   // the number of each interned name
	nameRefs  []uint64            // by number: the records' references to each name; 0: free
	nameFree  []uint32            // numbers of names no record refers to, for intern to reuse
	written   uint64              // the last feed position handed out
	feeds     map[string]*feed    // account ID -> its feed

	wakeMu sync.Mutex          // guards wake; taken with mu held
	wake   map[string]*waiters // account ID -> the tails waiting for its next write
}

type agent struct {
	id, accountID, name string
	sessions            *index
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		identity:  rand.Text()[:16],
		agentNums: map[string]uint32{},
		byAccount: map[string]*index{},
		ids:       map[ulid.ULID]ref{},
		moreKinds: map[ref][]kindCount{},
		nameIDs:   map[string]uint32{},
		feeds:     map[string]*feed{},
		wake:      map[string]*waiters{},
	}
}

var (
	errClosed = fmt.Errorf("%w: memory: store is closed", sessions.ErrUnavailable)
	errFull   = fmt.Errorf("%w: memory: store is full", sessions.ErrUnavailable)
)

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
	if n, ok := s.agentNums[a.ID]; ok {
		old := &s.agents[n]
		if old.accountID != a.AccountID {
			return fmt.Errorf("%w: agent %s", sessions.ErrConflict, a.ID)
		}
		old.name = a.Name
		return nil
	}
	s.agentNums[a.ID] = uint32(len(s.agents))
	s.agents = append(s.agents, agent{id: a.ID, accountID: a.AccountID, name: a.Name, sessions: newIndex(&s.records)})
	return nil
}

// agent returns the number of the agent with this ID in this account.
func (s *Store) agent(accountID, agentID string) (uint32, bool) {
	n, ok := s.agentNums[agentID]
	return n, ok && s.agents[n].accountID == accountID
}

// GetAgent returns the agent with this ID in this account, or sessions.ErrAgentNotFound.
func (s *Store) GetAgent(ctx context.Context, accountID, agentID string) (sessions.Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return sessions.Agent{}, err
	}
	n, ok := s.agent(accountID, agentID)
	if !ok {
		return sessions.Agent{}, sessions.ErrAgentNotFound
	}
	a := s.agents[n]
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
	agents := make([]uint32, len(batch))
	ids := make([]ulid.ULID, len(batch))
	added := 0
	for i, in := range batch {
		a, ok := s.agent(in.AccountID, in.AgentID)
		if !ok {
			return fmt.Errorf("%w: session %s: agent %s", sessions.ErrAgentNotFound, in.ID, in.AgentID)
		}
		ids[i] = ulidOf(in.ID)
		if r, ok := s.ids[ids[i]]; !ok {
			added++
		} else if s.records.at(r).agent != a {
			return fmt.Errorf("%w: session %s", sessions.ErrConflict, in.ID)
		}
		agents[i] = a
	}
	if s.records.full(added) {
		return errFull
	}
	for i, in := range batch {
		r, ok := s.ids[ids[i]]
		if ok {
			s.unindex(r)
		} else {
			r = s.records.add()
			s.ids[ids[i]] = r
		}
		s.fill(r, ids[i], agents[i], in, ok)
		s.written++
		s.records.at(r).written = s.written
		s.logWrite(in.AccountID, r)
		if ok {
			s.logDead(in.AccountID) // the entry of the write replaced
		}
		s.index(r)
	}
	for i, in := range batch {
		if i == 0 || in.AccountID != batch[i-1].AccountID {
			s.wakeTails(in.AccountID)
		}
	}
	return nil
}

// ulidOf returns the ULID of a validated session ID.
func ulidOf(sessionID string) ulid.ULID {
	return ulid.MustParseStrict(sessionID[len(sessions.SessionIDPrefix):])
}

// fill writes the session in, of the agent numbered a, into the record r, which holds the
// session that in replaces when replacing is true (its names are released), and is zero
// otherwise.
func (s *Store) fill(r ref, id ulid.ULID, a uint32, in sessions.Session, replacing bool) {
	rec := s.records.at(r)
	var old record
	var oldKinds []kindCount
	if replacing {
		old = *rec
		oldKinds = s.kinds(r)
		if int(old.nKinds) <= inlineKinds {
			oldKinds = old.inline[:old.nKinds] // the copy's: rec's are overwritten below
		}
	}
	*rec = record{
		id:       id,
		started:  in.StartedAt.UnixMilli(),
		ended:    in.EndedAt.UnixMilli(),
		count:    int64(in.RedactionCount()),
		agent:    a,
		upstream: s.intern(in.UpstreamModel),
		status:   statusOf(in.Status),
		nKinds:   uint8(len(in.RedactionsByKind)),
	}
	kinds := rec.inline[:0]
	if len(in.RedactionsByKind) > inlineKinds {
		kinds = make([]kindCount, 0, len(in.RedactionsByKind))
	}
	for k, n := range in.RedactionsByKind {
		kinds = append(kinds, kindCount{s.intern(k), int32(n)})
	}
	if len(kinds) > inlineKinds {
		s.moreKinds[r] = kinds
	} else {
		delete(s.moreKinds, r)
	}
	if replacing { // after interning the new names, so that a name kept is not dropped and made again
		s.releaseNames(old.upstream, oldKinds)
	}
}

// releaseNames drops a reference to the name upstream and to the kind of each of kinds: those
// of a record that is deleted or overwritten. The caller holds s.mu for writing.
func (s *Store) releaseNames(upstream uint32, kinds []kindCount) {
	s.unintern(upstream)
	for _, kc := range kinds {
		s.unintern(kc.kind)
	}
}

// kinds returns the kinds of the record r.
func (s *Store) kinds(r ref) []kindCount {
	rec := s.records.at(r)
	if int(rec.nKinds) > inlineKinds {
		return s.moreKinds[r]
	}
	return rec.inline[:rec.nKinds]
}

// intern returns the number of the name v, adding it when it is new, and counts one more
// reference to it, which releaseNames drops: a name that no record refers to any more is
// forgotten, so that the names of purged or rewritten sessions do not stay in memory for the
// life of the process. The caller holds s.mu for writing.
func (s *Store) intern(v string) uint32 {
	if id, ok := s.nameIDs[v]; ok {
		s.nameRefs[id]++
		return id
	}
	var id uint32
	if n := len(s.nameFree); n > 0 {
		id = s.nameFree[n-1]
		s.nameFree = s.nameFree[:n-1]
		s.names[id] = v
		s.nameRefs[id] = 1
	} else {
		id = uint32(len(s.names))
		s.names = append(s.names, v)
		s.nameRefs = append(s.nameRefs, 1)
	}
	s.nameIDs[v] = id
	return id
}

// unintern drops a reference to the name numbered id, and forgets the name with the last one.
// The caller holds s.mu for writing.
func (s *Store) unintern(id uint32) {
	if s.nameRefs[id]--; s.nameRefs[id] == 0 {
		delete(s.nameIDs, s.names[id])
		s.names[id] = ""
		s.nameFree = append(s.nameFree, id)
	}
}

// index adds the record r to the indexes of its agent and its account.
func (s *Store) index(r ref) {
	a := &s.agents[s.records.at(r).agent]
	a.sessions.insert(r)
	x, ok := s.byAccount[a.accountID]
	if !ok {
		x = newIndex(&s.records)
		s.byAccount[a.accountID] = x
	}
	x.insert(r)
}

// unindex removes the record r from the indexes of its agent and its account, dropping an
// account's index left empty.
func (s *Store) unindex(r ref) {
	a := &s.agents[s.records.at(r).agent]
	a.sessions.remove(r)
	x := s.byAccount[a.accountID]
	x.remove(r)
	if x.n == 0 {
		delete(s.byAccount, a.accountID)
	}
}

// delete removes the record r from the store.
func (s *Store) delete(r ref) {
	rec := s.records.at(r)
	accountID := s.agents[rec.agent].accountID
	s.unindex(r)
	delete(s.ids, rec.id)
	s.releaseNames(rec.upstream, s.kinds(r))
	delete(s.moreKinds, r)
	s.records.release(r)
	s.logDead(accountID) // the entry of its write
}

// ListSessions returns one page of the sessions that match f, as sessions.Store documents. It
// costs a binary search plus the sessions it reads, including those that the filter skips.
func (s *Store) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	return sessions.ListPage(ctx, f, s.list)
}

// list returns the sessions of the page of f, which is valid and normalized: up to f.Limit+1.
func (s *Store) list(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	x := s.indexOf(f)
	if x == nil {
		return nil, nil
	}
	return s.sessions(s.match(x, f)), nil
}

// indexOf returns the index that holds the sessions of f: its agent's, or its account's when f
// has no agent; nil when there is none (an unknown agent, or an account without sessions). The
// caller holds s.mu.
func (s *Store) indexOf(f sessions.Filter) *index {
	if f.AgentID == "" {
		return s.byAccount[f.AccountID]
	}
	if a, ok := s.agent(f.AccountID, f.AgentID); ok {
		return s.agents[a].sessions
	}
	return nil
}

// match returns the records of x that match f, up to f.Limit+1 of them. The caller holds s.mu.
func (s *Store) match(x *index, f sessions.Filter) []ref {
	start, since := bounds(f)
	keep := matcher(f)
	out := make([]ref, 0, f.Limit+1)
	b, i := x.seek(start)
	for ; b < len(x.blocks); b, i = b+1, 0 {
		for _, r := range x.blocks[b][i:] {
			rec := s.records.at(r)
			if rec.started < since {
				return out
			}
			if !keep(rec) {
				continue
			}
			out = append(out, r)
			if len(out) > f.Limit {
				return out
			}
		}
	}
	return out
}

// bounds returns where the records of the normalized filter f lie in list order: strictly
// after start (f.StartAfter), and not before since (Unix ms). An empty cursor ID comes after
// every ID, as the zero ULID does.
func bounds(f sessions.Filter) (start position, since int64) {
	start = position{started: maxMillis + 1}
	if c, ok := f.StartAfter(); ok {
		start = position{started: c.StartedAt.UnixMilli()}
		if c.ID != "" {
			start.id = ulidOf(c.ID)
		}
	}
	since = minMillis - 1
	if !f.Since.IsZero() {
		since = f.Since.UnixMilli()
	}
	return start, since
}

// matcher returns the test of f's Status and MinRedactions on a record.
func matcher(f sessions.Filter) func(*record) bool {
	minCount := int64(f.MinRedactions)
	if f.Status == "" {
		return func(rec *record) bool { return rec.count >= minCount }
	}
	st := statusOf(f.Status)
	return func(rec *record) bool { return rec.status == st && rec.count >= minCount }
}

var (
	minMillis = sessions.MinTime.UnixMilli()
	maxMillis = sessions.MaxTime.UnixMilli()
)

// sessionIDLen is the length of a session ID: its prefix and a ULID.
const sessionIDLen = len(sessions.SessionIDPrefix) + ulid.EncodedSize

// sessions returns the records rs as Sessions. Their IDs share one string, made in one
// allocation. The caller holds s.mu.
func (s *Store) sessions(rs []ref) []sessions.Session {
	buf := make([]byte, len(rs)*sessionIDLen)
	for i, r := range rs {
		id := buf[i*sessionIDLen : (i+1)*sessionIDLen]
		copy(id, sessions.SessionIDPrefix)
		_ = s.records.at(r).id.MarshalTextTo(id[len(sessions.SessionIDPrefix):]) // the size is right
	}
	ids := string(buf)
	out := make([]sessions.Session, len(rs))
	for i, r := range rs {
		rec := s.records.at(r)
		a := &s.agents[rec.agent]
		kinds := s.kinds(r)
		m := make(map[string]int, len(kinds))
		for _, kc := range kinds {
			m[s.names[kc.kind]] = int(kc.n)
		}
		out[i] = sessions.Session{
			ID:               ids[i*sessionIDLen : (i+1)*sessionIDLen],
			AccountID:        a.accountID,
			AgentID:          a.id,
			StartedAt:        time.UnixMilli(rec.started).UTC(),
			EndedAt:          time.UnixMilli(rec.ended).UTC(),
			Status:           statuses[rec.status],
			RedactionsByKind: m,
			UpstreamModel:    s.names[rec.upstream],
			AgentName:        a.name,
		}
	}
	return out
}

// PurgeSessions deletes the sessions of every account that started before the given time, at
// most 1,000 of them each time it takes the lock, and returns how many it deleted.
func (s *Store) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	if err := sessions.ContextError(ctx); err != nil {
		return 0, err
	}
	cutoff, ok := sessions.PurgeCutoff(before)
	if !ok {
		return 0, nil
	}
	limit := cutoff.UnixMilli()
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
			r, ok := x.last()
			if !ok || s.records.at(r).started >= limit {
				break
			}
			s.delete(r)
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
	s.agents, s.agentNums, s.byAccount, s.ids, s.moreKinds, s.names, s.nameIDs = nil, nil, nil, nil, nil, nil, nil
	s.nameRefs, s.nameFree = nil, nil
	s.records = table{}
	s.feeds = nil
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	for _, w := range s.wake {
		close(w.ch) // the tails see the store closed
	}
	s.wake = nil
	return nil
}
