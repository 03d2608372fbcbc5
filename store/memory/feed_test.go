package memory

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

var (
	_ sessions.Tailer          = (*Store)(nil)
	_ sessions.PositionChecker = (*Store)(nil)
)

// errEnough stops a tail once it has what the test waits for.
var errEnough = errors.New("enough")

// tailed is a session as a tail delivered it.
type tailed struct {
	ID       string
	Status   sessions.Status
	Position uint64
}

// tailN tails f after the position after until it has n sessions, and returns them.
func tailN(tb testing.TB, s *Store, f sessions.Filter, after string, n int) []tailed {
	tb.Helper()
	var got []tailed
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n == 0 {
		return nil
	}
	err := s.Tail(ctx, f, after, func(ss sessions.Session, pos string) error {
		p, err := s.parsePosition(pos)
		if err != nil {
			tb.Fatalf("position %q: %v", pos, err)
		}
		got = append(got, tailed{ss.ID, ss.Status, p})
		if len(got) == n {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		tb.Fatalf("Tail: %v after %d sessions, want %d", err, len(got), n)
	}
	return got
}

// tailPosition returns the store's TailPosition.
func tailPosition(tb testing.TB, s *Store) string {
	tb.Helper()
	p, err := s.TailPosition(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// put writes the sessions.
func put(tb testing.TB, s *Store, ss ...sessions.Session) {
	tb.Helper()
	if err := s.PutSessions(context.Background(), ss...); err != nil {
		tb.Fatal(err)
	}
}

// ids returns the IDs of what a tail delivered.
func ids(ts []tailed) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// TestTailOrder checks that a tail delivers the writes after its position in the order they were
// written, with growing positions; a session written again once more with its new content; and a
// session rewritten before the tail reaches it once, with its newest content.
func TestTailOrder(t *testing.T) {
	s, a := storeWithAgent(t)
	f := sessions.Filter{AccountID: a.AccountID}
	before := newSession(a)
	put(t, s, before)
	from := tailPosition(t, s)
	x, y := newSession(a), newSession(a)
	put(t, s, x, y)
	got := tailN(t, s, f, from, 2)
	if diff := cmp.Diff([]string{x.ID, y.ID}, ids(got)); diff != "" {
		t.Errorf("Tail (-want +got):\n%s", diff)
	}
	if got[1].Position <= got[0].Position {
		t.Errorf("positions do not grow: %v", got)
	}

	x2 := x
	x2.Status = sessions.StatusError
	put(t, s, x2)
	resumed := tailN(t, s, f, s.formatPosition(got[1].Position), 1)
	if diff := cmp.Diff([]tailed{{x.ID, sessions.StatusError, got[1].Position + 1}}, resumed); diff != "" {
		t.Errorf("Tail resumed (-want +got):\n%s", diff)
	}

	// From the start of the feed: the first write of x was replaced, so it is skipped.
	got = tailN(t, s, f, s.formatPosition(0), 3)
	want := []tailed{{before.ID, sessions.StatusOK, 1}, {y.ID, sessions.StatusOK, 3}, {x.ID, sessions.StatusError, 4}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tail from 0 (-want +got):\n%s", diff)
	}
}

// TestTailFilter checks that a tail delivers only what its filter selects, and never another
// account's sessions.
func TestTailFilter(t *testing.T) {
	ctx := context.Background()
	s, a := storeWithAgent(t)
	b := sessions.Agent{ID: sessions.NewAgentID(), AccountID: a.AccountID}
	other := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_2"}
	for _, ag := range []sessions.Agent{b, other} {
		if err := s.PutAgent(ctx, ag); err != nil {
			t.Fatal(err)
		}
	}
	from := tailPosition(t, s)
	ok1 := newSession(a)
	failed := newSession(a)
	failed.Status = sessions.StatusError
	redacted := newSession(b)
	redacted.RedactionsByKind = map[string]int{"PHONE": 2, "NAME": 1}
	foreign := newSession(other)
	put(t, s, ok1, foreign, failed, redacted)
	last := newSession(a) // ends every tail below
	last.Status = sessions.StatusPartial
	last.RedactionsByKind = map[string]int{"DOB": 5}
	put(t, s, last)

	for _, c := range []struct {
		name string
		f    sessions.Filter
		want []string
	}{
		{"account", sessions.Filter{AccountID: a.AccountID}, []string{ok1.ID, failed.ID, redacted.ID, last.ID}},
		{"other account", sessions.Filter{AccountID: other.AccountID}, []string{foreign.ID}},
		{"agent", sessions.Filter{AccountID: a.AccountID, AgentID: a.ID}, []string{ok1.ID, failed.ID, last.ID}},
		{"agent of another account", sessions.Filter{AccountID: a.AccountID, AgentID: other.ID}, nil},
		{"status", sessions.Filter{AccountID: a.AccountID, Status: sessions.StatusError}, []string{failed.ID}},
		{"min redactions", sessions.Filter{AccountID: a.AccountID, MinRedactions: 3}, []string{redacted.ID, last.ID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, ss := range drain(t, s, c.f, from) {
				if ss.AccountID != c.f.AccountID {
					t.Errorf("session %s of account %s", ss.ID, ss.AccountID)
				}
				got = append(got, ss.ID)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Tail (-want +got):\n%s", diff)
			}
		})
	}
}

// drain reads the feed as Tail does, after the position after, up to its end.
func drain(tb testing.TB, s *Store, f sessions.Filter, after string) []sessions.Session {
	tb.Helper()
	at, err := s.parsePosition(after)
	if err != nil {
		tb.Fatal(err)
	}
	var out []sessions.Session
	for {
		batch, next, wait, err := s.readFeed(context.Background(), f, at)
		if err != nil {
			tb.Fatal(err)
		}
		for _, b := range batch {
			out = append(out, b.s)
		}
		if wait != nil {
			s.unwait(f.AccountID, wait)
			return out
		}
		at = next
	}
}

// waitIdle returns once a tail of the account waits for writes: it has read the whole feed. It
// knows only the first tail to wait since the last write.
func waitIdle(tb testing.TB, s *Store, accountID string) {
	tb.Helper()
	for {
		s.wakeMu.Lock()
		_, waiting := s.wake[accountID]
		s.wakeMu.Unlock()
		if waiting {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestTailWakes checks that a tail waiting at the end of the feed receives the next write.
func TestTailWakes(t *testing.T) {
	s, a := storeWithAgent(t)
	got := make(chan string)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = s.Tail(ctx, sessions.Filter{AccountID: a.AccountID}, "", func(ss sessions.Session, _ string) error {
			got <- ss.ID
			return nil
		})
	}()
	waitIdle(t, s, a.AccountID)
	for range 3 {
		in := newSession(a)
		put(t, s, in)
		if id := <-got; id != in.ID {
			t.Errorf("got %s, want %s", id, in.ID)
		}
	}
}

// TestTailChain runs writers that create and rewrite sessions while a chain of tails, each
// stopped at a random place and resumed from the last position it delivered, follows the
// feed. The chain must deliver the latest write of every session, and no write twice.
func TestTailChain(t *testing.T) {
	s, a := storeWithAgent(t)
	from := tailPosition(t, s)
	const writers, writes = 4, 300
	var mu sync.Mutex
	latest := map[string]int{} // session ID -> the redaction count of its latest write
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []sessions.Session
			for i := range writes {
				var in sessions.Session
				if len(mine) > 0 && rnd.IntN(3) == 0 {
					in = mine[rnd.IntN(len(mine))] // an upsert
				} else {
					in = newSession(a)
					mine = append(mine, in)
				}
				in.RedactionsByKind = map[string]int{"NAME": i + 1}
				mu.Lock() // so that latest follows the order of the writes
				if err := s.PutSessions(context.Background(), in); err != nil {
					mu.Unlock()
					t.Error(err)
					return
				}
				latest[in.ID] = i + 1
				mu.Unlock()
			}
		}()
	}

	type write struct {
		id    string
		count int
	}
	seen := map[string]bool{} // position -> delivered
	var delivered []write
	rnd := rand.New(rand.NewPCG(7, 7))
	after := from
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	end := "" // the last position, once the writers are done
	for end == "" || after != end {
		select {
		case <-finished:
			if end = tailPosition(t, s); after == end { // the last write: the tails go on up to it
				continue
			}
		default:
		}
		stopAfter := 1 + rnd.IntN(50)
		n := 0
		// A tail that waits when the writers are done stops, and the next one goes on to end.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		last := end != ""
		go func() {
			select {
			case <-finished:
				if !last {
					cancel()
				}
			case <-ctx.Done():
			}
		}()
		err := s.Tail(ctx, sessions.Filter{AccountID: a.AccountID}, after, func(ss sessions.Session, pos string) error {
			if seen[pos] {
				t.Fatalf("position %s delivered twice", pos)
			}
			seen[pos] = true
			delivered = append(delivered, write{ss.ID, ss.RedactionCount()})
			after = pos
			if n++; n == stopAfter || pos == end {
				return errEnough
			}
			return nil
		})
		cancel()
		if !errors.Is(err, errEnough) && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
	last := map[string]int{}
	for _, w := range delivered {
		last[w.id] = w.count
	}
	if diff := cmp.Diff(latest, last); diff != "" {
		t.Errorf("the latest writes (-written +delivered last):\n%s", diff)
	}
}

// TestTailPurged checks that a purged session is not delivered.
func TestTailPurged(t *testing.T) {
	ctx := context.Background()
	s, a := storeWithAgent(t)
	from := tailPosition(t, s)
	old := newSession(a)
	old.StartedAt, old.EndedAt = start.Add(-48*time.Hour), start.Add(-47*time.Hour)
	kept := newSession(a)
	put(t, s, old, kept)
	if n, err := s.PurgeSessions(ctx, start.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("PurgeSessions: %d, %v", n, err)
	}
	// A session that reuses the purged record comes after.
	reused := newSession(a)
	put(t, s, reused)
	got := tailN(t, s, sessions.Filter{AccountID: a.AccountID}, from, 2)
	if diff := cmp.Diff([]string{kept.ID, reused.ID}, ids(got)); diff != "" {
		t.Errorf("Tail (-want +got):\n%s", diff)
	}
}

// TestTailErrors checks what Tail returns when it does not deliver.
func TestTailErrors(t *testing.T) {
	s, a := storeWithAgent(t)
	put(t, s, newSession(a))
	f := sessions.Filter{AccountID: a.AccountID}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	errFn := errors.New("from fn")
	var invalid *sessions.ValidationError
	for _, c := range []struct {
		name  string
		ctx   context.Context
		f     sessions.Filter
		after string
		is    func(error) bool
	}{
		{"fn's error", context.Background(), f, s.formatPosition(0), func(err error) bool { return err == errFn }},
		{"cancelled", cancelled, f, s.formatPosition(0), func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"no account", context.Background(), sessions.Filter{}, "", func(err error) bool { return errors.As(err, &invalid) }},
		{"limit", context.Background(), sessions.Filter{AccountID: "acct_1", Limit: 5}, "", func(err error) bool { return errors.As(err, &invalid) }},
		{"since", context.Background(), sessions.Filter{AccountID: "acct_1", Since: start}, "", func(err error) bool { return errors.As(err, &invalid) }},
		{"malformed position", context.Background(), f, "x1", func(err error) bool { return errors.As(err, &invalid) }},
		{"padded position", context.Background(), f, s.formatPosition(0) + "1", func(err error) bool { return errors.As(err, &invalid) }},
		{"number alone position", context.Background(), f, "1", func(err error) bool { return errors.As(err, &invalid) }},
		{"position not handed out", context.Background(), f, s.formatPosition(99), func(err error) bool { return errors.As(err, &invalid) }},
		{"another store's position", context.Background(), f, New().formatPosition(0), func(err error) bool { return errors.As(err, &invalid) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.Tail(c.ctx, c.f, c.after, func(sessions.Session, string) error { return errFn })
			if !c.is(err) {
				t.Errorf("Tail: %v", err)
			}
			// CheckPosition refuses the positions that Tail refuses, and takes the others.
			if err := s.CheckPosition(context.Background(), c.after); errors.As(err, &invalid) != strings.Contains(c.name, "position") {
				t.Errorf("CheckPosition(%q) = %v", c.after, err)
			}
		})
	}
}

// TestTailClose checks that closing the store ends a waiting tail with ErrUnavailable.
func TestTailClose(t *testing.T) {
	s, a := storeWithAgent(t)
	done := make(chan error, 1)
	go func() {
		done <- s.Tail(context.Background(), sessions.Filter{AccountID: a.AccountID}, "", func(sessions.Session, string) error { return nil })
	}()
	waitIdle(t, s, a.AccountID)
	s.Close()
	if err := <-done; !errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("Tail after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.TailPosition(context.Background()); !errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("TailPosition after Close: %v, want ErrUnavailable", err)
	}
}

// TestFeedCompaction checks that the log of an account drops the entries of rewritten sessions,
// so that it stays within twice the sessions it holds, and that a tail still reads it right.
func TestFeedCompaction(t *testing.T) {
	s, a := storeWithAgent(t)
	ss := make([]sessions.Session, 10)
	for i := range ss {
		ss[i] = newSession(a)
	}
	for range 500 {
		put(t, s, ss...)
	}
	if n := len(s.feeds[a.AccountID].log); n > max(feedCompactMin, 2*len(ss)) {
		t.Errorf("log holds %d entries for %d sessions", n, len(ss))
	}
	got := tailN(t, s, sessions.Filter{AccountID: a.AccountID}, s.formatPosition(0), len(ss))
	var want []string
	for _, in := range ss {
		want = append(want, in.ID)
	}
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Errorf("Tail (-want +got):\n%s", diff)
	}
}
