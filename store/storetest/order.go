package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// testOrder checks the list order (StartedAt descending, then ID descending, IDs compared
// bytewise) and keyset pagination: a page starts strictly after any position, including
// positions that no session has, which an OFFSET cannot do, alone and with Until at the same
// instant.
func testOrder(t *testing.T, h *harness) {
	rng := rand.New(rand.NewPCG(seed(t), 1))
	a1 := h.newAgent("acme", "Front desk")
	a2 := h.newAgent("acme", "Billing")

	// Ten instants, six sessions each (ties), with IDs whose order is unrelated to the order
	// in which they are written; inputs with a fraction of a millisecond tie with the whole one.
	var ss []sessions.Session
	for i := range 10 {
		at := base.Add(time.Duration(i*i) * time.Millisecond)
		for j := range 6 {
			s := newSession([]sessions.Agent{a1, a2}[j%2], at, map[string]int{"PHONE": j})
			s.ID = randomSessionID(rng)
			if j == 5 {
				s.StartedAt = at.Add(999_999 * time.Nanosecond).In(zoneIST)
			}
			ss = append(ss, s)
		}
	}
	rng.Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
	h.putInBatches(7, ss)

	for _, f := range []sessions.Filter{
		{AccountID: "acme", Limit: sessions.MaxLimit},
		{AccountID: "acme", Limit: 7},
		{AccountID: "acme", Limit: 1},
		{AccountID: "acme", AgentID: a1.ID, Limit: 4},
		{AccountID: "acme", AgentID: a2.ID, Limit: 5},
	} {
		t.Run(fmt.Sprintf("walk/%s/limit=%d", agentLabel(f, a1, a2), f.Limit), func(t *testing.T) {
			h.with(t).walk(f, nil)
		})
	}

	// Positions of every kind: each session's own, and positions at a tied instant with the
	// smallest and the largest IDs, with no ID, and with a fraction of a millisecond.
	minID := sessions.SessionIDPrefix + strings.Repeat("0", 26)
	maxID := sessions.SessionIDPrefix + "7" + strings.Repeat("Z", 25)
	var positions []sessions.Cursor
	for i, s := range h.model.list(sessions.Filter{AccountID: "acme"}) {
		if i%3 != 0 { // every tie of six still has two
			continue
		}
		positions = append(positions, s.Cursor(),
			sessions.Cursor{StartedAt: s.StartedAt, ID: minID},
			sessions.Cursor{StartedAt: s.StartedAt, ID: maxID},
			sessions.Cursor{StartedAt: s.StartedAt},
			sessions.Cursor{StartedAt: s.StartedAt.Add(500 * time.Microsecond).In(zonePST), ID: s.ID},
			sessions.Cursor{StartedAt: s.StartedAt.Add(-time.Nanosecond)},
		)
	}
	positions = append(positions,
		sessions.Cursor{},
		sessions.Cursor{StartedAt: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)},
		sessions.Cursor{StartedAt: sessions.MinTime},
		sessions.Cursor{StartedAt: sessions.MaxTime, ID: maxID},
		sessions.Cursor{StartedAt: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)},
	)
	t.Run("positions", func(t *testing.T) {
		for _, c := range positions {
			h.with(t).walk(sessions.Filter{AccountID: "acme", After: &c, Limit: 20}, nil)
			h.with(t).walk(sessions.Filter{AccountID: "acme", AgentID: a2.ID, After: &c, Limit: 50}, nil)
			// Until at the instant of a cursor with an ID: the page starts after whichever
			// bound is later in list order, which is Until.
			if c.ID != "" {
				h.with(t).walk(sessions.Filter{AccountID: "acme", Until: c.StartedAt, After: &c, Limit: sessions.MaxLimit}, nil)
			}
		}
	})
}

func agentLabel(f sessions.Filter, agents ...sessions.Agent) string {
	for i, a := range agents {
		if f.AgentID == a.ID {
			return fmt.Sprintf("agent%d", i+1)
		}
	}
	if f.AgentID == "" {
		return "all"
	}
	return "other"
}

