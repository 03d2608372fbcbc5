package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// testSummary checks SummarizeSessions (Run calls it when the store is a sessions.Summarizer): that it equals
// the fold (sessions.NewSummary and Summary.Add) of the sessions that the filter selects, for
// hundreds of random filters (thousands with the large data sets) across writes, upserts and purges; that it validates its filter,
// ignores Limit and After, never counts another account's sessions, and reads one consistent
// state while a concurrent PutSessions moves sessions between statuses.
func testSummary(t *testing.T, h *harness) {
	t.Run("validation", func(t *testing.T) { testSummaryValidation(t, start(t, h.open)) })
	t.Run("empty", func(t *testing.T) { testSummaryEmpty(t, start(t, h.open)) })
	t.Run("differential", func(t *testing.T) { testSummaryDifferential(t, start(t, h.open)) })
	t.Run("consistent", func(t *testing.T) { testSummaryConsistent(t, start(t, h.open)) })
	t.Run("durations past time.Duration", func(t *testing.T) { testSummaryLongDurations(t, start(t, h.open)) })
}

// summarize calls SummarizeSessions, which must succeed.
func (h *harness) summarize(f sessions.Filter) sessions.Summary {
	h.tb.Helper()
	got, err := h.store.(sessions.Summarizer).SummarizeSessions(h.ctx, f)
	if err != nil {
		h.tb.Fatalf("SummarizeSessions(%s): %v", formatFilter(f), err)
	}
	return got
}

// fold returns the summary of ss as sessions.Summary.Add defines it.
func fold(ss []sessions.Session) sessions.Summary {
	m := sessions.NewSummary()
	for _, s := range ss {
		m.Add(s)
	}
	return m
}

// foldAll returns the fold of a walk of f through sessions.All.
func (h *harness) foldAll(f sessions.Filter) sessions.Summary {
	h.tb.Helper()
	m := sessions.NewSummary()
	f.Limit, f.After = 0, nil
	for s, err := range sessions.All(h.ctx, h.store, f) {
		if err != nil {
			h.tb.Fatalf("All(%s): %v", formatFilter(f), err)
		}
		m.Add(s)
	}
	return m
}

func testSummaryValidation(t *testing.T, h *harness) {
	a := h.newAgent("acme", "")
	h.put(newSession(a, base, map[string]int{"NAME": 1}))
	s := h.store.(sessions.Summarizer)
	for _, c := range []struct {
		name  string
		f     sessions.Filter
		field string
	}{
		{"no account", sessions.Filter{AgentID: a.ID}, "AccountID"},
		{"malformed agent", sessions.Filter{AccountID: "acme", AgentID: "agt_nope"}, "AgentID"},
		{"unknown status", sessions.Filter{AccountID: "acme", Status: "OK"}, "Status"},
		{"negative min redactions", sessions.Filter{AccountID: "acme", MinRedactions: -1}, "MinRedactions"},
		{"until before since", sessions.Filter{AccountID: "acme", Since: base, Until: base.Add(-time.Millisecond)}, "Until"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.SummarizeSessions(h.ctx, c.f)
			wantValidation(t, formatFilter(c.f), err, c.field)
			if diff := cmp.Diff(sessions.Summary{}, got); diff != "" {
				t.Errorf("SummarizeSessions(%s) with an error: want a zero Summary (-want +got):\n%s", formatFilter(c.f), diff)
			}
		})
	}
	t.Run("limit and after ignored", func(t *testing.T) {
		h := h.with(t)
		want := fold(h.model.list(sessions.Filter{AccountID: "acme"}))
		for _, f := range []sessions.Filter{
			{AccountID: "acme", Limit: sessions.MaxLimit + 1},
			{AccountID: "acme", Limit: -1},
			{AccountID: "acme", Limit: 1, After: &sessions.Cursor{StartedAt: base.Add(-time.Hour)}},
			{AccountID: "acme", After: &sessions.Cursor{StartedAt: base, ID: "not a session ID"}},
		} {
			if diff := cmp.Diff(want, h.summarize(f)); diff != "" {
				t.Errorf("SummarizeSessions(%s) (-want +got):\n%s", formatFilter(f), diff)
			}
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		_, err := s.SummarizeSessions(ctx, sessions.Filter{AccountID: "acme"})
		wantIs(t, "SummarizeSessions with a cancelled context", err, context.Canceled)
	})
}

