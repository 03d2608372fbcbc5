package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// tailTimeout bounds every wait of the tail subtests for a delivery: a deadline that fails the
// test with what was delivered so far, never a sleep that decides an outcome.
const tailTimeout = 30 * time.Second

// errStop is what the tail subtests' fn returns to end a tail.
var errStop = errors.New("storetest: stop the tail")

// RunTail checks the feed rules of [sessions.Tailer] across two stores on the same database, as
// two replicas of an application have: open returns two stores (a and b) over one fresh, empty
// database, both of which must implement sessions.Tailer. Every tail subtest of [Run] runs with
// its writes through a and its tails through b, and "BothWriters" writes through both at once
// while tails read from each. Like Run, it never closes the stores: open does, with t.Cleanup.
func RunTail(t *testing.T, open func(t *testing.T) (a, b sessions.Store)) {
	t.Helper()
	runTailRules(t, func(t *testing.T) *feed {
		a, b := open(t)
		return newFeed(t, tailerOf(t, b), a)
	})
	t.Run("BothWriters", func(t *testing.T) {
		a, b := open(t)
		for _, tailer := range []sessions.Store{a, b} {
			f := newFeed(t, tailerOf(t, tailer), a, b)
			testTailConcurrent(t, f)
		}
	})
}

// testTail runs the tail rules on h's store, which writes and tails alike.
func testTail(t *testing.T, h *harness) {
	runTailRules(t, func(t *testing.T) *feed {
		s := h.open(t)
		return newFeed(t, tailerOf(t, s), s)
	})
}

// runTailRules runs one subtest per feed rule, each on a fresh feed.
func runTailRules(t *testing.T, open func(t *testing.T) *feed) {
	rules := []struct {
		name string
		test func(t *testing.T, f *feed)
	}{
		{"Positions", testTailPositions},
		{"Content", testTailContent},
		{"EmptyAfter", testTailEmptyAfter},
		{"Concurrent", testTailConcurrent},
		{"Chain", testTailChain},
		{"Filters", testTailFilters},
		{"Purged", testTailPurged},
		{"FnError", testTailFnError},
		{"Context", testTailContext},
		{"Validation", testTailValidation},
	}
	for _, rule := range rules {
		t.Run(rule.name, func(t *testing.T) { rule.test(t, open(t)) })
	}
}

// tailerOf returns s as a sessions.Tailer, and fails the test when it is not one.
func tailerOf(tb testing.TB, s sessions.Store) sessions.Tailer {
	tb.Helper()
	if s == nil {
		tb.Fatal("open returned a nil sessions.Store")
	}
	tl, ok := s.(sessions.Tailer)
	if !ok {
		tb.Fatalf("%T does not implement sessions.Tailer", s)
	}
	return tl
}

// feed is a store under tail tests: the stores that write (one or two values on the same
// database), the tailer that reads, and the log of every successful write with when it began and
// returned on a logical clock that deliveries read too. The log is what the tail must deliver.
type feed struct {
	tb  testing.TB
	ctx context.Context
	*feedLog
}

// feedLog is the state of a feed that its subtests share.
type feedLog struct {
	writers []sessions.Store
	tailer  sessions.Tailer

	clock atomic.Uint64 // ticks at every write's start and return, and at every delivery

	mu     sync.Mutex
	agents map[string]sessions.Agent // by ID
	writes []write
	seq    int // numbers the versions that newVersion makes
}

// with returns f reporting to tb, for a subtest.
func (f *feed) with(tb testing.TB) *feed { return &feed{tb: tb, ctx: f.ctx, feedLog: f.feedLog} }

// write is one session written by a successful PutSessions call: its content as a tail must
// deliver it (normalized, AgentName filled), and the clock when the call began and returned.
type write struct {
	s          sessions.Session
	start, end uint64
}

// delivery is one call of a tail's fn: the session, its position, and the clock at the call.
type delivery struct {
	s   sessions.Session
	pos string
	at  uint64
}

func newFeed(t *testing.T, tailer sessions.Tailer, writers ...sessions.Store) *feed {
	return &feed{tb: t, ctx: t.Context(), feedLog: &feedLog{writers: writers, tailer: tailer, agents: map[string]sessions.Agent{}}}
}

