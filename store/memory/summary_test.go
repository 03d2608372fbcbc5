package memory_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oklog/ulid/v2"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/memory"
)

var _ sessions.Summarizer = (*memory.Store)(nil)

// fold returns the summary of what a walk of f yields: the definition SummarizeSessions equals.
func fold(tb testing.TB, s sessions.Store, f sessions.Filter) sessions.Summary {
	tb.Helper()
	f.Limit = 0
	sum := sessions.NewSummary()
	for sess, err := range sessions.All(context.Background(), s, f) {
		if err != nil {
			tb.Fatalf("All(%+v): %v", f, err)
		}
		sum.Add(sess)
	}
	return sum
}

// summaryWorld is a store with two accounts of a few agents, filled with random sessions whose
// start times fall within a few hours of base, at millisecond and sub-hour granularity.
type summaryWorld struct {
	store    *memory.Store
	rng      *rand.Rand
	base     time.Time
	accounts []string
	agents   map[string][]string // account -> agent IDs
	ids      []sessions.Session  // every session written, for upserts
}

func newSummaryWorld(tb testing.TB, seed int64) *summaryWorld {
	tb.Helper()
	w := &summaryWorld{
		store:    memory.New(),
		rng:      rand.New(rand.NewSource(seed)),
		base:     time.Date(2026, 5, 3, 12, 0, 0, 0, time.UTC),
		accounts: []string{"acct_a", "acct_b"},
		agents:   map[string][]string{},
	}
	n := uint64(0)
	for _, acct := range w.accounts {
		for range 3 {
			n++
			id := sessions.AgentIDPrefix + ulid.ULID{15: byte(n)}.String()
			if err := w.store.PutAgent(context.Background(), sessions.Agent{ID: id, AccountID: acct, Name: fmt.Sprint("agent ", n)}); err != nil {
				tb.Fatal(err)
			}
			w.agents[acct] = append(w.agents[acct], id)
		}
	}
	return w
}

var summaryKinds = []string{"NAME", "PHONE", "DOB", "EMAIL", "SSN", "ADDRESS", "MRN"}

// session returns a random session with this ID, account and agent.
func (w *summaryWorld) session(id, acct, agent string) sessions.Session {
	start := w.base.Add(time.Duration(w.rng.Int63n(int64(6 * time.Hour)))).Truncate(time.Millisecond)
	if w.rng.Intn(5) == 0 {
		start = start.Truncate(time.Hour) // on an hour edge
	}
	kinds := map[string]int{}
	for range w.rng.Intn(7) { // up to 6 kinds: some above the store's inline kinds
		kinds[summaryKinds[w.rng.Intn(len(summaryKinds))]] = w.rng.Intn(4)
	}
	return sessions.Session{
		ID: id, AccountID: acct, AgentID: agent,
		StartedAt:        start,
		EndedAt:          start.Add(time.Duration(w.rng.Intn(600_000)) * time.Millisecond),
		Status:           []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}[w.rng.Intn(3)],
		RedactionsByKind: kinds,
		UpstreamModel:    "gpt-4o-mini",
	}
}

// write adds n new sessions, and rewrites (upserts) about a quarter as many old ones with new
// times, status and kinds.
func (w *summaryWorld) write(tb testing.TB, n int) {
	tb.Helper()
	var batch []sessions.Session
	for range n {
		acct := w.accounts[w.rng.Intn(len(w.accounts))]
		agents := w.agents[acct]
		id := sessions.SessionIDPrefix + ulid.MustNew(uint64(w.rng.Int63n(1<<40)), w.rng).String()
		s := w.session(id, acct, agents[w.rng.Intn(len(agents))])
		w.ids = append(w.ids, s)
		batch = append(batch, s)
	}
	for range n / 4 {
		old := w.ids[w.rng.Intn(len(w.ids))]
		batch = append(batch, w.session(old.ID, old.AccountID, old.AgentID))
	}
	// A batch must not hold one ID twice; write the upserts one by one.
	if err := w.store.PutSessions(context.Background(), batch[:n]...); err != nil {
		tb.Fatal(err)
	}
	for _, s := range batch[n:] {
		if err := w.store.PutSessions(context.Background(), s); err != nil {
			tb.Fatal(err)
		}
	}
}