// testSummaryEmpty checks the summaries that count nothing: an unknown agent, another account's
// agent, an account without agents, an empty window. Each has all three statuses, with 0.
func testSummaryEmpty(t *testing.T, h *harness) {
	a := h.newAgent("acme", "")
	g := h.newAgent("globex", "")
	h.put(newSession(a, base, map[string]int{"NAME": 2}), newSession(g, base, map[string]int{"PHONE": 1}))
	for _, f := range []sessions.Filter{
		{AccountID: "acme", AgentID: sessions.NewAgentID()},
		{AccountID: "acme", AgentID: g.ID},
		{AccountID: "globex", AgentID: a.ID},
		{AccountID: "initech"},
		{AccountID: "ACME"},
		{AccountID: "acme", Since: base.Add(time.Millisecond)},
		{AccountID: "acme", Until: base},
		{AccountID: "acme", Since: base, Until: base},
		{AccountID: "acme", MinRedactions: 3},
		{AccountID: "acme", Status: sessions.StatusPartial},
	} {
		if diff := cmp.Diff(sessions.NewSummary(), h.summarize(f)); diff != "" {
			t.Errorf("SummarizeSessions(%s): want the empty summary (-want +got):\n%s", formatFilter(f), diff)
		}
	}
	want := fold(h.model.list(sessions.Filter{AccountID: "globex"}))
	if diff := cmp.Diff(want, h.summarize(sessions.Filter{AccountID: "globex"})); diff != "" {
		t.Errorf("globex (-want +got):\n%s", diff)
	}
}

// summaryGenerator returns a generator whose instants spread over three days, with many on or
// next to whole hours (and whole hours in zones a half or three quarters off UTC), so that
// windows begin and end inside hours, on them, and one millisecond off them.
func summaryGenerator(h *harness, rng *rand.Rand) (*generator, []sessions.Agent) {
	g := &generator{rng: rng, accounts: []string{"acme", "Acme", "globex-é"}, agents: map[string][]sessions.Agent{}}
	var active []sessions.Agent
	for _, acct := range g.accounts {
		for i := range 4 {
			a := h.newAgent(acct, fmt.Sprintf("agent %d", i))
			g.agents[acct] = append(g.agents[acct], a)
			if i < 3 {
				active = append(active, a)
			}
		}
	}
	hour0 := base.Truncate(time.Hour).Add(-36 * time.Hour)
	for range 300 {
		g.instants = append(g.instants, hour0.Add(time.Duration(rng.Int64N(int64(72*time.Hour/time.Millisecond)))*time.Millisecond))
	}
	for h := range 72 {
		at := hour0.Add(time.Duration(h) * time.Hour)
		g.instants = append(g.instants, at, at.Add(-time.Millisecond), at.Add(time.Millisecond), at.Add(30*time.Minute))
	}
	g.instants = append(g.instants, sessions.MinTime, sessions.MinTime.Add(time.Hour), sessions.MaxTime)
	return g, active
}

// summarySession returns a random session of a, now and then with a count above any likely cap
// of a store's redaction buckets.
func summarySession(g *generator, a sessions.Agent) sessions.Session {
	s := g.session(a)
	if g.rng.IntN(8) == 0 {
		if s.RedactionsByKind == nil {
			s.RedactionsByKind = map[string]int{}
		}
		s.RedactionsByKind[genKinds[g.rng.IntN(len(genKinds))]] = 5 + g.rng.IntN(40)
	}
	return s
}

// summaryFilter returns a random filter, with MinRedactions around and above the caps of a
// store's buckets.
func summaryFilter(g *generator) sessions.Filter {
	f, _ := g.filter()
	switch r := g.rng.IntN(10); {
	case r < 4:
		f.MinRedactions = 0
	case r < 9:
		f.MinRedactions = g.rng.IntN(50)
	default:
		f.MinRedactions = 1 << 40
	}
	switch g.rng.IntN(10) {
	case 0:
		f.Limit = 1000 // out of range: ignored
	case 1:
		f.Limit = -5
	}
	return f
}

