package sessions_test

import (
	"context"
	"errors"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

const (
	agentID   = "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA"
	sessionID = "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB"
)

func validSession() sessions.Session {
	start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	return sessions.Session{
		ID: sessionID, AccountID: "acct_1", AgentID: agentID,
		StartedAt: start, EndedAt: start.Add(794 * time.Millisecond),
		Status:           sessions.StatusOK,
		RedactionsByKind: map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1},
		UpstreamModel:    "gpt-4o-mini",
	}
}

func TestSessionValidate(t *testing.T) {
	cases := []struct {
		field  string
		change func(*sessions.Session)
	}{
		{"", func(*sessions.Session) {}},
		{"", func(s *sessions.Session) { s.RedactionsByKind = nil; s.UpstreamModel = "" }},
		{"", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"A": 0, "SSN_2": 3} }},
		{"", func(s *sessions.Session) { s.EndedAt = s.StartedAt }},
		{"", func(s *sessions.Session) { s.EndedAt = s.StartedAt.Add(sessions.MaxSessionDuration) }},
		{"", func(s *sessions.Session) { s.UpstreamModel = strings.Repeat("m", 128) }},
		{"", func(s *sessions.Session) { s.AgentName = "\x00 ignored" }},
		{"ID", func(s *sessions.Session) { s.ID = "" }},
		{"ID", func(s *sessions.Session) { s.ID = agentID }},
		{"ID", func(s *sessions.Session) { s.ID = strings.ToLower(sessionID) }},
		{"ID", func(s *sessions.Session) { s.ID = "sess_81HYZ3N5TV0QW3Y0B7VQ6J3RFA" }}, // overflows 128 bits
		{"ID", func(s *sessions.Session) { s.ID = "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFI" }}, // I is not Crockford
		{"ID", func(s *sessions.Session) { s.ID += "A" }},
		{"AccountID", func(s *sessions.Session) { s.AccountID = "" }},
		{"AccountID", func(s *sessions.Session) { s.AccountID = "a\x00b" }},
		{"AccountID", func(s *sessions.Session) { s.AccountID = strings.Repeat("a", 256) }},
		{"AccountID", func(s *sessions.Session) { s.AccountID = "\xff" }},
		{"AgentID", func(s *sessions.Session) { s.AgentID = "" }},
		{"AgentID", func(s *sessions.Session) { s.AgentID = sessionID }},
		{"StartedAt", func(s *sessions.Session) { s.StartedAt = time.Time{} }},
		{"StartedAt", func(s *sessions.Session) { s.StartedAt = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }},
		{"StartedAt", func(s *sessions.Session) { s.StartedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"EndedAt", func(s *sessions.Session) { s.EndedAt = s.StartedAt.Add(-time.Nanosecond) }},
		{"EndedAt", func(s *sessions.Session) { s.EndedAt = time.Time{} }},
		{"EndedAt", func(s *sessions.Session) { s.EndedAt = s.StartedAt.Add(sessions.MaxSessionDuration + time.Millisecond) }},
		{"EndedAt", func(s *sessions.Session) { s.EndedAt = sessions.MaxTime }}, // a sentinel for "open"
		{"Status", func(s *sessions.Session) { s.Status = "" }},
		{"Status", func(s *sessions.Session) { s.Status = "OK" }},
		{`RedactionsByKind["phone"]`, func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"phone": 1} }},
		{`RedactionsByKind["1X"]`, func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"1X": 1} }},
		{`RedactionsByKind[""]`, func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"": 1} }},
		{`RedactionsByKind["A234567890123456789012345678901234"]`, func(s *sessions.Session) {
			s.RedactionsByKind = map[string]int{"A234567890123456789012345678901234": 1}
		}},
		{`RedactionsByKind["PHONE"]`, func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"PHONE": -1} }},
		{`RedactionsByKind["PHONE"]`, func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"PHONE": sessions.MaxKindCount + 1} }},
		{"RedactionsByKind", func(s *sessions.Session) {
			s.RedactionsByKind = map[string]int{}
			for i := range sessions.MaxKinds + 1 {
				s.RedactionsByKind["K"+strings.Repeat("X", i)] = 1
			}
		}},
		{"UpstreamModel", func(s *sessions.Session) { s.UpstreamModel = strings.Repeat("m", 129) }},
		{"UpstreamModel", func(s *sessions.Session) { s.UpstreamModel = "gpt\n4" }},
		{"UpstreamModel", func(s *sessions.Session) { s.UpstreamModel = "gpt\xff" }},
	}
	for _, c := range cases {
		s := validSession()
		c.change(&s)
		err := s.Validate()
		if c.field == "" {
			if err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", s, err)
			}
			continue
		}
		var verr *sessions.ValidationError
		if !errors.As(err, &verr) || verr.Field != c.field || !strings.HasPrefix(verr.Subject, "session ") {
			t.Errorf("Validate(%+v) = %#v, want a *ValidationError for %s", s, err, c.field)
		}
	}
}