// testNextNil checks that Next is nil exactly when nothing further matches, including when the
// last page is full, and when sessions that do not match follow the last one that does.
func testNextNil(t *testing.T, h *harness) {
	cases := []struct {
		name               string
		matching, skipped  int // sessions that match the filter, and that do not
		limit              int
		tied               bool // all matching sessions start at the same instant
		wantPages          int
		wantFirstPageCount int
	}{
		{name: "empty", limit: 10, wantPages: 1},
		{name: "nothing matches", skipped: 5, limit: 10, wantPages: 1},
		{name: "fewer than limit", matching: 3, limit: 10, wantPages: 1, wantFirstPageCount: 3},
		{name: "exactly limit", matching: 10, limit: 10, wantPages: 1, wantFirstPageCount: 10},
		{name: "exactly limit among others", matching: 10, skipped: 40, limit: 10, wantPages: 1, wantFirstPageCount: 10},
		{name: "limit plus one", matching: 11, limit: 10, wantPages: 2, wantFirstPageCount: 10},
		{name: "limit plus one among others", matching: 11, skipped: 40, limit: 10, wantPages: 2, wantFirstPageCount: 10},
		{name: "twice limit", matching: 20, limit: 10, wantPages: 2, wantFirstPageCount: 10},
		{name: "twice limit among others", matching: 20, skipped: 30, limit: 10, wantPages: 2, wantFirstPageCount: 10},
		{name: "limit one", matching: 3, skipped: 3, limit: 1, wantPages: 3, wantFirstPageCount: 1},
		{name: "tied, twice limit", matching: 12, skipped: 4, limit: 6, tied: true, wantPages: 2, wantFirstPageCount: 6},
		{name: "default limit exactly", matching: sessions.DefaultLimit, skipped: 5, wantPages: 1, wantFirstPageCount: sessions.DefaultLimit},
		{name: "default limit plus one", matching: sessions.DefaultLimit + 1, wantPages: 2, wantFirstPageCount: sessions.DefaultLimit},
		{name: "max limit exactly", matching: sessions.MaxLimit, skipped: 10, limit: sessions.MaxLimit, wantPages: 1, wantFirstPageCount: sessions.MaxLimit},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			acct := fmt.Sprintf("next-%02d", i)
			a := h.newAgent(acct, "")
			var ss []sessions.Session
			for j := range tc.matching + tc.skipped {
				at := base.Add(-time.Duration(j) * time.Second)
				s := newSession(a, at, nil)
				switch {
				case j >= tc.matching && j%2 == 0:
					// Skipped sessions newer than every matching one...
					s.StartedAt = base.Add(time.Duration(j) * time.Second)
					s.Status = sessions.StatusError
				case j >= tc.matching:
					// ...and older than every matching one.
					s.Status = sessions.StatusPartial
				case tc.tied:
					s.StartedAt = base
				}
				s.EndedAt = s.StartedAt.Add(794 * time.Millisecond)
				ss = append(ss, s)
			}
			h.putInBatches(50, ss)

			f := sessions.Filter{AccountID: acct, Status: sessions.StatusOK, Limit: tc.limit}
			first, err := h.store.ListSessions(h.ctx, f)
			if err != nil {
				t.Fatalf("ListSessions(%s): %v", formatFilter(f), err)
			}
			if len(first.Sessions) != tc.wantFirstPageCount {
				t.Errorf("first page has %d sessions; want %d", len(first.Sessions), tc.wantFirstPageCount)
			}
			pages := 0
			limits := func() int { pages++; return tc.limit }
			got := h.walk(f, limits)
			if pages != tc.wantPages || len(got) != tc.matching {
				t.Errorf("walk took %d pages for %d sessions; want %d pages for %d", pages, len(got), tc.wantPages, tc.matching)
			}
		})
	}
}

// testWalkDuringWrites checks that a walk returns every session that was there when it began
// exactly once, while another goroutine writes newer, older and tied sessions, and rewrites
// sessions in place. Half the pages wait for a batch to be written before the next page is read;
// the other half run at the same time as the writer. It walks a whole account, then one agent
// from a lower bound.
func testWalkDuringWrites(t *testing.T, h *harness) {
	rng := rand.New(rand.NewPCG(seed(t), 2))
	n := testscale.Pick(400, 1000)
	w := &walkWriter{
		agents: []sessions.Agent{h.newAgent("acme", "A"), h.newAgent("acme", "B"), h.newAgent("acme", "C")},
		other:  h.newAgent("globex", "G"),
		stored: map[string]sessions.Session{},
		oldest: base,
		newest: base.Add(time.Duration(n/4) * time.Second),
	}
	var initial []sessions.Session
	for range n {
		at := base.Add(time.Duration(rng.IntN(n/4)) * time.Second) // ties
		s := newSession(w.agents[rng.IntN(len(w.agents))], at, map[string]int{"NAME": rng.IntN(3)})
		s.ID = randomSessionID(rng)
		initial = append(initial, s)
	}
	h.putInBatches(200, initial)
	for _, s := range initial {
		w.stored[s.ID] = s.Normalize()
	}
	for i, f := range []sessions.Filter{
		{AccountID: "acme"},
		{AccountID: "acme", AgentID: w.agents[0].ID, Since: base.Add(time.Duration(n/16) * time.Second)},
	} {
		t.Run(agentLabel(f, w.agents...), func(t *testing.T) {
			w.walk(t, h, f, rand.New(rand.NewPCG(seed(t), 3+uint64(i))))
		})
	}
}

