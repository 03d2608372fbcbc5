package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// TestConcurrentUpserts runs concurrent PutSessions calls of one account, each of which writes
// new sessions and new versions of stored ones of the same hours and agents, small batches
// (arrays) and large ones (COPY, then the upsert), over three hours and two statuses, so that
// the calls' rollup rows overlap in every order: every call must finish without the server
// finding a deadlock. The connections find deadlocks only after 60 s, and each call has 20 s:
// a deadlock fails its call, where the store's usual retry would hide it.
func TestConcurrentUpserts(t *testing.T) {
	pool := newTestPoolDeadlockTimeout(t, "60s")
	if !canSetDeadlockTimeout(pool) {
		t.Skip("the test server's role may not set deadlock_timeout") // not under CI: its role is a superuser
	}
	s, err := New(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var agents []sessions.Agent
	for i := range 5 {
		a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: fmt.Sprint("agent ", i)}
		if err := s.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
	}
	hour := time.Date(2026, 5, 3, 18, 0, 0, 0, time.UTC)
	var mu sync.Mutex // guards stored
	var stored []sessions.Session
	newSession := func(rnd *rand.Rand) sessions.Session {
		at := hour.Add(time.Duration(rnd.IntN(3*3600_000)) * time.Millisecond)
		a := agents[rnd.IntN(len(agents))]
		status := []sessions.Status{sessions.StatusOK, sessions.StatusError}[rnd.IntN(2)]
		return sessions.Session{ID: sessions.NewSessionID(at), AccountID: a.AccountID, AgentID: a.ID,
			StartedAt: at, EndedAt: at.Add(time.Minute), Status: status,
			RedactionsByKind: map[string]int{"NAME": 1 + rnd.IntN(3)}}
	}
	seed := make([]sessions.Session, 200)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range seed {
		seed[i] = newSession(rnd)
	}
	if err := s.PutSessions(ctx, seed...); err != nil {
		t.Fatal(err)
	}
	stored = seed
	writers, calls := 4, testscale.Pick(10, 40)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			size := 6
			if w == 0 {
				size = 150 // through COPY, which finds stored IDs and upserts
			}
			for range calls {
				batch := make([]sessions.Session, 0, size)
				seen := map[string]bool{}
				mu.Lock()
				for len(batch) < size/2 {
					x := stored[rnd.IntN(len(stored))]
					if seen[x.ID] {
						continue
					}
					seen[x.ID] = true
					x.RedactionsByKind = map[string]int{"NAME": 1 + rnd.IntN(3), "PHONE": rnd.IntN(2)}
					batch = append(batch, x)
				}
				mu.Unlock()
				for len(batch) < size {
					batch = append(batch, newSession(rnd))
				}
				callCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
				err := s.PutSessions(callCtx, batch...)
				cancel()
				if err != nil {
					t.Errorf("writer %d: PutSessions: %v", w, err)
					return
				}
				mu.Lock()
				stored = append(stored, batch[size/2:]...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