func TestAgentValidate(t *testing.T) {
	cases := []struct {
		agent sessions.Agent
		field string
	}{
		{sessions.Agent{ID: agentID, AccountID: "a"}, ""},
		{sessions.Agent{ID: agentID, AccountID: "a", Name: "appointment-bot-prod"}, ""},
		{sessions.Agent{ID: "agt_x", AccountID: "a"}, "ID"},
		{sessions.Agent{ID: sessionID, AccountID: "a"}, "ID"},
		{sessions.Agent{ID: agentID}, "AccountID"},
		{sessions.Agent{ID: agentID, AccountID: "a", Name: "bad\tname"}, "Name"},
		{sessions.Agent{ID: agentID, AccountID: "a", Name: strings.Repeat("n", 256)}, "Name"},
	}
	for _, c := range cases {
		err := c.agent.Validate()
		var verr *sessions.ValidationError
		if (c.field == "" && err != nil) || (c.field != "" && (!errors.As(err, &verr) || verr.Field != c.field)) {
			t.Errorf("Validate(%+v) = %v, want field %q", c.agent, err, c.field)
		}
	}
}

func TestSessionNormalize(t *testing.T) {
	in := validSession()
	zone := time.FixedZone("X", -7*3600)
	in.StartedAt = time.Date(2026, 5, 3, 14, 14, 32, 123_999_999, zone)
	in.EndedAt = in.StartedAt.Add(time.Second)
	in.RedactionsByKind = map[string]int{"PHONE": 1, "NAME": 0}
	in.AgentName = "ignored"
	got := in.Normalize()
	want := in
	want.StartedAt = time.Date(2026, 5, 3, 21, 14, 32, 123e6, time.UTC)
	want.EndedAt = time.Date(2026, 5, 3, 21, 14, 33, 123e6, time.UTC)
	want.RedactionsByKind = map[string]int{"PHONE": 1}
	want.AgentName = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
	got.RedactionsByKind["PHONE"] = 9
	if in.RedactionsByKind["PHONE"] != 1 {
		t.Error("Normalize shares its map with the input")
	}
	if m := (sessions.Session{}).Normalize().RedactionsByKind; m == nil {
		t.Error("Normalize left a nil map")
	}
	if got.Duration() != time.Second || got.RedactionCount() != 9 {
		t.Errorf("Duration, RedactionCount = %v, %d", got.Duration(), got.RedactionCount())
	}
}

func TestPrepareBatch(t *testing.T) {
	a, b := validSession(), validSession()
	b.ID = "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFC"
	a2 := a
	a2.Status = sessions.StatusError
	got, err := sessions.PrepareBatch([]sessions.Session{a, b, a2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]sessions.Session{b.Normalize(), a2.Normalize()}, got); diff != "" {
		t.Errorf("PrepareBatch: last version should win (-want +got):\n%s", diff)
	}
	other := a
	other.AgentID = "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFZ"
	if _, err := sessions.PrepareBatch([]sessions.Session{a, other}); !errors.Is(err, sessions.ErrConflict) {
		t.Errorf("same ID for two agents: %v, want ErrConflict", err)
	}
	bad := b
	bad.Status = "nope"
	_, err = sessions.PrepareBatch([]sessions.Session{a, bad})
	var verr *sessions.ValidationError
	if !errors.As(err, &verr) || !strings.Contains(verr.Subject, bad.ID) {
		t.Errorf("bad session: %v, want a *ValidationError naming %s", err, bad.ID)
	}
}

