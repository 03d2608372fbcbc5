package storetest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
	"github.com/masker-dev/sessions/store/memory"
	"github.com/masker-dev/sessions/store/storetest"
)

// TestRun runs the suite against a brute-force store that follows the root package's rules
// literally, to check the suite itself: a correct store must pass every case.
func TestRun(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sessions.Store {
		s := newBruteStore(os.Getenv("STORETEST_MUTANT"))
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	})
}

// storeOnly is a store that implements sessions.Store and none of the optional capabilities:
// the memory store behind the interface.
type storeOnly struct{ sessions.Store }

// TestRunStoreOnly checks that a store that implements only sessions.Store passes Run, with the
// subtests of each optional capability skipped, and these alone.
func TestRunStoreOnly(t *testing.T) {
	var mu sync.Mutex
	var subtests []*testing.T
	// The subtests of Run are parallel: they end after this function returns, before its
	// cleanups run.
	t.Cleanup(func() { checkSkipped(t, subtests) })
	storetest.Run(t, func(t *testing.T) sessions.Store {
		mu.Lock()
		subtests = append(subtests, t)
		mu.Unlock()
		s := memory.New()
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return storeOnly{s}
	})
}

// checkSkipped checks that of the subtests of Run in t, which have ended, those of the optional
// capabilities were skipped, and no others.
func checkSkipped(t *testing.T, subtests []*testing.T) {
	optional := map[string]bool{"Purge": true, "Tail": true, "Summary": true, "Scan": true} // the subtests of sessions.Purger, Tailer, Summarizer and Scanner
	var skipped, ran []string
	for _, st := range subtests {
		name := strings.TrimPrefix(st.Name(), t.Name()+"/")
		if st.Skipped() {
			skipped = append(skipped, name)
			if !optional[name] {
				t.Errorf("subtest %s skipped; want only the optional capabilities' subtests skipped", name)
			}
		} else {
			ran = append(ran, name)
		}
	}
	for name := range optional {
		if !slices.Contains(skipped, name) {
			t.Errorf("subtest %s not skipped; skipped: %v, ran: %v", name, skipped, ran)
		}
	}
}

// mutants are bugs that bruteStore can be built with, each with the subtest of Run that must
// catch it.
var mutants = []struct{ bug, rule string }{
	{"order by StartedAt only", "Order"},
	{"cursor ignores ID", "Order"},
	{"Next when the page is full", "NextNilExactlyAtEnd"},
	{"offset pagination", "WalkDuringWrites"},
	{"partial batch", "AtomicBatch"},
	{"no validation", "SessionValidation"},
	{"upsert keeps the old kinds", "Upsert"},
	{"move between agents", "Conflict"},
	{"GetAgent ignores account", "AgentNotFound"},
	{"PutAgent takes over", "PutAgent"},
	{"stored AgentName", "AgentName"},
	{"shared maps", "Normalization"},
	{"Since truncated", "Normalization"},
	{"Limit not checked", "FilterValidation"},
	{"purge inclusive", "Purge"},
	{"purge one account", "Purge"},
	{"raw deadline", "Context"},
	{"account compared without case", "TenantIsolation"},
	{"32-bit redaction count", "SessionValidation"},
	{"Until inclusive", "Differential"},
	{"GetSession ignores account", "GetSession"},
	{"summary Until inclusive", "Summary"},
	{"summary capped redactions", "Summary"},
}

// TestMutants checks that the suite catches each mutant: it runs the test binary again, with
// one bug in bruteStore and only the subtest that must catch it, on the small data sets. A
// binary built with -race would wait a second as it exits (GORACE's atexit_sleep_ms): the runs
// do not.
func TestMutants(t *testing.T) {
	if os.Getenv("STORETEST_MUTANT") != "" {
		t.Skip("inside a mutant run")
	}
	for _, m := range mutants {
		t.Run(m.bug, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestRun$/^"+m.rule+"$")
			cmd.Env = append(os.Environ(), "STORETEST_MUTANT="+m.bug, testscale.Env+"=", "GORACE=atexit_sleep_ms=0")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store with the bug %q; want %s to fail:\n%s", m.bug, m.rule, out)
			}
			if want := "--- FAIL: TestRun/" + m.rule; !strings.Contains(string(out), want) {
				t.Errorf("no %q in the output:\n%s", want, out)
			}
		})
	}
}

// bruteStore is a sessions.Store and sessions.Purger that scans sessions for every list, built
// on the root package's rules. It is correct by construction, unless built with a bug (see
// mutants).
type bruteStore struct {
	bug string // one of mutants, or ""

	mu       sync.Mutex
	agents   map[string]sessions.Agent
	sessions map[string]sessions.Session
	sorted   []sessions.Session // the sessions in list order; nil when it must be rebuilt
	offsets  map[string]int     // for the bug "offset pagination": the offset a Next stands for
}

func newBruteStore(bug string) *bruteStore {
	return &bruteStore{bug: bug, agents: map[string]sessions.Agent{}, sessions: map[string]sessions.Session{}, offsets: map[string]int{}}
}

func (s *bruteStore) ctxErr(ctx context.Context) error {
	if s.bug == "raw deadline" {
		return ctx.Err()
	}
	return sessions.ContextError(ctx)
}

func (s *bruteStore) PutAgent(ctx context.Context, a sessions.Agent) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.agents[a.ID]; ok && old.AccountID != a.AccountID && s.bug != "PutAgent takes over" {
		return fmt.Errorf("%w: agent %s", sessions.ErrConflict, a.ID)
	}
	s.agents[a.ID] = a
	return nil
}

