package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

var start = time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)

// storeWithAgent returns a new store holding one agent, and the agent.
func storeWithAgent(t *testing.T) (*Store, sessions.Agent) {
	t.Helper()
	s := New()
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_1"}
	if err := s.PutAgent(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return s, a
}

// newSession returns a new session of a, started at start.
func newSession(a sessions.Agent) sessions.Session {
	return sessions.Session{ID: sessions.NewSessionID(start), AccountID: a.AccountID, AgentID: a.ID,
		StartedAt: start, EndedAt: start.Add(time.Minute), Status: sessions.StatusOK}
}

// TestMoreKinds checks the sessions whose kinds do not fit in a record: kept through upserts to
// fewer and more kinds, and dropped with the session.
func TestMoreKinds(t *testing.T) {
	ctx := context.Background()
	s, a := storeWithAgent(t)
	in := newSession(a)
	many := map[string]int{"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6}
	few := map[string]int{"NAME": 7}
	for _, kinds := range []map[string]int{many, few, many} {
		in.RedactionsByKind = kinds
		if err := s.PutSessions(ctx, in); err != nil {
			t.Fatal(err)
		}
		page, err := s.ListSessions(ctx, sessions.Filter{AccountID: a.AccountID, AgentID: a.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Sessions) != 1 {
			t.Fatalf("got %d sessions, want 1", len(page.Sessions))
		}
		if diff := cmp.Diff(kinds, page.Sessions[0].RedactionsByKind); diff != "" {
			t.Errorf("RedactionsByKind (-want +got):\n%s", diff)
		}
		if got, want := len(s.moreKinds), len(kinds)/len(many); got != want {
			t.Errorf("moreKinds holds %d records, want %d", got, want)
		}
	}
	if n, err := s.PurgeSessions(ctx, in.StartedAt.Add(time.Millisecond)); n != 1 || err != nil {
		t.Fatalf("PurgeSessions = %d, %v; want 1, nil", n, err)
	}
	if len(s.moreKinds) != 0 || len(s.ids) != 0 || len(s.records.free) != 1 {
		t.Errorf("after purge: %d moreKinds, %d ids, %d free records; want 0, 0, 1", len(s.moreKinds), len(s.ids), len(s.records.free))
	}
}

// TestFull checks that a store whose record numbers are used up refuses a batch whole.
func TestFull(t *testing.T) {
	ctx := context.Background()
	s, a := storeWithAgent(t)
	if err := s.PutSessions(ctx, newSession(a)); err != nil {
		t.Fatal(err)
	}
	s.records.used = maxRecords - 1 // one number left
	if err := s.PutSessions(ctx, newSession(a), newSession(a)); !errors.Is(err, sessions.ErrUnavailable) {
		t.Fatalf("PutSessions of 2 with 1 number left = %v, want ErrUnavailable", err)
	}
	if len(s.ids) != 1 {
		t.Errorf("store holds %d sessions after a refused batch, want 1", len(s.ids))
	}
	if !s.records.full(2) || s.records.full(1) {
		t.Errorf("full(1), full(2) = %v, %v; want false, true", s.records.full(1), s.records.full(2))
	}
}