func TestFilterValidate(t *testing.T) {
	t0 := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		field  string
		change func(*sessions.Filter)
	}{
		{"", func(*sessions.Filter) {}},
		{"", func(f *sessions.Filter) {
			f.Limit = sessions.MaxLimit
			f.Status = sessions.StatusPartial
			f.AgentID = agentID
		}},
		{"", func(f *sessions.Filter) { f.Since, f.Until = t0, t0 }},
		{"", func(f *sessions.Filter) { f.After = &sessions.Cursor{StartedAt: t0} }},
		{"AccountID", func(f *sessions.Filter) { f.AccountID = "" }},
		{"AgentID", func(f *sessions.Filter) { f.AgentID = "agt_1" }},
		{"Limit", func(f *sessions.Filter) { f.Limit = -1 }},
		{"Limit", func(f *sessions.Filter) { f.Limit = sessions.MaxLimit + 1 }},
		{"Status", func(f *sessions.Filter) { f.Status = "failed" }},
		{"MinRedactions", func(f *sessions.Filter) { f.MinRedactions = -1 }},
		{"Until", func(f *sessions.Filter) { f.Since, f.Until = t0, t0.Add(-time.Millisecond) }},
		{"After", func(f *sessions.Filter) { f.After = &sessions.Cursor{StartedAt: t0, ID: "x"} }},
	}
	for _, c := range cases {
		f := sessions.Filter{AccountID: "acct"}
		c.change(&f)
		err := f.Validate()
		var verr *sessions.ValidationError
		if (c.field == "" && err != nil) || (c.field != "" && (!errors.As(err, &verr) || verr.Field != c.field || verr.Subject != "filter")) {
			t.Errorf("Validate(%+v) = %v, want field %q", f, err, c.field)
		}
	}
}

