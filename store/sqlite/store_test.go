package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// TestConcurrentWriters checks that concurrent writes of one process, and of two stores on one
// file (as two processes would have), all succeed: the single writer connection queues a
// store's writes, busy_timeout covers the other store's, and readers run meanwhile.
//
// With the small test data sets each writer writes 4 batches of 10 sessions rather than 10 of
// 50: still 8 writers, 4 on each store, whose 64 write transactions (each batch and a PutAgent)
// overlap, within a store and across the two, as their 160 do.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	stores := []*Store{mustOpen(t, path), mustOpen(t, path)}
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "Front desk"}
	if err := stores[0].PutAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	batches, size := testscale.Pick(4, 10), testscale.Pick(10, 50)
	base := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*batches)
	for w := range writers {
		s := stores[w%2]
		wg.Add(2)
		go func() {
			defer wg.Done()
			for b := range batches {
				ss := make([]sessions.Session, size)
				for i := range ss {
					start := base.Add(time.Duration((w*batches+b)*size+i) * time.Millisecond)
					ss[i] = sessions.Session{ID: sessions.NewSessionID(start), AccountID: "acme", AgentID: a.ID,
						StartedAt: start, EndedAt: start, Status: sessions.StatusOK}
				}
				if err := s.PutSessions(ctx, ss...); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
				}
				if err := s.PutAgent(ctx, a); err != nil {
					errs <- fmt.Errorf("writer %d PutAgent: %w", w, err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range batches {
				if _, err := s.ListSessions(ctx, sessions.Filter{AccountID: "acme", Limit: 100}); err != nil {
					errs <- fmt.Errorf("reader %d: %w", w, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := stores[1].read.QueryRowContext(ctx, "SELECT count(*) FROM sessions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*batches*size {
		t.Errorf("%d sessions stored, want %d", n, writers*batches*size)
	}
}

// TestClosed checks that every method of a closed store returns ErrUnavailable.
func TestClosed(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	if err := s.PutAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	calls := map[string]error{
		"PutAgent": s.PutAgent(ctx, a),
		"PutSessions": s.PutSessions(ctx, sessions.Session{ID: sessions.NewSessionID(start), AccountID: "acme",
			AgentID: a.ID, StartedAt: start, EndedAt: start, Status: sessions.StatusOK}),
	}
	_, calls["GetAgent"] = s.GetAgent(ctx, "acme", a.ID)
	_, calls["ListSessions"] = s.ListSessions(ctx, sessions.Filter{AccountID: "acme"})
	_, calls["PurgeSessions"] = s.PurgeSessions(ctx, start)
	for name, err := range calls {
		if !errors.Is(err, sessions.ErrUnavailable) {
			t.Errorf("%s after Close: %v, want ErrUnavailable", name, err)
		}
	}
}

// TestPurgeBatches checks that PurgeSessions deletes across several batches and accounts, and
// keeps what is not old enough.
func TestPurgeBatches(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	s.purgeBatch = 7
	base := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	for _, account := range []string{"acme", "globex"} {
		a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: account}
		if err := s.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		var ss []sessions.Session
		for i := range 50 {
			start := base.Add(time.Duration(i) * time.Second)
			ss = append(ss, sessions.Session{ID: sessions.NewSessionID(start), AccountID: account, AgentID: a.ID,
				StartedAt: start, EndedAt: start, Status: sessions.StatusOK})
		}
		if err := s.PutSessions(ctx, ss...); err != nil {
			t.Fatal(err)
		}
	}
	// Before the 31st second, plus half a millisecond: 31 sessions of each account.
	n, err := s.PurgeSessions(ctx, base.Add(30*time.Second+500*time.Microsecond))
	if err != nil || n != 62 {
		t.Errorf("PurgeSessions = %d, %v; want 62", n, err)
	}
	var left int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM sessions").Scan(&left); err != nil || left != 38 {
		t.Errorf("%d sessions left (%v), want 38", left, err)
	}
}

// TestRareFilterWithOneFreeConnection checks that a page of a rare filter, whose statements
// share one read transaction, needs one connection of the read pool only: with every other
// connection taken, it is answered, where a statement prepared through the pool inside the
// transaction would wait for a second connection for ever.
func TestRareFilterWithOneFreeConnection(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "a"}
	if err := s.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var ss []sessions.Session
	for i := range 1500 { // more than the prefilter's budget, none of them an error
		at := start.Add(time.Duration(i) * time.Second)
		ss = append(ss, sessions.Session{ID: sessions.NewSessionID(at), AccountID: "acme", AgentID: agent.ID,
			StartedAt: at, EndedAt: at, Status: sessions.StatusOK})
	}
	if err := s.PutSessions(ctx, ss...); err != nil {
		t.Fatal(err)
	}
	for range s.read.Stats().MaxOpenConnections - 1 {
		c, err := s.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, f := range []sessions.Filter{
		{AccountID: "acme", Status: sessions.StatusError, Limit: 10},
		{AccountID: "acme", AgentID: agent.ID, MinRedactions: 1, Limit: 10},
	} {
		if p, err := s.ListSessions(ctx, f); err != nil || len(p.Sessions) != 0 {
			t.Errorf("ListSessions(%+v) with one free connection = %d sessions, %v", f, len(p.Sessions), err)
		}
	}
}