// testSummaryDifferential writes random sessions in rounds (new ones, upserts that change
// status, kinds and times, and purges when the store is a Purger), and after each round
// compares SummarizeSessions for hundreds of random filters with the fold of the model, and some
// of them with the fold of a walk of sessions.All.
func testSummaryDifferential(t *testing.T, h *harness) {
	seed := seed(t)
	g, active := summaryGenerator(h, rand.New(rand.NewPCG(seed, 19)))
	_, purges := h.store.(sessions.Purger)
	rounds, perRound, nFilters := testscale.Pick(3, 6), testscale.Pick(150, 500), testscale.Pick(80, 400)
	var written []sessions.Session
	mismatches, compared := 0, 0
	for round := range rounds {
		// New sessions.
		for n := 0; n < perRound; {
			batch := make([]sessions.Session, 1+g.rng.IntN(150))
			for i := range batch {
				batch[i] = summarySession(g, active[g.rng.IntN(len(active))])
			}
			h.put(batch...)
			written = append(written, batch...)
			n += len(batch)
		}
		// Upserts: new status, kinds and times for old IDs, some twice in a batch.
		for range 3 {
			var batch []sessions.Session
			for range perRound / 10 {
				old := written[g.rng.IntN(len(written))]
				s := summarySession(g, sessions.Agent{ID: old.AgentID, AccountID: old.AccountID})
				s.ID = old.ID
				if g.rng.IntN(3) == 0 {
					s.StartedAt, s.EndedAt = old.StartedAt, old.EndedAt
				}
				batch = append(batch, s)
				if g.rng.IntN(5) == 0 {
					s.Status = g.status()
					batch = append(batch, s)
				}
			}
			h.put(batch...)
		}
		if purges && round%2 == 1 {
			h.purge(g.instants[g.rng.IntN(len(g.instants))].Add(-48 * time.Hour))
		}
		for i := range nFilters {
			f := summaryFilter(g)
			want := fold(h.model.list(f))
			got := h.summarize(f)
			compared++
			if diff := cmp.Diff(want, got); diff != "" {
				mismatches++
				if mismatches <= 5 {
					t.Errorf("round %d, filter %d: SummarizeSessions(%s) differs from the fold of the model (-want +got):\n%s",
						round, i, formatFilter(f), diff)
				}
				continue
			}
			if i%40 == 0 {
				if diff := cmp.Diff(h.foldAll(f), got); diff != "" {
					mismatches++
					t.Errorf("round %d, filter %d: SummarizeSessions(%s) differs from the fold of sessions.All (-want +got):\n%s",
						round, i, formatFilter(f), diff)
				}
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d summaries differ from the fold", mismatches, compared)
	}
	t.Logf("%d sessions written, %d stored, %d summaries compared", len(written), len(h.model.sessions), compared)
}

// testSummaryConsistent summarizes while another goroutine moves every session of an agent
// between two states, each in one PutSessions call: all ok with one set of kinds, or all error
// with another, and start times that cross an hour. Every summary must be one of the two
// states, never a mix.
func testSummaryConsistent(t *testing.T, h *harness) {
	a := h.newAgent("acme", "")
	n, reads := testscale.Pick(60, 300), testscale.Pick(20, 60)
	hour := base.Truncate(time.Hour)
	states := [2][]sessions.Session{}
	for i := range n {
		at := hour.Add(-90 * time.Minute).Add(time.Duration(i) * 3 * time.Hour / time.Duration(n))
		s := newSession(a, at, map[string]int{"NAME": 1, "PHONE": i % 3})
		states[0] = append(states[0], s)
		s.Status = sessions.StatusError
		s.RedactionsByKind = map[string]int{"DOB": 2}
		s.StartedAt = s.StartedAt.Add(time.Duration(i%5) * 17 * time.Minute)
		s.EndedAt = s.StartedAt.Add(time.Minute)
		states[1] = append(states[1], s)
	}
	h.put(states[0]...)
	filters := []sessions.Filter{
		{AccountID: "acme"},
		{AccountID: "acme", AgentID: a.ID},
		{AccountID: "acme", AgentID: a.ID, Since: hour.Add(-61 * time.Minute), Until: hour.Add(2*time.Hour + 7*time.Millisecond)},
	}
	wants := make([][2]sessions.Summary, len(filters))
	for i, f := range filters {
		var w [2]sessions.Summary
		for k, ss := range states {
			m := newModel()
			m.put(ss...)
			w[k] = fold(m.list(f))
		}
		wants[i] = w
	}

	ctx, cancel := context.WithCancel(h.ctx)
	var wg sync.WaitGroup
	var writes atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ctx.Err() == nil; i++ {
			if err := h.store.PutSessions(ctx, states[i%2]...); err != nil {
				if ctx.Err() == nil {
					t.Errorf("PutSessions: %v", err)
				}
				return
			}
			writes.Add(1)
		}
	}()
	defer func() { cancel(); wg.Wait() }()
	seen := [2]int{}
	// At least reads summaries, and on until the writer has switched states a few times, so
	// that summaries meet writes in progress.
	for i := 0; i < reads || writes.Load() < 6; i++ {
		f, w := filters[i%len(filters)], wants[i%len(filters)]
		got := h.summarize(f)
		switch {
		case cmp.Equal(w[0], got):
			seen[0]++
		case cmp.Equal(w[1], got):
			seen[1]++
		default:
			t.Fatalf("SummarizeSessions(%s) during a PutSessions is a mix of two states: want either (-first +got):\n%s\nor (-second +got):\n%s",
				formatFilter(f), cmp.Diff(w[0], got), cmp.Diff(w[1], got))
		}
	}
	t.Logf("%d summaries of the first state, %d of the second", seen[0], seen[1])
}

// testSummaryLongDurations checks summaries of sessions whose durations add up to more than a
// time.Duration holds (292 years): the duration stops at the longest one, as sessions.Summary.Add
// does, and a window that leaves some of those sessions out, at the edges of an hour too, has
// the exact sum of the others.
func testSummaryLongDurations(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	hour := base.Truncate(time.Hour)
	var ss []sessions.Session
	for i, minute := range []int{5, 10, 20, 40, 50} {
		if i%2 == 0 {
			ss = append(ss, newSession(a, hour.Add(time.Duration(minute)*time.Minute), map[string]int{"NAME": i}))
			continue
		}
		// 200 sessions of a year and a day each (about 200 years) at 10 and at 40 minutes past
		// the hour: together about 400 years.
		for k := range 200 {
			s := newSession(a, hour.Add(time.Duration(minute)*time.Minute+time.Duration(k)*time.Millisecond), map[string]int{"NAME": k % 3})
			s.EndedAt = s.StartedAt.Add(sessions.MaxSessionDuration)
			ss = append(ss, s)
		}
	}
	h.put(ss...)
	if d := h.foldAll(sessions.Filter{AccountID: "acme"}).Duration; d != math.MaxInt64 {
		t.Fatalf("the fold's duration is %v: the test wants sessions past the longest time.Duration", d)
	}
	for _, f := range []sessions.Filter{
		{AccountID: "acme"},
		{AccountID: "acme", AgentID: a.ID},
		{AccountID: "acme", Since: hour, Until: hour.Add(time.Hour)},                              // the hour, from its rollups
		{AccountID: "acme", Since: hour.Add(15 * time.Minute), Until: hour.Add(time.Hour)},        // less the part before: 200 years, exact
		{AccountID: "acme", Since: hour.Add(15 * time.Minute), Until: hour.Add(35 * time.Minute)}, // no long session
		{AccountID: "acme", Since: hour, Until: hour.Add(45 * time.Minute)},                       // both groups: past 292 years
		{AccountID: "acme", MinRedactions: 1},
	} {
		if diff := cmp.Diff(h.foldAll(f), h.summarize(f)); diff != "" {
			t.Errorf("SummarizeSessions(%s) (-fold +got):\n%s", formatFilter(f), diff)
		}
	}
}