// newAgent puts an agent through the first writer.
func (f *feed) newAgent(accountID, name string) sessions.Agent {
	f.tb.Helper()
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: accountID, Name: name}
	if err := f.writers[0].PutAgent(f.ctx, a); err != nil {
		f.tb.Fatalf("PutAgent: %v", err)
	}
	f.mu.Lock()
	f.agents[a.ID] = a
	f.mu.Unlock()
	return a
}

// session returns a new session of a with the given status and redactions; its UpstreamModel
// names a version, so that every write has a content of its own.
func (f *feed) session(a sessions.Agent, status sessions.Status, redactions int) sessions.Session {
	start := base.Add(time.Duration(rand.IntN(1000)) * time.Second)
	s := newSession(a, start, nil)
	return f.version(s, status, redactions)
}

// version returns s with new content: the status, redactions and a new version number.
func (f *feed) version(s sessions.Session, status sessions.Status, redactions int) sessions.Session {
	f.mu.Lock()
	f.seq++
	n := f.seq
	f.mu.Unlock()
	s.Status = status
	s.RedactionsByKind = map[string]int{"NAME": redactions}
	s.UpstreamModel = fmt.Sprintf("version %d", n)
	return s
}

// put writes ss in one call of writer w (modulo the writers), which must succeed, and logs it.
// It reports failures with Errorf, so that writer goroutines may call it.
func (f *feed) put(w int, ss ...sessions.Session) bool {
	start := f.clock.Add(1)
	if err := f.writers[w%len(f.writers)].PutSessions(f.ctx, ss...); err != nil {
		f.tb.Errorf("PutSessions(%d sessions): %v", len(ss), err)
		return false
	}
	end := f.clock.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range ss {
		s = s.Normalize()
		s.AgentName = f.agents[s.AgentID].Name
		f.writes = append(f.writes, write{s: s, start: start, end: end})
	}
	return true
}

// position returns the tailer's TailPosition and the clock after it returned: every write that
// begins later must be delivered by a tail from it.
func (f *feed) position() (string, uint64) {
	f.tb.Helper()
	p, err := f.tailer.TailPosition(f.ctx)
	if err != nil {
		f.tb.Fatalf("TailPosition: %v", err)
	}
	return p, f.clock.Add(1)
}

