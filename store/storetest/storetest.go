package storetest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oklog/ulid/v2"

	"github.com/masker-dev/sessions"
)

// Run checks that the stores made by open keep every rule of [sessions.Store], in one subtest
// per rule, and the rules of each optional capability ([sessions.Purger], [sessions.Tailer],
// [sessions.Summarizer], [sessions.Scanner]) in subtests that run when the store implements it
// and are skipped, saying so, when it does not. Each subtest calls
// open(t) for a fresh, empty store (some call it once per case); open owns the store and closes
// it with t.Cleanup, Run never calls Close. The subtests run in parallel with each other
// (t.Parallel), so open must be safe to call from several goroutines at once. See the package
// documentation for an example.
func Run(t *testing.T, open func(t *testing.T) sessions.Store) {
	t.Helper()
	run(t, open, func(string) bool { return true })
}

// RunRules runs the subtests of Run named in names, and no others: for a variant of a store
// whose difference reaches only some rules (a store that writes in smaller statements meets
// only the rules of writes). Run is what proves a store; it panics on a name that Run does not
// have, so that a renamed rule is not silently dropped.
func RunRules(t *testing.T, open func(t *testing.T) sessions.Store, names ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	ran := run(t, open, func(name string) bool { return want[name] })
	for _, n := range names {
		if !ran[n] {
			panic("storetest.RunRules: Run has no subtest " + n)
		}
	}
}

// run runs the subtests of Run whose names keep accepts, and returns the names it ran.
func run(t *testing.T, open func(t *testing.T) sessions.Store, keep func(name string) bool) map[string]bool {
	t.Helper()
	ran := map[string]bool{}
	rules := []rule{
		{"Order", testOrder},
		{"NextNilExactlyAtEnd", testNextNil},
		{"WalkDuringWrites", testWalkDuringWrites},
		{"AtomicBatch", testAtomicBatch},
		{"SessionValidation", testSessionValidation},
		{"Upsert", testUpsert},
		{"Conflict", testConflict},
		{"AgentNotFound", testAgentNotFound},
		{"PutAgent", testPutAgent},
		{"AgentName", testAgentName},
		{"Normalization", testNormalization},
		{"FilterValidation", testFilterValidation},
		{"Context", testContext},
		{"TenantIsolation", testTenantIsolation},
		{"Differential", testDifferential},
		{"GetSession", testGetSession},
		{"All", testAll},
		{"RareFilters", testRareFilters},
		{"RareFilterDuringUpserts", testRareFilterDuringUpserts},
	}
	// The optional capabilities, each with the rules of its methods.
	capabilities := []struct {
		name        string // of the interface in package sessions
		implemented func(sessions.Store) bool
		rules       []rule
	}{
		{"Purger", implements[sessions.Purger], purgeRules},
		{"Tailer", implements[sessions.Tailer], []rule{{"Tail", testTail}}},
		{"Summarizer", implements[sessions.Summarizer], []rule{{"Summary", testSummary}}},
		{"Scanner", implements[sessions.Scanner], scanRules},
	}
	for _, rule := range rules {
		if !keep(rule.name) {
			continue
		}
		ran[rule.name] = true
		t.Run(rule.name, func(t *testing.T) {
			t.Parallel()
			rule.test(t, start(t, open))
		})
	}
	for _, c := range capabilities {
		for _, rule := range c.rules {
			if !keep(rule.name) {
				continue
			}
			ran[rule.name] = true
			t.Run(rule.name, func(t *testing.T) {
				t.Parallel()
				h := start(t, open)
				if !c.implemented(h.store) {
					t.Skipf("%T does not implement sessions.%s: its rules are optional, and skipped", h.store, c.name)
				}
				rule.test(t, h)
			})
		}
	}
	return ran
}

// rule is one subtest of Run: a rule of the contract and the test that checks it on a fresh
// store.
type rule struct {
	name string
	test func(t *testing.T, h *harness)
}

// implements reports whether s implements the interface C.
func implements[C any](s sessions.Store) bool {
	_, ok := s.(C)
	return ok
}