// filter returns a random filter of the world, with bounds inside hours, at hour edges, or
// absent.
func (w *summaryWorld) filter() sessions.Filter {
	acct := w.accounts[w.rng.Intn(len(w.accounts))]
	f := sessions.Filter{AccountID: acct}
	switch w.rng.Intn(4) {
	case 0, 1:
		f.AgentID = w.agents[acct][w.rng.Intn(len(w.agents[acct]))]
	case 2:
		f.AgentID = sessions.AgentIDPrefix + ulid.ULID{15: 200}.String() // unknown
	}
	bound := func() time.Time {
		switch w.rng.Intn(5) {
		case 0:
			return time.Time{}
		case 1:
			return w.base.Add(time.Duration(w.rng.Intn(7)) * time.Hour) // an hour edge
		case 2:
			return w.ids[w.rng.Intn(len(w.ids))].StartedAt // exactly a session's start
		}
		return w.base.Add(time.Duration(w.rng.Int63n(int64(7 * time.Hour)))) // inside an hour, sub-millisecond
	}
	f.Since, f.Until = bound(), bound()
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		f.Since, f.Until = f.Until, f.Since
	}
	if w.rng.Intn(3) == 0 {
		f.Status = []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}[w.rng.Intn(3)]
	}
	if w.rng.Intn(3) == 0 {
		f.MinRedactions = w.rng.Intn(8)
	}
	if w.rng.Intn(5) == 0 { // ignored by SummarizeSessions
		f.Limit = 1 + w.rng.Intn(sessions.MaxLimit)
		f.After = &sessions.Cursor{StartedAt: w.base}
	}
	return f
}

// TestSummarizeSessionsFold checks SummarizeSessions against the fold of a walk for random
// filters, across writes, upserts and purges.
func TestSummarizeSessionsFold(t *testing.T) {
	ctx := context.Background()
	w := newSummaryWorld(t, 1)
	mismatches := 0
	for round := range 8 {
		w.write(t, 400)
		if round%3 == 2 {
			cut := w.base.Add(time.Duration(round) * 20 * time.Minute)
			if _, err := w.store.PurgeSessions(ctx, cut); err != nil {
				t.Fatal(err)
			}
		}
		for range 150 {
			f := w.filter()
			got, err := w.store.SummarizeSessions(ctx, f)
			if err != nil {
				t.Fatalf("SummarizeSessions(%+v): %v", f, err)
			}
			walk := f
			walk.After = nil
			if diff := cmp.Diff(fold(t, w.store, walk), got); diff != "" {
				mismatches++
				if mismatches <= 3 {
					t.Errorf("round %d: SummarizeSessions(%+v) (-fold +got):\n%s", round, f, diff)
				}
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d mismatches with the fold", mismatches)
	}
}

func TestSummarizeSessionsEmpty(t *testing.T) {
	ctx := context.Background()
	w := newSummaryWorld(t, 2)
	for name, f := range map[string]sessions.Filter{
		"no sessions":   {AccountID: "acct_a"},
		"unknown agent": {AccountID: "acct_a", AgentID: sessions.AgentIDPrefix + ulid.ULID{15: 200}.String()},
		"other account": {AccountID: "acct_b", AgentID: w.agents["acct_a"][0]},
	} {
		got, err := w.store.SummarizeSessions(ctx, f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(sessions.NewSummary(), got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestSummarizeSessionsErrors(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	var ve *sessions.ValidationError
	if _, err := s.SummarizeSessions(ctx, sessions.Filter{AccountID: "acct_a", Status: "bad"}); !errors.As(err, &ve) || ve.Field != "Status" {
		t.Errorf("bad status: got %v, want a ValidationError on Status", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.SummarizeSessions(cancelled, sessions.Filter{AccountID: "acct_a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v, want context.Canceled", err)
	}
	_ = s.Close()
	if _, err := s.SummarizeSessions(ctx, sessions.Filter{AccountID: "acct_a"}); !errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("closed store: got %v, want ErrUnavailable", err)
	}
}

// TestSummarizeSessionsConsistent checks that a summary never sees half of a PutSessions: every
// batch writes two sessions of the agent, so every summary counts an even number of them.
func TestSummarizeSessionsConsistent(t *testing.T) {
	ctx := context.Background()
	w := newSummaryWorld(t, 3)
	agent := w.agents["acct_a"][0]
	done := make(chan error)
	go func() {
		for i := range 300 {
			a := w.session(sessions.SessionIDPrefix+ulid.ULID{0: 1, 14: byte(i >> 8), 15: byte(i)}.String(), "acct_a", agent)
			b := w.session(sessions.SessionIDPrefix+ulid.ULID{0: 2, 14: byte(i >> 8), 15: byte(i)}.String(), "acct_a", agent)
			if err := w.store.PutSessions(ctx, a, b); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		sum, err := w.store.SummarizeSessions(ctx, sessions.Filter{AccountID: "acct_a", AgentID: agent})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Sessions%2 != 0 {
			t.Fatalf("summary counts %d sessions: half of a batch", sum.Sessions)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
	}
}
