package memory

import (
	"context"
	"strconv"
	"strings"

	"github.com/masker-dev/sessions"
)

// The feed (sessions.Tailer). Every session that PutSessions writes takes the next number of a
// store-wide counter, its position, which the record keeps (record.written). Each account has a
// log of (position, record) in position order. An entry whose record was written again since,
// purged, or reused for another session no longer has the record's position: a tail skips it.
// The log drops such entries when they are more than half of it, so it stays as long as twice
// the account's sessions at most, and it holds no pointers, like the records.
//
// The single writer lock makes positions visible in the order they were handed out, so a tail
// that has read up to position p has seen every write at or before p.

// feedScan is the most log entries a tail reads, and feedBatch the most sessions it copies out,
// each time it holds the read lock.
const (
	feedScan  = 4096
	feedBatch = 256
)

// feedCompactMin is the shortest log that is compacted: below it, the dead entries cost less than
// the copy.
const feedCompactMin = 1024

// feed is the log of an account.
type feed struct {
	log  []entry
	dead int // entries of log whose record has moved on
}

type entry struct {
	pos uint64
	r   ref
}

// logWrite appends the write of record r, of this account, which has just been given its
// position. The caller holds s.mu for writing.
func (s *Store) logWrite(accountID string, r ref) {
	f, ok := s.feeds[accountID]
	if !ok {
		f = &feed{}
		s.feeds[accountID] = f
	}
	f.log = append(f.log, entry{pos: s.records.at(r).written, r: r})
}

// logDead counts one more dead entry in the log of this account, and compacts the log when
// more than half of it is dead. The caller holds s.mu for writing.
func (s *Store) logDead(accountID string) {
	f := s.feeds[accountID]
	f.dead++
	if len(f.log) < feedCompactMin || 2*f.dead <= len(f.log) {
		return
	}
	live := f.log[:0]
	for _, e := range f.log {
		if s.records.at(e.r).written == e.pos {
			live = append(live, e)
		}
	}
	f.log = append(make([]entry, 0, 2*len(live)), live...)
	f.dead = 0
}

// waiters are the tails that wait for the next write to an account: ch is closed at that write,
// or when the store closes. n counts the tails that took ch and have not stopped waiting, so
// that the last one to leave without a write (its context ended) drops the entry, and the map
// holds no account that no tail waits on.
type waiters struct {
	ch chan struct{}
	n  int
}

// wakeTails wakes the tails waiting for writes to this account. The caller holds s.mu for
// writing.
func (s *Store) wakeTails(accountID string) {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if w, ok := s.wake[accountID]; ok {
		close(w.ch)
		delete(s.wake, accountID)
	}
}

// waitFor returns the waiters of this account, counting one more: their channel is closed at
// the next write to the account, or when the store closes. The tail calls unwait once it stops
// waiting. The caller holds s.mu, for reading at least.
func (s *Store) waitFor(accountID string) *waiters {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	w, ok := s.wake[accountID]
	if !ok {
		w = &waiters{ch: make(chan struct{})}
		s.wake[accountID] = w
	}
	w.n++
	return w
}

// unwait counts off a tail that took w from waitFor and stops waiting, and drops w when it was
// the last. It does nothing for nil, or for waiters that a write (or Close) already woke.
func (s *Store) unwait(accountID string, w *waiters) {
	if w == nil {
		return
	}
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.wake[accountID] != w {
		return // woken: no longer in the map
	}
	if w.n--; w.n == 0 {
		delete(s.wake, accountID)
	}
}

// TailPosition returns the position of the last write so far. It returns an error that matches
// sessions.ErrUnavailable once the store is closed. It is safe for concurrent use.
func (s *Store) TailPosition(ctx context.Context) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return "", err
	}
	return s.formatPosition(s.written), nil
}

// CheckPosition reports whether a tail may start after the position p, as
// sessions.PositionChecker describes: it returns a *sessions.ValidationError for a position that
// is not one of this Store value's (another Store's, one from before a restart), or that is
// beyond its last write, and an error that matches sessions.ErrUnavailable once the store is
// closed. It is safe for concurrent use.
func (s *Store) CheckPosition(ctx context.Context, p string) error {
	if p == "" {
		return nil
	}
	at, err := s.parsePosition(p)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.checkAhead(at)
}

// checkAhead returns the error of a tail after the position at, when at is beyond the last
// write. The caller holds s.mu.
func (s *Store) checkAhead(at uint64) error {
	if at > s.written {
		return &sessions.ValidationError{Subject: "tail", Field: "after",
			Reason: "a position this store has not handed out: " + s.formatPosition(at)}
	}
	return nil
}