// base is the time around which the fixed cases put their sessions: the time of the example in
// the API documentation of GET /api/v1/agents/{agent_id}/sessions.
var base = time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)

// Zones other than UTC, for inputs that a store must convert.
var (
	zoneIST = time.FixedZone("IST", 5*3600+1800)
	zonePST = time.FixedZone("PST", -8*3600)
	zoneNPT = time.FixedZone("NPT", 5*3600+45*60)
)

// harness is one store under test, with the model of what it must hold.
type harness struct {
	tb    testing.TB
	ctx   context.Context
	store sessions.Store
	model *model
	open  func(t *testing.T) sessions.Store
}

// start opens a fresh store for t.
func start(t *testing.T, open func(t *testing.T) sessions.Store) *harness {
	t.Helper()
	s := open(t)
	if s == nil {
		t.Fatal("open returned a nil sessions.Store")
	}
	return &harness{tb: t, ctx: t.Context(), store: s, model: newModel(), open: open}
}

// with returns h reporting to tb, for a nested subtest that shares h's store.
func (h *harness) with(tb testing.TB) *harness {
	c := *h
	c.tb = tb
	return &c
}

// purger returns the store as a sessions.Purger. Only the rules of purgeRules call it, which Run
// runs for a store that is one.
func (h *harness) purger() sessions.Purger {
	return h.store.(sessions.Purger)
}

// newAgent puts a new agent and returns it.
func (h *harness) newAgent(accountID, name string) sessions.Agent {
	h.tb.Helper()
	a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: accountID, Name: name}
	h.putAgent(a)
	return a
}

// putAgent puts a, which must succeed, and records it in the model.
func (h *harness) putAgent(a sessions.Agent) {
	h.tb.Helper()
	if err := h.store.PutAgent(h.ctx, a); err != nil {
		h.tb.Fatalf("PutAgent(%+v): %v", a, err)
	}
	h.model.agents[a.ID] = a
}

// put writes ss in one PutSessions call, which must succeed, and records them in the model.
func (h *harness) put(ss ...sessions.Session) {
	h.tb.Helper()
	if err := h.store.PutSessions(h.ctx, ss...); err != nil {
		h.tb.Fatalf("PutSessions(%d sessions): %v", len(ss), err)
	}
	h.model.put(ss...)
}

// putInBatches writes ss in PutSessions calls of at most size sessions.
func (h *harness) putInBatches(size int, ss []sessions.Session) {
	h.tb.Helper()
	for len(ss) > 0 {
		n := min(size, len(ss))
		h.put(ss[:n]...)
		ss = ss[n:]
	}
}

// checkAll walks every account the model knows, and compares each page with the model. A test
// calls it after a failed write to show that nothing was written.
func (h *harness) checkAll() {
	h.tb.Helper()
	for _, acct := range h.model.accounts() {
		h.walk(sessions.Filter{AccountID: acct, Limit: sessions.MaxLimit}, nil)
	}
}

// walk lists f from its position to the end of the list, comparing every page with the model,
// and returns the sessions of all pages. limits, when not nil, gives the Limit of each page.
// The model must not change during the walk.
func (h *harness) walk(f sessions.Filter, limits func() int) []sessions.Session {
	h.tb.Helper()
	return walkList(h.tb, h.ctx, h.store, f, limits, h.model.list(f))
}

// page reads one page of f, which must succeed, compares it with the model, and returns it.
func (h *harness) page(f sessions.Filter) sessions.Page {
	h.tb.Helper()
	p, err := h.store.ListSessions(h.ctx, f)
	if err != nil {
		h.tb.Fatalf("ListSessions(%s): %v", formatFilter(f), err)
	}
	checkPage(h.tb, f, p)
	want, more := pageOf(h.model.list(f), f)
	if diff := diffSessions(want, p.Sessions); diff != "" {
		h.tb.Fatalf("%s: sessions differ from the model (-want +got):\n%s", formatFilter(f), diff)
	}
	if more != (p.Next != nil) {
		h.tb.Fatalf("%s: Next is %s; want a Next: %t", formatFilter(f), formatCursor(p.Next), more)
	}
	return p
}