// tail runs a tail of filter from after in the test's goroutine, until fn's verdict stops it or
// tailTimeout passes, and returns what it delivered and Tail's error. stop is called with each
// delivery so far and says whether to end the tail (Tail must then return errStop).
func (f *feed) tail(filter sessions.Filter, after string, stop func(ds []delivery) bool) []delivery {
	f.tb.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, tailTimeout)
	defer cancel()
	var ds []delivery
	err := f.tailer.Tail(ctx, filter, after, func(s sessions.Session, pos string) error {
		ds = append(ds, delivery{s: s, pos: pos, at: f.clock.Add(1)})
		if stop(ds) {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		f.tb.Fatalf("Tail(%s, after %q) returned %v after %d deliveries; want the error of fn (the test waited %s for its last delivery)%s",
			formatFilter(filter), after, err, len(ds), tailTimeout, formatDeliveries(ds))
	}
	return ds
}

// untilID returns a stop function that ends a tail at the delivery of the session id.
func untilID(id string) func([]delivery) bool {
	return func(ds []delivery) bool { return ds[len(ds)-1].s.ID == id }
}

// sentinel writes, after every other write, a session that filter selects, so that a tail that
// delivers it has passed every earlier write; it returns the session's ID.
func (f *feed) sentinel(filter sessions.Filter, w int) string {
	f.tb.Helper()
	s := f.selected(filter)
	if !f.put(w, s) {
		f.tb.FailNow()
	}
	return s.ID
}

// selected returns a new session that filter selects.
func (f *feed) selected(filter sessions.Filter) sessions.Session {
	status := filter.Status
	if status == "" {
		status = sessions.StatusOK
	}
	return f.session(f.agentFor(filter), status, filter.MinRedactions)
}

// agentFor returns an agent that filter selects.
func (f *feed) agentFor(filter sessions.Filter) sessions.Agent {
	f.mu.Lock()
	defer f.mu.Unlock()
	if filter.AgentID != "" {
		return f.agents[filter.AgentID]
	}
	for _, a := range f.agents {
		if a.AccountID == filter.AccountID {
			return a
		}
	}
	f.tb.Fatalf("no agent in account %q", filter.AccountID)
	return sessions.Agent{}
}

// check compares the deliveries of a tail (or of a chain of tails, one after the other) of filter
// from a position taken at clock from with the log, and fails the test unless they keep the
// feed rules exactly:
//   - each delivery is a write that began after from, that filter selects, with its content;
//   - no write is delivered twice, and a session's writes are delivered in the order they were
//     made;
//   - a write that returned before another began is delivered before it;
//   - every write that filter selects is delivered, except one rewritten before the tail
//     reached it: a write W not delivered needs a later write of the same session that began
//     before the first delivery of a write that began after W returned (by then the tail had
//     passed W's position);
//   - each position is new, and none is empty.
//
// gone holds sessions deleted before the tail began: they must never be delivered.
func (f *feed) check(filter sessions.Filter, from uint64, ds []delivery, gone map[string]bool) {
	f.tb.Helper()
	f.mu.Lock()
	writes := slices.Clone(f.writes)
	f.mu.Unlock()
	byID := map[string][]int{} // session ID -> indexes in writes, in the order they were made
	for i, w := range writes {
		byID[w.s.ID] = append(byID[w.s.ID], i)
	}
	for _, is := range byID {
		slices.SortFunc(is, func(a, b int) int { return int(writes[a].start) - int(writes[b].start) })
	}
	deliveredAt := map[int]int{} // index in writes -> index in ds
	positions := map[string]int{}
	for k, d := range ds {
		fail := func(format string, args ...any) {
			f.tb.Helper()
			f.tb.Fatalf("delivery %d (session %s at %q): %s%s", k, d.s.ID, d.pos, fmt.Sprintf(format, args...), formatDeliveries(ds))
		}
		checkStored(f.tb, d.s)
		if d.pos == "" {
			fail("empty position")
		}
		if j, ok := positions[d.pos]; ok {
			fail("the position of delivery %d again", j)
		}
		positions[d.pos] = k
		if d.s.AccountID != filter.AccountID {
			fail("a session of account %q delivered to a tail of %q", d.s.AccountID, filter.AccountID)
		}
		if !filter.Match(d.s) {
			fail("a session that %s does not select", formatFilter(filter))
		}
		if gone[d.s.ID] {
			fail("a session purged before the tail began")
		}
		w := -1
		for _, i := range byID[d.s.ID] {
			if sameSession(writes[i].s, d.s) {
				w = i
			}
		}
		switch {
		case w < 0:
			fail("content that no write of it had: %+v", d.s)
		case writes[w].start < from:
			fail("a write made before the tail's first position")
		}
		if _, ok := deliveredAt[w]; ok {
			fail("the same write again")
		}
		for _, i := range byID[d.s.ID] {
			if j, ok := deliveredAt[i]; ok && writes[i].start > writes[w].start {
				fail("an older write after delivery %d of a newer one", j)
			}
		}
		deliveredAt[w] = k
	}
	for i, w := range writes {
		if w.start < from || gone[w.s.ID] || !filter.Match(w.s) {
			continue
		}
		if k, ok := deliveredAt[i]; ok {
			for j, x := range writes {
				if l, ok := deliveredAt[j]; ok && w.end < x.start && l < k {
					f.tb.Fatalf("session %s (%s) was delivered at %d, after session %s (%s) at %d, a write that began after it returned%s",
						w.s.ID, w.s.UpstreamModel, k, x.s.ID, x.s.UpstreamModel, l, formatDeliveries(ds))
				}
			}
			continue
		}
		// Not delivered: it must have been rewritten before the tail passed it.
		passed := uint64(0) // the clock when the tail delivered a write made after w
		for j, x := range writes {
			if l, ok := deliveredAt[j]; ok && w.end < x.start && (passed == 0 || ds[l].at < passed) {
				passed = ds[l].at
			}
		}
		rewritten := false
		for _, j := range byID[w.s.ID] {
			if writes[j].start > w.start && (passed == 0 || writes[j].start < passed) {
				rewritten = true
			}
		}
		if !rewritten {
			f.tb.Fatalf("session %s (%s, written at %d-%d) was never delivered, nor rewritten before the tail passed it (at %d)%s",
				w.s.ID, w.s.UpstreamModel, w.start, w.end, passed, formatDeliveries(ds))
		}
	}
}

func formatDeliveries(ds []delivery) string {
	s := "\ndeliveries:"
	for k, d := range ds {
		s += fmt.Sprintf("\n  %d: %s %s at %q (clock %d)", k, d.s.ID, d.s.UpstreamModel, d.pos, d.at)
	}
	return s
}

// testTailPositions checks that each write takes a new position after every earlier one: a tail
// from the position of any delivery, or from a TailPosition taken after any write, delivers
// exactly what the tail from the start delivered after that point, in the same order, with the
// same positions. Every fourth write replaces an earlier session, which moves it to the end.
func testTailPositions(t *testing.T, f *feed) {
	a := f.newAgent("acme", "Front desk")
	acme := sessions.Filter{AccountID: "acme"}
	start, from := f.position()
	type mark struct {
		pos   string
		clock uint64
	}
	var marks []mark // TailPosition after each write
	var written []sessions.Session
	const n = 12
	for i := range n {
		s := f.session(a, sessions.StatusOK, i)
		if i%4 == 3 {
			s = f.version(written[i-2], sessions.StatusError, i)
		}
		f.put(0, s)
		written = append(written, s)
		p, clock := f.position()
		marks = append(marks, mark{p, clock})
	}
	id := f.sentinel(acme, 0)
	ds := f.tail(acme, start, untilID(id))
	f.check(acme, from, ds, nil)
	same := func(t *testing.T, name string, want, got []delivery) {
		t.Helper()
		if len(want) != len(got) {
			t.Fatalf("from %s: %d deliveries; want %d, as the tail from the start gave%s", name, len(got), len(want), formatDeliveries(got))
		}
		for k, d := range got {
			if w := want[k]; !sameSession(w.s, d.s) || w.pos != d.pos {
				t.Fatalf("from %s: delivery %d is %s (%s) at %q; want %s (%s) at %q, as the tail from the start gave",
					name, k, d.s.ID, d.s.UpstreamModel, d.pos, w.s.ID, w.s.UpstreamModel, w.pos)
			}
		}
	}
	for k := range len(ds) - 1 {
		t.Run(fmt.Sprintf("after delivery %d", k), func(t *testing.T) {
			f := f.with(t)
			same(t, "its position", ds[k+1:], f.tail(acme, ds[k].pos, untilID(id)))
		})
	}
	for i, m := range marks {
		t.Run(fmt.Sprintf("TailPosition after write %d", i), func(t *testing.T) {
			f := f.with(t)
			var want []delivery
			for _, d := range ds {
				if f.writeOf(d.s).start > m.clock {
					want = append(want, d)
				}
			}
			same(t, "TailPosition", want, f.tail(acme, m.pos, untilID(id)))
		})
	}
}

// writeOf returns the write that made s, which must have been delivered with its content.
func (f *feed) writeOf(s sessions.Session) write {
	f.tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.writes {
		if sameSession(w.s, s) {
			return w
		}
	}
	f.tb.Fatalf("no write of %+v", s)
	return write{}
}

// testTailContent checks that a live tail delivers each write, a new session or a rewrite, with
// its content, as it is made: the test makes each write after the tail delivered the previous
// one, so that nothing may collapse.
func testTailContent(t *testing.T, f *feed) {
	a := f.newAgent("acme", "Front desk")
	acme := sessions.Filter{AccountID: "acme"}
	p, from := f.position()
	first := f.session(a, sessions.StatusOK, 1)
	steps := []sessions.Session{
		first,
		f.session(a, sessions.StatusPartial, 0),
		f.version(first, sessions.StatusError, 3),
		f.version(first, sessions.StatusError, 3), // the same fields again: still a write
		f.session(a, sessions.StatusOK, 0),
	}
	ctx, cancel := context.WithTimeout(f.ctx, tailTimeout)
	defer cancel()
	got := make(chan delivery)
	done := make(chan error, 1)
	go func() {
		done <- f.tailer.Tail(ctx, acme, p, func(s sessions.Session, pos string) error {
			select {
			case got <- delivery{s: s, pos: pos, at: f.clock.Add(1)}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var ds []delivery
	for i, s := range steps {
		f.put(0, s)
		select {
		case d := <-got:
			ds = append(ds, d)
			want := f.writes[len(f.writes)-1].s
			if !sameSession(want, d.s) {
				t.Fatalf("write %d: delivered %+v; want %+v", i, d.s, want)
			}
		case err := <-done:
			t.Fatalf("write %d: Tail returned %v", i, err)
		case <-ctx.Done():
			t.Fatalf("write %d was not delivered within %s%s", i, tailTimeout, formatDeliveries(ds))
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Tail returned %v after its context was cancelled; want context.Canceled", err)
	}
	f.check(acme, from, ds, nil)
}

// testTailEmptyAfter checks that after == "" starts at the end of the feed when Tail is called:
// nothing written before the call is delivered, and what follows is.
func testTailEmptyAfter(t *testing.T, f *feed) {
	a := f.newAgent("acme", "Front desk")
	acme := sessions.Filter{AccountID: "acme"}
	before := f.session(a, sessions.StatusOK, 0)
	f.put(0, before)
	ctx, cancel := context.WithTimeout(f.ctx, tailTimeout)
	defer cancel()
	got := make(chan delivery, 1)
	done := make(chan error, 1)
	go func() {
		done <- f.tailer.Tail(ctx, acme, "", func(s sessions.Session, pos string) error {
			got <- delivery{s: s, pos: pos}
			return errStop
		})
	}()
	// The tail takes its position at some moment after the call: write until it delivers.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var written []string
	for {
		s := f.session(a, sessions.StatusOK, 0)
		f.put(0, s)
		written = append(written, s.ID)
		select {
		case <-tick.C:
			continue
		case err := <-done:
			// fn sends its one delivery before it returns errStop.
			if !errors.Is(err, errStop) {
				t.Fatalf("Tail returned %v; want fn's error", err)
			}
			if d := <-got; !slices.Contains(written, d.s.ID) {
				t.Fatalf("Tail(after \"\") delivered %s, written before Tail was called", d.s.ID)
			}
			return
		case <-ctx.Done():
			t.Fatalf("no delivery within %s", tailTimeout)
		}
	}
}

// testTailConcurrent checks a tail that runs while several writers write at once, with new
// sessions and rewrites of their own and of other accounts: nothing missed, nothing repeated.
func testTailConcurrent(t *testing.T, f *feed) {
	rng := rand.New(rand.NewPCG(seed(t), 1))
	acme := sessions.Filter{AccountID: "acme"}
	agents := []sessions.Agent{f.newAgent("acme", "Front desk"), f.newAgent("acme", "Billing"), f.newAgent("globex", "Reception")}
	p, from := f.position()
	const writers = 4
	calls := testscale.Pick(10, 40)
	var wg sync.WaitGroup
	for w := range writers {
		wrng := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			writeRandomly(f, w, wrng, agents, calls)
		}()
	}
	ds := f.tailWhileWriting(acme, p, &wg)
	f.check(acme, from, ds, nil)
}

// tailWhileWriting tails filter from p until the writers of wg are done and a sentinel written
// after them is delivered, and returns the deliveries.
func (f *feed) tailWhileWriting(filter sessions.Filter, p string, wg *sync.WaitGroup) []delivery {
	f.tb.Helper()
	var sentinel atomic.Pointer[string]
	written := make(chan struct{})
	go func() {
		defer close(written)
		wg.Wait()
		if f.tb.Failed() {
			return
		}
		s := f.selected(filter)
		sentinel.Store(&s.ID) // before the write, which the tail may deliver before put returns
		f.put(0, s)
	}()
	ds := f.tail(filter, p, func(ds []delivery) bool {
		id := sentinel.Load()
		return id != nil && ds[len(ds)-1].s.ID == *id
	})
	<-written // the sentinel is in the log
	return ds
}

// writeRandomly makes calls PutSessions calls as writer w: each of one to three sessions, new or
// rewrites of the writer's own (a session is only ever written by one writer, so that its writes
// have an order), over agents.
func writeRandomly(f *feed, w int, rng *rand.Rand, agents []sessions.Agent, calls int) {
	var own []sessions.Session
	statuses := []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}
	for range calls {
		var batch []sessions.Session
		seen := map[string]bool{}
		for range 1 + rng.IntN(3) {
			status, n := statuses[rng.IntN(3)], rng.IntN(4)
			if len(own) > 0 && rng.IntN(3) == 0 {
				i := rng.IntN(len(own))
				if seen[own[i].ID] {
					continue
				}
				own[i] = f.version(own[i], status, n)
				batch = append(batch, own[i])
				seen[own[i].ID] = true
				continue
			}
			s := f.session(agents[rng.IntN(len(agents))], status, n)
			own = append(own, s)
			batch = append(batch, s)
			seen[s.ID] = true
		}
		if !f.put(w, batch...) {
			return
		}
	}
}

// testTailChain checks a chain of tails while writers write: each tail ends after a random number
// of deliveries, by fn's error or by the cancellation of its context, and the next resumes from
// the last position delivered. Together they must deliver what one tail would.
func testTailChain(t *testing.T, f *feed) {
	rng := rand.New(rand.NewPCG(seed(t), 2))
	acme := sessions.Filter{AccountID: "acme"}
	agents := []sessions.Agent{f.newAgent("acme", "Front desk"), f.newAgent("acme", "Billing"), f.newAgent("globex", "Reception")}
	p, from := f.position()
	calls := testscale.Pick(10, 40)
	var wg sync.WaitGroup
	for w := range 3 {
		wrng := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			writeRandomly(f, w, wrng, agents, calls)
		}()
	}
	var sentinel atomic.Pointer[string]
	written := make(chan struct{})
	go func() {
		defer close(written)
		wg.Wait()
		s := f.selected(acme)
		sentinel.Store(&s.ID) // before the write, which the tail may deliver before put returns
		f.put(0, s)
	}()
	var all []delivery
	pos := p
	for link := 0; ; link++ {
		k, byCancel := 1+rng.IntN(12), rng.IntN(2) == 0
		ctx, cancel := context.WithTimeout(f.ctx, tailTimeout)
		var ds []delivery
		done := false
		err := f.tailer.Tail(ctx, acme, pos, func(s sessions.Session, p string) error {
			ds = append(ds, delivery{s: s, pos: p, at: f.clock.Add(1)})
			if id := sentinel.Load(); id != nil && s.ID == *id {
				done = true
				return errStop
			}
			if len(ds) == k {
				if byCancel {
					cancel()
					return nil
				}
				return errStop
			}
			return nil
		})
		cancel()
		all = append(all, ds...)
		switch {
		case done || (len(ds) >= k && !byCancel):
			if !errors.Is(err, errStop) {
				t.Fatalf("link %d: Tail returned %v; want fn's error%s", link, err, formatDeliveries(all))
			}
		case len(ds) >= k:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("link %d: Tail returned %v after its context was cancelled; want context.Canceled%s", link, err, formatDeliveries(all))
			}
		default:
			t.Fatalf("link %d: Tail returned %v after %d of %d deliveries (it had %s)%s", link, err, len(ds), k, tailTimeout, formatDeliveries(all))
		}
		if len(ds) > 0 {
			pos = ds[len(ds)-1].pos
		}
		if done {
			break
		}
	}
	<-written // the sentinel is in the log
	f.check(acme, from, all, nil)
}

// testTailFilters checks tails with each of the filters that Tail applies, while writers write
// sessions that the filter selects and others, and rewrites that move a session in and out of
// it: a tail delivers only what its filter selects, and all of it.
func testTailFilters(t *testing.T, f *feed) {
	rng := rand.New(rand.NewPCG(seed(t), 3))
	agents := []sessions.Agent{f.newAgent("acme", "Front desk"), f.newAgent("acme", "Billing"), f.newAgent("globex", "Reception")}
	calls := testscale.Pick(8, 25)
	for _, filter := range []sessions.Filter{
		{AccountID: "acme"},
		{AccountID: "globex"},
		{AccountID: "acme", AgentID: agents[1].ID},
		{AccountID: "acme", Status: sessions.StatusError},
		{AccountID: "acme", MinRedactions: 2},
		{AccountID: "acme", AgentID: agents[0].ID, Status: sessions.StatusPartial, MinRedactions: 1},
		{AccountID: "initech"}, // no agent: only its sentinel
	} {
		t.Run(formatFilter(filter), func(t *testing.T) {
			f := f.with(t)
			if filter.AccountID == "initech" {
				f.newAgent("initech", "")
			}
			p, from := f.position()
			var wg sync.WaitGroup
			for w := range 2 {
				wrng := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
				wg.Add(1)
				go func() {
					defer wg.Done()
					writeRandomly(f, w, wrng, agents, calls)
				}()
			}
			f.check(filter, from, f.tailWhileWriting(filter, p, &wg), nil)
		})
	}
}

// testTailPurged checks that a purged session is never delivered, by a tail that begins after the
// purge, even from the position of a purged session, and even when the purged sessions were
// the last ones written.
func testTailPurged(t *testing.T, f *feed) {
	purger, ok := f.writers[0].(sessions.Purger)
	if !ok {
		t.Skipf("%T does not implement sessions.Purger", f.writers[0])
	}
	a := f.newAgent("acme", "Front desk")
	acme := sessions.Filter{AccountID: "acme"}
	old := func() sessions.Session {
		s := f.session(a, sessions.StatusOK, 0)
		s.StartedAt = s.StartedAt.Add(-1000 * time.Hour)
		s.EndedAt = s.StartedAt.Add(time.Second)
		s.ID = sessions.NewSessionID(s.StartedAt)
		return s
	}
	p, from := f.position()
	old1, kept, old2 := old(), f.session(a, sessions.StatusOK, 0), old()
	f.put(0, old1)
	f.put(0, kept)
	f.put(0, f.version(old1, sessions.StatusError, 1))
	f.put(0, old2) // the last write: its position is the end of the feed
	before := f.tail(acme, p, untilID(old2.ID))
	f.check(acme, from, before, nil)
	if n, err := purger.PurgeSessions(f.ctx, base.Add(-500*time.Hour)); err != nil || n != 2 {
		t.Fatalf("PurgeSessions = %d, %v; want 2, nil", n, err)
	}
	gone := map[string]bool{old1.ID: true, old2.ID: true}
	id := f.sentinel(acme, 0)
	t.Run("from the start", func(t *testing.T) {
		f := f.with(t)
		f.check(acme, from, f.tail(acme, p, untilID(id)), gone)
	})
	for _, d := range before {
		t.Run("from the position of "+d.s.ID+" "+d.s.UpstreamModel, func(t *testing.T) {
			f := f.with(t)
			ds := f.tail(acme, d.pos, untilID(id))
			for _, x := range ds {
				if gone[x.s.ID] {
					t.Fatalf("delivered %s, purged before the tail began%s", x.s.ID, formatDeliveries(ds))
				}
			}
			if d.s.ID == old2.ID && len(ds) != 1 {
				t.Fatalf("from the last position before the purge: %d deliveries; want only the next write%s", len(ds), formatDeliveries(ds))
			}
		})
	}
}

// testTailFnError checks that Tail returns fn's error as it is, and calls fn no more.
func testTailFnError(t *testing.T, f *feed) {
	a := f.newAgent("acme", "Front desk")
	p, _ := f.position()
	f.put(0, f.session(a, sessions.StatusOK, 0), f.session(a, sessions.StatusOK, 0))
	f.put(0, f.session(a, sessions.StatusOK, 0))
	failed := errors.New("storetest: fn failed")
	calls := 0
	err := f.tailer.Tail(f.ctx, sessions.Filter{AccountID: "acme"}, p, func(sessions.Session, string) error {
		calls++
		return fmt.Errorf("delivery %d: %w", calls, failed)
	})
	if !errors.Is(err, failed) {
		t.Errorf("Tail returned %v; want fn's error", err)
	}
	if calls != 1 {
		t.Errorf("fn was called %d times; want once, Tail returning its first error", calls)
	}
}

// testTailContext checks that Tail and TailPosition honour their context: a cancelled context
// gives context.Canceled, before any delivery or while the tail waits, and a deadline that
// passes while it waits gives an error matching context.DeadlineExceeded and
// sessions.ErrUnavailable.
func testTailContext(t *testing.T, f *feed) {
	a := f.newAgent("acme", "Front desk")
	acme := sessions.Filter{AccountID: "acme"}
	p, _ := f.position()
	f.put(0, f.session(a, sessions.StatusOK, 0))
	never := func(sessions.Session, string) error {
		t.Error("fn called with a context that had ended")
		return nil
	}
	cancelled, cancel := context.WithCancel(f.ctx)
	cancel()
	if _, err := f.tailer.TailPosition(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("TailPosition(cancelled context) returned %v; want context.Canceled", err)
	}
	if err := f.tailer.Tail(cancelled, acme, p, never); !errors.Is(err, context.Canceled) {
		t.Errorf("Tail(cancelled context) returned %v; want context.Canceled", err)
	}
	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(f.ctx, tailTimeout)
		defer cancel()
		err := f.tailer.Tail(ctx, acme, p, func(sessions.Session, string) error {
			go cancel() // while the tail waits for the next write
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Tail returned %v; want context.Canceled", err)
		}
	})
	t.Run("deadline while waiting", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(f.ctx, 100*time.Millisecond)
		defer cancel()
		delivered := 0
		err := f.tailer.Tail(ctx, acme, p, func(sessions.Session, string) error {
			delivered++
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, sessions.ErrUnavailable) {
			t.Errorf("Tail returned %v; want an error matching context.DeadlineExceeded and sessions.ErrUnavailable", err)
		}
		if delivered > 1 {
			t.Errorf("%d deliveries before the deadline; want at most the one write after the position", delivered)
		}
	})
}

// testTailValidation checks that Tail refuses, with a *sessions.ValidationError and before
// calling fn, a filter that sessions.TailFilter refuses and a position that is not one.
func testTailValidation(t *testing.T, f *feed) {
	a := f.newAgent("acme", "Front desk")
	p, _ := f.position()
	f.put(0, f.session(a, sessions.StatusOK, 0))
	never := func(sessions.Session, string) error {
		t.Error("fn called for an invalid tail")
		return nil
	}
	for _, c := range []struct {
		name   string
		filter sessions.Filter
		after  string
		field  string // "" for any
	}{
		{"no account", sessions.Filter{}, p, "AccountID"},
		{"Since", sessions.Filter{AccountID: "acme", Since: base}, p, "Since"},
		{"Until", sessions.Filter{AccountID: "acme", Until: base}, p, "Until"},
		{"Limit", sessions.Filter{AccountID: "acme", Limit: 10}, p, "Limit"},
		{"After", sessions.Filter{AccountID: "acme", After: &sessions.Cursor{StartedAt: base}}, p, "After"},
		{"bad agent", sessions.Filter{AccountID: "acme", AgentID: "agt_nope"}, p, "AgentID"},
		{"bad status", sessions.Filter{AccountID: "acme", Status: "done"}, p, "Status"},
		{"negative MinRedactions", sessions.Filter{AccountID: "acme", MinRedactions: -1}, p, "MinRedactions"},
		{"not a position", sessions.Filter{AccountID: "acme"}, "not a position", ""},
		{"a position with a NUL", sessions.Filter{AccountID: "acme"}, p + "\x00", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(f.ctx, tailTimeout)
			defer cancel()
			err := f.tailer.Tail(ctx, c.filter, c.after, never)
			if c.field != "" {
				wantValidation(t, "Tail", err, c.field)
				return
			}
			var ve *sessions.ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("Tail(after %q) returned %v; want a *sessions.ValidationError", c.after, err)
			}
		})
	}
}