// Tail calls fn with each session of f.AccountID that f selects whose latest write is after the
// position after, in the order of the writes, then waits for more, as sessions.Tailer
// documents. It is woken by the writes of this Store value, in process, with no polling.
//
// It returns a *sessions.ValidationError for a filter that sessions.TailFilter rejects, or a
// position that this Store value did not hand out (one of another Store value, such as one from
// before a restart, or one beyond its last write: see CheckPosition);
// ctx's error, through sessions.ContextError, once ctx ends; fn's error; and an error that
// matches sessions.ErrUnavailable once the store is closed. It does not hold the store's lock
// while fn runs. It is safe for concurrent use.
func (s *Store) Tail(ctx context.Context, f sessions.Filter, after string, fn func(sessions.Session, string) error) error {
	f, err := sessions.TailFilter(f)
	if err != nil {
		return err
	}
	var at uint64
	if after == "" {
		p, err := s.TailPosition(ctx)
		if err != nil {
			return err
		}
		at, _ = s.parsePosition(p)
	} else if at, err = s.parsePosition(after); err != nil {
		return err
	}
	var wait *waiters // the last the tail took; woken, unless it returns while waiting
	defer func() { s.unwait(f.AccountID, wait) }()
	for {
		var batch []fed
		var next uint64
		batch, next, wait, err = s.readFeed(ctx, f, at)
		if err != nil {
			return err
		}
		for _, item := range batch {
			if err := fn(item.s, s.formatPosition(item.pos)); err != nil {
				return err
			}
		}
		at = next
		if wait == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return sessions.ContextError(ctx)
		case <-wait.ch:
		}
	}
}

// fed is a session that a tail delivers, with the position of its write.
type fed struct {
	s   sessions.Session
	pos uint64
}

// readFeed returns the sessions of the feed of f.AccountID that f selects, written after the
// position at, up to feedBatch of them from at most feedScan entries; the position that the
// next read starts after; and, when the read reached the end of the feed, the waiters of the
// account's next write, counting the caller (see waitFor).
func (s *Store) readFeed(ctx context.Context, f sessions.Filter, at uint64) (batch []fed, next uint64, wait *waiters, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return nil, 0, nil, err
	}
	if err := s.checkAhead(at); err != nil {
		return nil, 0, nil, err
	}
	var log []entry
	if fd, ok := s.feeds[f.AccountID]; ok {
		log = fd.log
	}
	agentNum, agentOK := uint32(0), f.AgentID == ""
	if !agentOK {
		agentNum, agentOK = s.agent(f.AccountID, f.AgentID)
	}
	var st status
	if f.Status != "" {
		st = statusOf(f.Status)
	}
	// The first entry after at: positions grow along the log.
	lo, hi := 0, len(log)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if log[mid].pos <= at {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	var refs []ref
	var poss []uint64
	next = at
	end := min(len(log), lo+feedScan)
	for _, e := range log[lo:end] {
		next = e.pos
		rec := s.records.at(e.r)
		if rec.written != e.pos || !agentOK ||
			f.AgentID != "" && rec.agent != agentNum ||
			f.Status != "" && rec.status != st ||
			rec.count < int64(f.MinRedactions) {
			continue
		}
		refs = append(refs, e.r)
		poss = append(poss, e.pos)
		if len(refs) == feedBatch {
			break
		}
	}
	if next == at || next == log[len(log)-1].pos {
		// At the end of this account's log: nothing of it is written after s.written until the
		// lock is released, so the next read starts there, woken by the next write.
		next = s.written
		wait = s.waitFor(f.AccountID)
	}
	if len(refs) == 0 {
		return nil, next, wait, nil
	}
	ss := s.sessions(refs)
	batch = make([]fed, len(ss))
	for i := range ss {
		batch[i] = fed{ss[i], poss[i]}
	}
	return batch, next, wait, nil
}

// formatPosition and parsePosition convert a position to and from its opaque form: the
// identity of the Store value and the decimal number of the write, "identity.number".
func (s *Store) formatPosition(p uint64) string {
	return s.identity + "." + strconv.FormatUint(p, 10)
}

func (s *Store) parsePosition(v string) (uint64, error) {
	identity, num, ok := strings.Cut(v, ".")
	p, err := strconv.ParseUint(num, 10, 64)
	switch {
	case !ok || err != nil || strconv.FormatUint(p, 10) != num:
		return 0, &sessions.ValidationError{Subject: "tail", Field: "after",
			Reason: "not a position of this store: " + strconv.Quote(truncated(v))}
	case identity != s.identity:
		return 0, &sessions.ValidationError{Subject: "tail", Field: "after",
			Reason: "a position of another store (or of this one before a restart): " + strconv.Quote(truncated(v))}
	}
	return p, nil
}

// truncated returns v cut to 40 bytes, for an error message.
func truncated(v string) string {
	if len(v) > 40 {
		return v[:40] + "..."
	}
	return v
}