// walkList walks f like harness.walk, comparing each page with the list want (every matching
// session, in list order, regardless of f.After).
func walkList(tb testing.TB, ctx context.Context, s sessions.Store, f sessions.Filter, limits func() int, want []sessions.Session) []sessions.Session {
	tb.Helper()
	var all []sessions.Session
	for page := 1; ; page++ {
		if limits != nil {
			f.Limit = limits()
		}
		got, err := s.ListSessions(ctx, f)
		if err != nil {
			tb.Fatalf("page %d of %s: ListSessions: %v", page, formatFilter(f), err)
		}
		checkPage(tb, f, got)
		wantPage, more := pageOf(want, f)
		if diff := diffSessions(wantPage, got.Sessions); diff != "" {
			tb.Fatalf("page %d of %s: sessions differ from the model (-want +got):\n%s", page, formatFilter(f), diff)
		}
		switch {
		case more && got.Next == nil:
			tb.Fatalf("page %d of %s: Next is nil, but %d more sessions match", page, formatFilter(f), len(after(want, f.After))-len(wantPage))
		case !more && got.Next != nil:
			tb.Fatalf("page %d of %s: Next is %s, but no further session matches", page, formatFilter(f), formatCursor(got.Next))
		}
		all = append(all, got.Sessions...)
		if got.Next == nil {
			return all
		}
		next := *got.Next
		f.After = &next
	}
}

// diffSessions returns cmp.Diff(want, got). It first compares the sessions field by field, and
// calls cmp.Diff only when they differ (or might): pages are many, and cmp.Diff is slow.
func diffSessions(want, got []sessions.Session) string {
	if (want == nil) == (got == nil) && len(want) == len(got) {
		same := true
		for i := range want {
			if !sameSession(want[i], got[i]) {
				same = false
				break
			}
		}
		if same {
			return ""
		}
	}
	return cmp.Diff(want, got)
}

// sessionFields has the fields of sessions.Session, in order: the conversion below stops the
// build when Session gains a field that sameSession does not compare.
type sessionFields struct {
	ID               string
	AccountID        string
	AgentID          string
	StartedAt        time.Time
	EndedAt          time.Time
	Status           sessions.Status
	RedactionsByKind map[string]int
	UpstreamModel    string
	AgentName        string
}

var _ = sessions.Session(sessionFields{})

// sameSession reports whether a and b are certainly equal as cmp.Equal compares them: times with
// their Equal method, and maps nil only when both are.
func sameSession(a, b sessions.Session) bool {
	if a.ID != b.ID || a.AccountID != b.AccountID || a.AgentID != b.AgentID ||
		!a.StartedAt.Equal(b.StartedAt) || !a.EndedAt.Equal(b.EndedAt) || a.Status != b.Status ||
		a.UpstreamModel != b.UpstreamModel || a.AgentName != b.AgentName ||
		(a.RedactionsByKind == nil) != (b.RedactionsByKind == nil) || len(a.RedactionsByKind) != len(b.RedactionsByKind) {
		return false
	}
	for k, n := range a.RedactionsByKind {
		if m, ok := b.RedactionsByKind[k]; !ok || m != n {
			return false
		}
	}
	return true
}