// TestFilterNormalizeSelectsTheSame checks that the normalized filter selects exactly the stored
// sessions that the filter as given selects, on times at and around millisecond boundaries.
func TestFilterNormalizeSelectsTheSame(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	base := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	randTime := func() time.Time {
		switch rng.Intn(8) {
		case 0:
			return time.Time{}
		case 1:
			return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		case 2:
			return time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return base.Add(time.Duration(rng.Intn(10_000_000)) - 5_000_000).In(time.FixedZone("Z", 3600*rng.Intn(5)))
	}
	for range 20000 {
		f := sessions.Filter{AccountID: "a", Since: randTime(), Until: randTime(), Limit: rng.Intn(3)}
		if rng.Intn(2) == 0 {
			f.After = &sessions.Cursor{StartedAt: randTime(), ID: []string{"", sessionID, "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFC"}[rng.Intn(3)]}
		}
		if f.Validate() != nil {
			continue
		}
		n := f.Normalize()
		if n.Limit < 1 || n.Limit > sessions.MaxLimit {
			t.Fatalf("Normalize(%+v).Limit = %d", f, n.Limit)
		}
		s := validSession()
		s.StartedAt = randTime()
		if s.Validate() != nil {
			continue
		}
		s = s.Normalize()
		if f.Match(s) != n.Match(s) {
			t.Fatalf("session at %v: Match %v, normalized %+v Match %v", s.StartedAt, f.Match(s), n, n.Match(s))
		}
		if f.After != nil && f.After.Before(s.Cursor()) != n.After.Before(s.Cursor()) {
			t.Fatalf("session at %v after %+v: %v; after normalized %+v: %v", s.Cursor(), *f.After, f.After.Before(s.Cursor()), *n.After, n.After.Before(s.Cursor()))
		}
	}
}

func TestNewPage(t *testing.T) {
	var ss []sessions.Session
	for i := range 4 {
		s := validSession()
		s.StartedAt = s.StartedAt.Add(-time.Duration(i) * time.Minute)
		ss = append(ss, s)
	}
	if p := sessions.NewPage(nil, 3); p.Sessions == nil || p.Next != nil {
		t.Errorf("empty page = %+v, want non-nil empty slice and no Next", p)
	}
	if p := sessions.NewPage(ss[:3], 3); len(p.Sessions) != 3 || p.Next != nil {
		t.Errorf("exactly limit: %+v, want 3 sessions and no Next", p)
	}
	p := sessions.NewPage(ss, 3)
	if len(p.Sessions) != 3 || p.Next == nil || *p.Next != ss[2].Cursor() {
		t.Errorf("limit+1: %+v, want 3 sessions and Next at the third", p)
	}
}

func TestCursorBefore(t *testing.T) {
	t0 := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	newer := sessions.Cursor{StartedAt: t0.Add(time.Millisecond), ID: "sess_0"}
	high := sessions.Cursor{StartedAt: t0, ID: "sess_2"}
	low := sessions.Cursor{StartedAt: t0, ID: "sess_1"}
	for _, c := range []struct {
		a, b sessions.Cursor
		want bool
	}{
		{newer, high, true}, {high, newer, false}, {high, low, true}, {low, high, false}, {low, low, false},
	} {
		if got := c.a.Before(c.b); got != c.want {
			t.Errorf("%v.Before(%v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestNewIDs(t *testing.T) {
	const n = 1000
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				a, s := sessions.NewAgentID(), sessions.NewSessionID(at)
				if !sessions.IsAgentID(a) || !sessions.IsSessionID(s) {
					t.Errorf("malformed IDs %q %q", a, s)
				}
				mu.Lock()
				seen[a], seen[s] = true, true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 8*n {
		t.Errorf("%d distinct IDs, want %d", len(seen), 8*n)
	}
	// Consecutive IDs made for the same millisecond sort in the order they were made.
	prev := sessions.NewSessionID(at)
	for range 100 {
		id := sessions.NewSessionID(at)
		if id <= prev {
			t.Fatalf("%s does not sort after %s", id, prev)
		}
		prev = id
	}
	// Agent IDs keep their order while session IDs of other times are made between them (the
	// clock of this loop may or may not move to another millisecond; either way, the order holds).
	prevAgent := sessions.NewAgentID()
	for range 200 {
		sessions.NewSessionID(at.Add(-time.Hour))
		if a := sessions.NewAgentID(); a <= prevAgent {
			t.Fatalf("agent ID %s does not sort after %s", a, prevAgent)
		} else {
			prevAgent = a
		}
	}
	// Times beyond what a ULID holds (year 10889) are clamped, not a panic; before 1970 too.
	for _, far := range []time.Time{time.Date(11000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if id := sessions.NewSessionID(far); !sessions.IsSessionID(id) {
			t.Errorf("NewSessionID(%v) = %q", far, id)
		}
	}
}

func TestFromContextError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	err := sessions.ContextError(ctx)
	if !errors.Is(err, sessions.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := sessions.ContextError(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("cancel: %v, want Canceled only", err)
	}
	if err := sessions.ContextError(context.Background()); err != nil {
		t.Errorf("live context: %v", err)
	}
}

// TestValidateEndedAtRequired checks that a call still in progress (no EndedAt) is refused with a
// message that says what to do, not that its end is before its start.
func TestValidateEndedAtRequired(t *testing.T) {
	start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	s := sessions.Session{ID: sessions.NewSessionID(start), AccountID: "acme", AgentID: sessions.NewAgentID(),
		StartedAt: start, Status: sessions.StatusOK}
	var verr *sessions.ValidationError
	if err := s.Validate(); !errors.As(err, &verr) {
		t.Fatalf("Validate() = %v; want a *ValidationError", err)
	}
	if want := "is required: record a session when its call has ended"; verr.Field != "EndedAt" || verr.Reason != want {
		t.Errorf("Validate() = %v; want EndedAt: %s", verr, want)
	}
}

func TestPurgeCutoff(t *testing.T) {
	t0 := time.Date(2026, 5, 3, 21, 14, 32, 794e6, time.UTC)
	cases := []struct {
		name   string
		before time.Time
		cutoff time.Time
		ok     bool
	}{
		{"whole millisecond", t0, t0, true},
		{"fraction rounds up", t0.Add(time.Microsecond), t0.Add(time.Millisecond), true},
		{"offset becomes UTC", t0.In(time.FixedZone("CEST", 2*3600)), t0, true},
		{"after MaxTime", time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), sessions.MaxTime.Add(time.Millisecond), true},
		{"MaxTime", sessions.MaxTime, sessions.MaxTime, true},
		{"just after MinTime", sessions.MinTime.Add(time.Nanosecond), sessions.MinTime.Add(time.Millisecond), true},
		{"MinTime", sessions.MinTime, sessions.MinTime, false},
		{"zero time", time.Time{}, sessions.MinTime, false},
	}
	type result struct {
		Cutoff time.Time
		Loc    string
		OK     bool
	}
	for _, c := range cases {
		cutoff, ok := sessions.PurgeCutoff(c.before)
		if diff := cmp.Diff(result{c.cutoff, "UTC", c.ok}, result{cutoff, cutoff.Location().String(), ok}); diff != "" {
			t.Errorf("%s: PurgeCutoff(%v) (-want +got):\n%s", c.name, c.before, diff)
		}
	}
	// A stored time (whole milliseconds, MinTime to MaxTime) is before `before` exactly when a
	// purge with the cutoff deletes it.
	rng := rand.New(rand.NewSource(15))
	for range 20000 {
		before := t0.Add(time.Duration(rng.Int63n(int64(10*time.Millisecond))) - 5*time.Millisecond)
		stored := t0.Add(time.Duration(rng.Intn(11)-5) * time.Millisecond)
		cutoff, ok := sessions.PurgeCutoff(before)
		if got, want := ok && stored.Before(cutoff), stored.Before(before); got != want {
			t.Fatalf("PurgeCutoff(%v) = %v, %v: deletes %v: %v, want %v", before, cutoff, ok, stored, got, want)
		}
	}
}

func TestFilterStartAfter(t *testing.T) {
	t0 := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	at := func(d time.Duration, id string) *sessions.Cursor {
		return &sessions.Cursor{StartedAt: t0.Add(d), ID: id}
	}
	type result struct {
		Position sessions.Cursor
		OK       bool
	}
	cases := []struct {
		name  string
		until time.Duration // from t0; 0: no Until
		after *sessions.Cursor
		want  result
	}{
		{"neither", 0, nil, result{}},
		{"Until only", time.Second, nil, result{*at(time.Second, ""), true}},
		{"cursor only", 0, at(time.Second, sessionID), result{*at(time.Second, sessionID), true}},
		{"cursor before Until", 2 * time.Second, at(time.Second, sessionID), result{*at(time.Second, sessionID), true}},
		{"cursor after Until", time.Second, at(2*time.Second, sessionID), result{*at(time.Second, ""), true}},
		{"cursor at Until with an ID", time.Second, at(time.Second, sessionID), result{*at(time.Second, ""), true}},
		{"cursor at Until without an ID", time.Second, at(time.Second, ""), result{*at(time.Second, ""), true}},
	}
	for _, c := range cases {
		f := sessions.Filter{AccountID: "acme", After: c.after}
		if c.until != 0 {
			f.Until = t0.Add(c.until)
		}
		var got result
		got.Position, got.OK = f.StartAfter()
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: StartAfter (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestListPage(t *testing.T) {
	start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	var three []sessions.Session
	for i := range 3 {
		s := validSession()
		s.StartedAt = start.Add(-time.Duration(i) * time.Minute)
		three = append(three, s)
	}
	errRead := errors.New("read failed")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name     string
		ctx      context.Context
		f        sessions.Filter
		read     []sessions.Session
		readErr  error
		wantRead bool // read is called, with f normalized
		want     sessions.Page
		wantErr  func(error) bool
	}{
		{
			name: "invalid filter", ctx: context.Background(), f: sessions.Filter{Limit: 1},
			wantErr: func(err error) bool { var v *sessions.ValidationError; return errors.As(err, &v) },
		},
		{
			name: "context ended", ctx: cancelled, f: sessions.Filter{AccountID: "acme"},
			wantErr: func(err error) bool { return errors.Is(err, context.Canceled) },
		},
		{
			name: "read error", ctx: context.Background(), f: sessions.Filter{AccountID: "acme"}, readErr: errRead, wantRead: true,
			wantErr: func(err error) bool { return err == errRead },
		},
		{
			name: "nothing", ctx: context.Background(), f: sessions.Filter{AccountID: "acme"}, wantRead: true,
			want: sessions.Page{Sessions: []sessions.Session{}},
		},
		{
			name: "more than the limit", ctx: context.Background(), f: sessions.Filter{AccountID: "acme", Limit: 2, Since: start.Add(-time.Hour + time.Microsecond)},
			read: three, wantRead: true, want: sessions.Page{Sessions: three[:2], Next: &sessions.Cursor{StartedAt: three[1].StartedAt, ID: three[1].ID}},
		},
	}
	for _, c := range cases {
		called := false
		got, err := sessions.ListPage(c.ctx, c.f, func(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
			called = true
			if diff := cmp.Diff(c.f.Normalize(), f); diff != "" {
				t.Errorf("%s: read got the filter (-want +got):\n%s", c.name, diff)
			}
			return c.read, c.readErr
		})
		if called != c.wantRead {
			t.Errorf("%s: read called: %v, want %v", c.name, called, c.wantRead)
		}
		if c.wantErr != nil {
			if !c.wantErr(err) {
				t.Errorf("%s: error %v", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: page (-want +got):\n%s", c.name, diff)
		}
	}
}