// walkWriter writes sessions while a walk goes on.
type walkWriter struct {
	agents         []sessions.Agent // of account "acme"
	other          sessions.Agent   // of another account
	stored         map[string]sessions.Session
	oldest, newest time.Time // the range of the initial sessions
}

// walk walks f while a goroutine writes, and checks the walk against the sessions stored when it
// began.
func (w *walkWriter) walk(t *testing.T, h *harness, f sessions.Filter, rng *rand.Rand) {
	var matching []sessions.Session
	for _, s := range w.stored {
		if f.Match(s) {
			matching = append(matching, s)
		}
	}
	slices.SortFunc(matching, compareSessions)
	ids := make([]string, 0, len(w.stored))
	for id := range w.stored {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the writer picks from a sorted list, so that the seed decides

	type kick struct {
		at   sessions.Cursor // the walk's position
		done chan struct{}   // closed when the batch is written, when not nil
	}
	kicks := make(chan kick)
	writerDone := make(chan struct{})
	var written []sessions.Session
	wrng := rand.New(rand.NewPCG(rng.Uint64(), 0))
	go func() {
		defer close(writerDone)
		for k := range kicks {
			var batch []sessions.Session
			for i := range 8 {
				var at time.Time
				switch i % 4 {
				case 0: // newer than the walk's start
					at = w.newest.Add(time.Duration(1+wrng.IntN(1000)) * time.Millisecond)
				case 1: // older than every initial session
					at = w.oldest.Add(-time.Duration(1+wrng.IntN(1000)) * time.Millisecond)
				case 2: // tied with the walk's position
					at = k.at.StartedAt
				case 3: // tied with some stored session
					at = w.stored[ids[wrng.IntN(len(ids))]].StartedAt
				}
				s := newSession(w.agents[wrng.IntN(len(w.agents))], at, nil)
				s.ID = randomSessionID(wrng)
				batch = append(batch, s)
			}
			// Rewrite a stored session in place: new status and counts, same StartedAt.
			s := w.stored[ids[wrng.IntN(len(ids))]]
			s.Status = sessions.StatusPartial
			s.RedactionsByKind = map[string]int{"SSN": 1 + wrng.IntN(3)}
			batch = append(batch, s, newSession(w.other, k.at.StartedAt, nil))
			if err := h.store.PutSessions(h.ctx, batch...); err != nil {
				t.Errorf("PutSessions during the walk: %v", err)
			} else {
				written = append(written, batch...)
			}
			if k.done != nil {
				close(k.done)
			}
		}
	}()

	seen := map[string]bool{}
	var last *sessions.Cursor
	pages := 0
	func() {
		defer func() { close(kicks); <-writerDone }() // also when the walk fails
		for {
			f.Limit = 5 + rng.IntN(30)
			p, err := h.store.ListSessions(h.ctx, f)
			if err != nil {
				t.Fatalf("page %d: ListSessions: %v", pages+1, err)
			}
			pages++
			checkPage(t, f, p)
			for _, s := range p.Sessions {
				if seen[s.ID] {
					t.Errorf("page %d: session %s returned twice", pages, s.ID)
				}
				seen[s.ID] = true
				if last != nil && !last.Before(s.Cursor()) {
					t.Errorf("page %d: session %s at %s is not after the previous one", pages, s.ID, formatTime(s.StartedAt))
				}
				if !f.Match(s) {
					t.Errorf("page %d: session %s does not match %s", pages, s.ID, formatFilter(f))
				}
				last = ptr(s.Cursor())
			}
			if p.Next == nil || t.Failed() {
				return
			}
			f.After = ptr(*p.Next)
			k := kick{at: *p.Next}
			if pages%2 == 0 {
				k.done = make(chan struct{})
				kicks <- k
				<-k.done
			} else {
				select {
				case kicks <- k:
				default: // the writer is still busy with the previous batch
				}
			}
		}
	}()
	for _, s := range written {
		w.stored[s.ID] = s.Normalize()
	}

	missing := 0
	for _, s := range matching {
		if !seen[s.ID] {
			missing++
			if missing <= 5 {
				t.Errorf("session %s at %s, there when the walk began, was not returned", s.ID, formatTime(s.StartedAt))
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d sessions there when the walk began are missing from the walk", missing, len(matching))
	}
	if len(matching) < len(w.stored)/10 || len(written) == 0 {
		t.Errorf("bad case in the suite: a walk over %d sessions while %d were written", len(matching), len(written))
	}
	t.Logf("walked %d pages, %d sessions, while %d sessions were written", pages, len(seen), len(written))
}