// checkPage checks what every page must be, whatever the store holds: a non-nil slice (as
// sessions.NewPage makes, so that pages compare equal across stores), at most Limit sessions, each
// normalized, in list order, all after f.After, and a Next that moves forward.
func checkPage(tb testing.TB, f sessions.Filter, p sessions.Page) {
	tb.Helper()
	limit := f.Limit
	if limit == 0 {
		limit = sessions.DefaultLimit
	}
	if p.Sessions == nil {
		tb.Errorf("%s: Page.Sessions is nil; want an empty slice, as sessions.NewPage returns", formatFilter(f))
	}
	if len(p.Sessions) > limit {
		tb.Fatalf("%s: page of %d sessions; want at most %d", formatFilter(f), len(p.Sessions), limit)
	}
	for i, s := range p.Sessions {
		checkStored(tb, s)
		if s.AccountID != f.AccountID {
			tb.Fatalf("%s: returned session %s of account %q", formatFilter(f), s.ID, s.AccountID)
		}
		if i > 0 && !p.Sessions[i-1].Cursor().Before(s.Cursor()) {
			tb.Errorf("%s: session %d (%s) does not come after session %d (%s): want StartedAt descending, then ID descending",
				formatFilter(f), i, formatCursor(ptr(s.Cursor())), i-1, formatCursor(ptr(p.Sessions[i-1].Cursor())))
		}
		if f.After != nil && !f.After.Before(s.Cursor()) {
			tb.Errorf("%s: session %s at %s is not after the cursor", formatFilter(f), s.ID, formatTime(s.StartedAt))
		}
	}
	if p.Next != nil && f.After != nil && !f.After.Before(*p.Next) {
		tb.Fatalf("%s: Next %s does not move forward from the cursor", formatFilter(f), formatCursor(p.Next))
	}
}

// checkStored checks that a returned session is in the form every store returns: times in UTC
// whole milliseconds, and RedactionsByKind not nil and without zero counts.
func checkStored(tb testing.TB, s sessions.Session) {
	tb.Helper()
	for _, at := range []struct {
		name string
		t    time.Time
	}{{"StartedAt", s.StartedAt}, {"EndedAt", s.EndedAt}} {
		if at.t.Location() != time.UTC {
			tb.Errorf("session %s: %s is in %s; want UTC", s.ID, at.name, at.t.Location())
		}
		if at.t.Nanosecond()%int(time.Millisecond) != 0 {
			tb.Errorf("session %s: %s is %s; want whole milliseconds", s.ID, at.name, formatTime(at.t))
		}
	}
	if s.RedactionsByKind == nil {
		tb.Errorf("session %s: RedactionsByKind is nil; want an empty map", s.ID)
	}
	for k, n := range s.RedactionsByKind {
		if n == 0 {
			tb.Errorf("session %s: RedactionsByKind[%q] is 0; want zero counts dropped", s.ID, k)
		}
	}
}

// model is what a store must hold after the writes that succeeded: the brute-force oracle of the
// suite, built on sessions.Filter.Match and sessions.Cursor.Before.
type model struct {
	agents   map[string]sessions.Agent   // by ID
	sessions map[string]sessions.Session // by ID, normalized
}

func newModel() *model {
	return &model{agents: map[string]sessions.Agent{}, sessions: map[string]sessions.Session{}}
}

// put records a successful PutSessions call.
func (m *model) put(ss ...sessions.Session) {
	for _, s := range ss {
		m.sessions[s.ID] = s.Normalize()
	}
}

// purge records a successful PurgeSessions call and returns how many sessions it deletes.
func (m *model) purge(before time.Time) int64 {
	var n int64
	for id, s := range m.sessions {
		if s.StartedAt.Before(before) {
			delete(m.sessions, id)
			n++
		}
	}
	return n
}

