package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// TestNamesReleased checks that the interned kinds and upstream models of sessions that are
// rewritten or purged are forgotten, so that a long-running store with retention does not keep
// every name it ever saw, and that the names still in use read back unchanged.
func TestNamesReleased(t *testing.T) {
	ctx := context.Background()
	s, a := storeWithAgent(t)
	kept := newSession(a)
	kept.StartedAt, kept.EndedAt = start.Add(2*time.Hour), start.Add(3*time.Hour)
	kept.ID = sessions.NewSessionID(kept.StartedAt)
	kept.UpstreamModel = "gpt-4o-mini"
	kept.RedactionsByKind = map[string]int{"NAME": 1, "PHONE": 2}
	if err := s.PutSessions(ctx, kept); err != nil {
		t.Fatal(err)
	}
	rewritten := newSession(a)
	for i := range 3000 {
		in := newSession(a)
		in.UpstreamModel = fmt.Sprintf("model-%d", i)
		in.RedactionsByKind = map[string]int{fmt.Sprintf("K%d", i): 1, "NAME": 1}
		if i%3 == 0 { // more kinds than a record holds
			for k := range 5 {
				in.RedactionsByKind[fmt.Sprintf("X%d_%d", i, k)] = k + 1
			}
		}
		rewritten.UpstreamModel, rewritten.RedactionsByKind = in.UpstreamModel+"-r", in.RedactionsByKind
		if err := s.PutSessions(ctx, in, rewritten); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeSessions(ctx, start.Add(time.Hour)); err != nil || n != 3001 {
		t.Fatalf("PurgeSessions = %d, %v; want 3001, nil", n, err)
	}
	// "", the kept session's model and its two kinds.
	if got, want := len(s.nameIDs), 3; got != want {
		t.Errorf("%d interned names after the purge, want %d: %v", got, want, s.nameIDs)
	}
	if got, want := len(s.names)-len(s.nameFree), len(s.nameIDs); got != want {
		t.Errorf("%d names in use, want %d", got, want)
	}
	// Names freed are used again, and the kept session reads back whole.
	slots := len(s.names)
	again := newSession(a)
	again.UpstreamModel, again.RedactionsByKind = "claude", map[string]int{"DOB": 3, "NAME": 4}
	if err := s.PutSessions(ctx, again); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListSessions(ctx, sessions.Filter{AccountID: a.AccountID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	kept.AgentName, again.AgentName = a.Name, a.Name
	if diff := cmp.Diff([]sessions.Session{kept, again}, page.Sessions); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}
	if got := len(s.names); got != slots {
		t.Errorf("%d name slots, want %d: the freed ones used again", got, slots)
	}
}

// TestWakeReleased checks that a tail that ends while it waits (its context ends, with no write
// to wake it) leaves nothing in the map of waiting tails, while the tails still waiting on the
// same account keep their entry and are woken by the next write.
func TestWakeReleased(t *testing.T) {
	s := New()
	defer s.Close()
	tail := func(ctx context.Context, account string, got chan<- sessions.Session) chan error {
		done := make(chan error, 1)
		go func() {
			done <- s.Tail(ctx, sessions.Filter{AccountID: account}, "", func(x sessions.Session, _ string) error {
				got <- x
				return nil
			})
		}()
		return done
	}
	waiting := func(account string) (int, bool) {
		s.wakeMu.Lock()
		defer s.wakeMu.Unlock()
		w, ok := s.wake[account]
		if !ok {
			return 0, false
		}
		return w.n, true
	}
	for i := range 200 {
		account := fmt.Sprintf("acct_%d", i)
		ctx, cancel := context.WithCancel(context.Background())
		done := tail(ctx, account, nil)
		waitIdle(t, s, account)
		cancel()
		<-done
	}
	if n := len(s.wake); n != 0 {
		t.Errorf("%d accounts in the map of waiting tails after every tail ended, want 0", n)
	}

	// Two tails of one account: the one that stays is woken by a write.
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_1"}
	if err := s.PutAgent(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	got := make(chan sessions.Session, 1)
	stay := tail(t.Context(), a.AccountID, got)
	ctx, cancel := context.WithCancel(context.Background())
	leave := tail(ctx, a.AccountID, nil)
	for {
		if n, _ := waiting(a.AccountID); n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-leave
	if n, ok := waiting(a.AccountID); n != 1 || !ok {
		t.Fatalf("%d tails waiting (in the map: %t), want 1", n, ok)
	}
	in := newSession(a)
	if err := s.PutSessions(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	select {
	case x := <-got:
		if x.ID != in.ID {
			t.Errorf("tail got %s, want %s", x.ID, in.ID)
		}
	case err := <-stay:
		t.Fatalf("tail ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the tail that stayed was not woken by the write")
	}
}