func (s *bruteStore) GetAgent(ctx context.Context, accountID, agentID string) (sessions.Agent, error) {
	if err := s.ctxErr(ctx); err != nil {
		return sessions.Agent{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.agents[agentID]
	if !ok || (a.AccountID != accountID && s.bug != "GetAgent ignores account") {
		return sessions.Agent{}, sessions.ErrAgentNotFound
	}
	return a, nil
}

func (s *bruteStore) PutSessions(ctx context.Context, in ...sessions.Session) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	ss, err := sessions.PrepareBatch(in)
	switch s.bug {
	case "no validation":
		ss, err = nil, nil
		for _, x := range in {
			ss = append(ss, x.Normalize())
		}
	case "partial batch":
		if err != nil {
			for _, x := range in {
				if x.Validate() != nil {
					break
				}
				s.mu.Lock()
				s.sessions[x.ID], s.sorted = x.Normalize(), nil
				s.mu.Unlock()
			}
		}
	case "shared maps":
		for i := range ss {
			for _, x := range in {
				if x.ID == ss[i].ID && len(x.RedactionsByKind) == len(ss[i].RedactionsByKind) {
					ss[i].RedactionsByKind = x.RedactionsByKind
				}
			}
		}
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range ss {
		if a, ok := s.agents[x.AgentID]; !ok || a.AccountID != x.AccountID {
			return fmt.Errorf("%w: session %s: agent %s", sessions.ErrAgentNotFound, x.ID, x.AgentID)
		}
		if old, ok := s.sessions[x.ID]; ok && (old.AccountID != x.AccountID || (old.AgentID != x.AgentID && s.bug != "move between agents")) {
			return fmt.Errorf("%w: session %s", sessions.ErrConflict, x.ID)
		}
	}
	for _, x := range ss {
		switch s.bug {
		case "upsert keeps the old kinds":
			for k, n := range s.sessions[x.ID].RedactionsByKind {
				if _, ok := x.RedactionsByKind[k]; !ok {
					x.RedactionsByKind[k] = n
				}
			}
		case "stored AgentName":
			x.AgentName = s.agents[x.AgentID].Name
		}
		s.sessions[x.ID] = x
	}
	s.sorted = nil
	return nil
}

func (s *bruteStore) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	if err := s.ctxErr(ctx); err != nil {
		return sessions.Page{}, err
	}
	v := f
	if s.bug == "Limit not checked" {
		v.Limit = 0
	}
	if err := v.Validate(); err != nil {
		return sessions.Page{}, err
	}
	since := f.Since
	f = f.Normalize()
	if s.bug == "Since truncated" && !since.IsZero() {
		f.Since = sessions.Millis(since)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sorted == nil {
		for _, x := range s.sessions {
			s.sorted = append(s.sorted, x)
		}
		slices.SortFunc(s.sorted, func(a, b sessions.Session) int {
			if s.bug == "order by StartedAt only" && a.StartedAt.Equal(b.StartedAt) {
				return strings.Compare(a.ID, b.ID)
			}
			if a.Cursor().Before(b.Cursor()) {
				return -1
			}
			return 1
		})
	}
	match := func(x sessions.Session) bool {
		g := f
		switch s.bug {
		case "account compared without case":
			if strings.EqualFold(x.AccountID, f.AccountID) {
				g.AccountID = x.AccountID
			}
		case "32-bit redaction count":
			g.MinRedactions = 0
			if int64(int32(x.RedactionCount())) < int64(f.MinRedactions) {
				return false
			}
		case "Until inclusive":
			if x.StartedAt.Equal(f.Until) {
				g.Until = time.Time{}
			}
		}
		return g.Match(x)
	}
	start := 0
	if f.After != nil {
		switch s.bug {
		case "cursor ignores ID":
			start = sort.Search(len(s.sorted), func(i int) bool { return s.sorted[i].StartedAt.Before(f.After.StartedAt) })
		case "offset pagination":
			start = s.offsets[cursorKey(*f.After)]
		default:
			start = sort.Search(len(s.sorted), func(i int) bool { return f.After.Before(s.sorted[i].Cursor()) })
		}
	}
	out := []sessions.Session{}
	i := start
	for ; i < len(s.sorted) && len(out) <= f.Limit; i++ {
		if x := s.sorted[i]; match(x) {
			if s.bug != "shared maps" {
				x = x.Clone()
			}
			if s.bug != "stored AgentName" {
				x.AgentName = s.agents[x.AgentID].Name
			}
			out = append(out, x)
		}
	}
	if s.bug == "Next when the page is full" && len(out) == f.Limit {
		out = append(out, out[0]) // as if there were one more
	}
	p := sessions.NewPage(out, f.Limit)
	if s.bug == "offset pagination" && p.Next != nil {
		s.offsets[cursorKey(*p.Next)] = i - 1
	}
	return p, nil
}

func cursorKey(c sessions.Cursor) string { return fmt.Sprint(c.StartedAt.UnixMilli(), c.ID) }

func (s *bruteStore) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	for {
		if err := s.ctxErr(ctx); err != nil {
			return n, err
		}
		// Bounded batches, like a real store.
		deleted := s.purgeBatch(before, 100)
		n += deleted
		if deleted < 100 {
			return n, nil
		}
	}
}

func (s *bruteStore) purgeBatch(before time.Time, max int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, x := range s.sessions {
		if n == int64(max) {
			break
		}
		purged := x.StartedAt.Before(before)
		switch s.bug {
		case "purge inclusive":
			purged = !x.StartedAt.After(before)
		case "purge one account":
			purged = purged && x.AccountID == "acme"
		}
		if purged {
			delete(s.sessions, id)
			s.sorted = nil
			n++
		}
	}
	return n
}

func (s *bruteStore) Close() error { return nil }