// accounts returns the accounts of the model's agents, sorted.
func (m *model) accounts() []string {
	var out []string
	for _, a := range m.agents {
		out = append(out, a.AccountID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// list returns every session that f matches, in list order, with AgentName filled; f.After and
// f.Limit are not considered.
func (m *model) list(f sessions.Filter) []sessions.Session {
	out := []sessions.Session{}
	for _, s := range m.sessions {
		if f.Match(s) {
			s = s.Clone()
			s.AgentName = m.agents[s.AgentID].Name
			out = append(out, s)
		}
	}
	slices.SortFunc(out, compareSessions)
	return out
}

// compareSessions orders sessions in list order.
func compareSessions(a, b sessions.Session) int {
	switch {
	case a.Cursor().Before(b.Cursor()):
		return -1
	case b.Cursor().Before(a.Cursor()):
		return 1
	}
	return 0
}

// after returns the sessions of list (in list order) that come after the cursor c.
func after(list []sessions.Session, c *sessions.Cursor) []sessions.Session {
	if c == nil {
		return list
	}
	i := sort.Search(len(list), func(i int) bool { return c.Before(list[i].Cursor()) })
	return list[i:]
}

// pageOf returns the page of f taken from list (every matching session in list order), and
// whether more sessions follow it.
func pageOf(list []sessions.Session, f sessions.Filter) ([]sessions.Session, bool) {
	limit := f.Limit
	if limit == 0 {
		limit = sessions.DefaultLimit
	}
	rest := after(list, f.After)
	if len(rest) <= limit {
		return rest, false
	}
	return rest[:limit], true
}

// newSession returns a valid session of agent a, started at t, lasting 794 ms.
func newSession(a sessions.Agent, t time.Time, kinds map[string]int) sessions.Session {
	return sessions.Session{
		ID:               sessions.NewSessionID(t),
		AccountID:        a.AccountID,
		AgentID:          a.ID,
		StartedAt:        t,
		EndedAt:          t.Add(794 * time.Millisecond),
		Status:           sessions.StatusOK,
		RedactionsByKind: kinds,
		UpstreamModel:    "gpt-4o-mini",
	}
}

// randomSessionID returns a well-formed session ID drawn from rng, so that a seed decides the
// order of sessions that start at the same time. Its ULID time is unrelated to any StartedAt.
func randomSessionID(rng *rand.Rand) string {
	var id ulid.ULID
	binary.BigEndian.PutUint64(id[:8], rng.Uint64())
	binary.BigEndian.PutUint64(id[8:], rng.Uint64())
	return sessions.SessionIDPrefix + id.String()
}

// wantIs fails the test unless errors.Is(err, target).
func wantIs(tb testing.TB, what string, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Errorf("%s: got error %v; want one that matches %v", what, err, target)
	}
}

// wantValidation fails the test unless err is a *sessions.ValidationError for field.
func wantValidation(tb testing.TB, what string, err error, field string) *sessions.ValidationError {
	tb.Helper()
	var ve *sessions.ValidationError
	if !errors.As(err, &ve) {
		tb.Errorf("%s: got error %v; want a *sessions.ValidationError for %s", what, err, field)
		return nil
	}
	if ve.Field != field {
		tb.Errorf("%s: got a ValidationError for Field %q (%v); want Field %q", what, ve.Field, ve, field)
	}
	return ve
}

// seed returns the seed of the randomized subtests, and has a failing test print it.
func seed(t *testing.T) uint64 {
	t.Helper()
	const fixed = 20260503
	n := uint64(fixed)
	switch v := os.Getenv("STORETEST_SEED"); v {
	case "":
	case "random":
		n = uint64(time.Now().UnixNano())
	default:
		var err error
		if n, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("STORETEST_SEED=%q: want a number or \"random\"", v)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random seed %d: rerun with STORETEST_SEED=%d", n, n)
		}
	})
	return n
}

func ptr[T any](v T) *T { return &v }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.Format(time.RFC3339Nano)
}

func formatCursor(c *sessions.Cursor) string {
	if c == nil {
		return "nil"
	}
	return fmt.Sprintf("{%s %q}", formatTime(c.StartedAt), c.ID)
}

func formatFilter(f sessions.Filter) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Filter{AccountID:%q", f.AccountID)
	if f.AgentID != "" {
		fmt.Fprintf(&b, " AgentID:%s", f.AgentID)
	}
	if !f.Since.IsZero() {
		fmt.Fprintf(&b, " Since:%s", formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		fmt.Fprintf(&b, " Until:%s", formatTime(f.Until))
	}
	if f.Status != "" {
		fmt.Fprintf(&b, " Status:%q", f.Status)
	}
	if f.MinRedactions != 0 {
		fmt.Fprintf(&b, " MinRedactions:%d", f.MinRedactions)
	}
	fmt.Fprintf(&b, " Limit:%d", f.Limit)
	if f.After != nil {
		fmt.Fprintf(&b, " After:%s", formatCursor(f.After))
	}
	b.WriteString("}")
	return b.String()
}
