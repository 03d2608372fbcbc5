package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/storetest"
)

// TestTailTwoStores runs the feed rules with two stores on one file, as two processes have them:
// the writes of one reach the tails of the other by polling, here every 10 ms rather than every
// second.
func TestTailTwoStores(t *testing.T) {
	storetest.RunTail(t, func(t *testing.T) (sessions.Store, sessions.Store) {
		path := filepath.Join(t.TempDir(), "sessions.db")
		a, b := mustOpen(t, path), mustOpen(t, path)
		a.tailPoll, b.tailPoll = 10*time.Millisecond, 10*time.Millisecond
		return a, b
	})
}

// TestTailChunkedCall checks the feed of PutSessions calls that span several statements (at
// most 7 sessions each, as TestConformanceChunked writes): a tail from before them receives each
// session once, in the order of the writes, at distinct positions: the 20 of the first call but
// one, then the 10 of the second, the first of which rewrites that one (a session rewritten
// before the tail reaches it comes once, with its newest content).
func TestTailChunkedCall(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s := newTestStore(t)
	s.putChunk = 7
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	if err := s.PutAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	from, err := s.TailPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	newSessions := func(start time.Time, n int) []sessions.Session {
		var ss []sessions.Session
		for i := range n {
			at := start.Add(time.Duration(i) * time.Second)
			ss = append(ss, sessions.Session{ID: sessions.NewSessionID(at), AccountID: a.AccountID, AgentID: a.ID,
				StartedAt: at, EndedAt: at.Add(time.Minute), Status: sessions.StatusOK})
		}
		return ss
	}
	base := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	first := newSessions(base, 20)
	rewrite := first[3]
	rewrite.Status = sessions.StatusError
	second := append([]sessions.Session{rewrite}, newSessions(base.Add(time.Hour), 9)...)
	for _, call := range [][]sessions.Session{first, second} {
		if err := s.PutSessions(ctx, call...); err != nil {
			t.Fatal(err)
		}
	}

	var want []string
	for _, x := range append(slices.Delete(slices.Clone(first), 3, 4), second...) {
		want = append(want, x.ID+" "+string(x.Status))
	}
	var got []string
	positions := map[string]bool{}
	errDone := errors.New("done")
	err = s.Tail(ctx, sessions.Filter{AccountID: a.AccountID}, from, func(x sessions.Session, pos string) error {
		got = append(got, x.ID+" "+string(x.Status))
		if positions[pos] {
			t.Errorf("position %s delivered twice", pos)
		}
		positions[pos] = true
		if len(got) == len(want) {
			return errDone
		}
		return nil
	})
	if err != errDone {
		t.Fatalf("Tail returned %v after %d sessions; want all %d", err, len(got), len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tail of two chunked calls (-want +got):\n%s", diff)
	}
}

// TestTailForeignPositions checks that a tail refuses, before it delivers anything, a position
// of another database's feed, and one ahead of its feed (from a copy of the file made before
// the position was handed out), with a *sessions.ValidationError from both CheckPosition and
// Tail; and that a position of the format before migration 0008, a number alone, is still read
// as this database's.
func TestTailForeignPositions(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	a, other := mustOpen(t, filepath.Join(dir, "a.db")), mustOpen(t, filepath.Join(dir, "other.db"))
	if _, err := a.write.ExecContext(ctx, "VACUUM INTO ?", filepath.Join(dir, "copy.db")); err != nil {
		t.Fatal(err)
	}
	older := mustOpen(t, filepath.Join(dir, "copy.db"))
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
	for _, s := range []*Store{a, other, older} {
		if err := s.PutAgent(ctx, agent); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	x := sessions.Session{ID: sessions.NewSessionID(at), AccountID: "acme", AgentID: agent.ID, StartedAt: at, EndedAt: at, Status: sessions.StatusOK}
	if err := a.PutSessions(ctx, x); err != nil {
		t.Fatal(err)
	}
	end, err := a.TailPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := sessions.Filter{AccountID: "acme"}
	for _, c := range []struct {
		name string
		s    *Store
		p    string
	}{
		{"another database's", other, end},
		{"ahead of a copy made before it", older, end},
		{"a number alone, ahead", a, "1000"},
		{"an identity that is not hex", a, "xyz.1"},
	} {
		var verr *sessions.ValidationError
		if err := c.s.CheckPosition(ctx, c.p); !errors.As(err, &verr) || verr.Field != "after" {
			t.Errorf("%s: CheckPosition(%q) = %v; want a ValidationError of after", c.name, c.p, err)
		}
		err := c.s.Tail(ctx, f, c.p, func(sessions.Session, string) error { return errors.New("delivered") })
		if !errors.As(err, &verr) || verr.Field != "after" {
			t.Errorf("%s: Tail(%q) = %v; want a ValidationError of after", c.name, c.p, err)
		}
	}
	for _, p := range []string{end, "0", ""} {
		if err := a.CheckPosition(ctx, p); err != nil {
			t.Errorf("CheckPosition(%q) = %v; want nil", p, err)
		}
	}
	// The number alone of the format before migration 0008 resumes in this database.
	errDone := errors.New("done")
	err = a.Tail(ctx, f, "0", func(got sessions.Session, pos string) error {
		if got.ID != x.ID || pos != end {
			t.Errorf("Tail from 0: %s at %s; want %s at %s", got.ID, pos, x.ID, end)
		}
		return errDone
	})
	if !errors.Is(err, errDone) {
		t.Errorf("Tail from 0 = %v", err)
	}
}
