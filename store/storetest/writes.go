package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// testAtomicBatch checks that PutSessions writes every session of a call or none: one bad
// session, an unknown agent, an agent of another account, or a conflicting ID writes nothing,
// not even a rewrite of an existing session in the same call.
func testAtomicBatch(t *testing.T, h *harness) {
	a1 := h.newAgent("acme", "Front desk")
	a2 := h.newAgent("acme", "Billing")
	g1 := h.newAgent("globex", "Reception")
	e1 := newSession(a1, base, map[string]int{"PHONE": 1})
	e2 := newSession(g1, base, map[string]int{"NAME": 2})
	h.put(e1, e2)

	fresh := func(a sessions.Agent, i int) sessions.Session {
		return newSession(a, base.Add(time.Duration(i)*time.Minute), map[string]int{"DOB": i})
	}
	changed := e1
	changed.Status = sessions.StatusError
	changed.RedactionsByKind = map[string]int{"SSN": 9}
	badStatus := fresh(a1, 3)
	badStatus.Status = "done"
	unknownAgent := fresh(a1, 4)
	unknownAgent.AgentID = sessions.NewAgentID()
	otherAccountsAgent := fresh(a1, 5)
	otherAccountsAgent.AgentID = g1.ID
	otherAccountsID := e2
	otherAccountsID.AccountID, otherAccountsID.AgentID = "acme", a1.ID
	otherAgentsID := e1
	otherAgentsID.AgentID = a2.ID
	twice1, twice2 := fresh(a1, 6), fresh(a2, 6)
	twice2.ID = twice1.ID
	twiceAcross := fresh(g1, 7)
	twiceAcross.ID = twice1.ID

	// A failure after many good sessions: 500 with the large data sets, 50 with the small ones
	// (more than one statement of the SQLite store that TestConformanceChunked runs with at
	// most 7 sessions per statement).
	good := testscale.Pick(50, 500)
	many := func(n int, last sessions.Session) []sessions.Session {
		var ss []sessions.Session
		for i := range n {
			ss = append(ss, fresh([]sessions.Agent{a1, a2}[i%2], 10+i))
		}
		return append(ss, last)
	}

	cases := []struct {
		name      string
		batch     []sessions.Session
		wantIs    error  // the sentinel the error must match, or nil
		wantField string // the ValidationError's Field, when wantIs is nil
	}{
		{"invalid session last", []sessions.Session{fresh(a1, 1), fresh(a2, 2), badStatus}, nil, "Status"},
		{"invalid session first", []sessions.Session{badStatus, fresh(a1, 1), fresh(a2, 2)}, nil, "Status"},
		{"invalid session after a rewrite", []sessions.Session{changed, badStatus}, nil, "Status"},
		{fmt.Sprintf("invalid session after %d good ones", good), many(good, badStatus), nil, "Status"},
		{"unknown agent", []sessions.Session{fresh(a1, 1), unknownAgent}, sessions.ErrAgentNotFound, ""},
		{"unknown agent after a rewrite", []sessions.Session{changed, unknownAgent}, sessions.ErrAgentNotFound, ""},
		{fmt.Sprintf("unknown agent after %d good ones", good), many(good, unknownAgent), sessions.ErrAgentNotFound, ""},
		{"agent of another account", []sessions.Session{fresh(a1, 1), otherAccountsAgent}, sessions.ErrAgentNotFound, ""},
		{"ID of another account", []sessions.Session{fresh(a1, 1), otherAccountsID}, sessions.ErrConflict, ""},
		{"ID of another agent", []sessions.Session{changed, fresh(a2, 1), otherAgentsID}, sessions.ErrConflict, ""},
		{fmt.Sprintf("ID of another agent after %d good ones", good), many(good, otherAgentsID), sessions.ErrConflict, ""},
		{"same ID for two agents", []sessions.Session{fresh(a1, 1), twice1, twice2}, sessions.ErrConflict, ""},
		{"same ID for two accounts", []sessions.Session{twice1, twiceAcross}, sessions.ErrConflict, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			err := h.store.PutSessions(h.ctx, tc.batch...)
			if tc.wantIs != nil {
				wantIs(t, "PutSessions", err, tc.wantIs)
			} else {
				wantValidation(t, "PutSessions", err, tc.wantField)
			}
			h.checkAll()
		})
	}

	t.Run("empty batch", func(t *testing.T) {
		h := h.with(t)
		if err := h.store.PutSessions(h.ctx); err != nil {
			t.Errorf("PutSessions(): %v; want nil", err)
		}
		h.checkAll()
	})
	t.Run("good batch after failed ones", func(t *testing.T) {
		h := h.with(t)
		h.put(changed, fresh(a1, 1), fresh(a2, 2), twice1, fresh(g1, 3))
		h.checkAll()
	})

	// A batch larger than a store writes in one statement is still one transaction. The data
	// sets write 500 or 5,000 sessions: more than one statement of the SQLite store that its
	// tests run with at most 7 sessions per statement (TestConformanceChunked); its default,
	// 10,000 a statement, is larger than any batch of this suite.
	t.Run("large batch", func(t *testing.T) {
		h := h.with(t)
		n := testscale.Pick(500, 5000)
		big := h.newAgent("initech", "")
		var ss []sessions.Session
		for i := range n {
			ss = append(ss, newSession(big, base.Add(-time.Duration(i)*time.Millisecond), map[string]int{"PHONE": 1 + i%3, "NAME": i % 2}))
		}
		f := sessions.Filter{AccountID: "initech", Limit: sessions.MaxLimit}
		h.put(ss...)
		if got := len(h.walk(f, nil)); got != n {
			t.Fatalf("listed %d sessions after a batch of %d", got, n)
		}

		// Rewrite them all, add a new one, then one with an unknown agent at the end.
		rewrites := make([]sessions.Session, 0, n+1)
		for _, s := range ss {
			s.Status = sessions.StatusError
			s.RedactionsByKind = nil
			rewrites = append(rewrites, s)
		}
		stray := newSession(big, base, nil)
		stray.AgentID = sessions.NewAgentID()
		err := h.store.PutSessions(h.ctx, append(rewrites, newSession(big, base.Add(time.Hour), nil), stray)...)
		wantIs(t, "PutSessions of a large batch with an unknown agent last", err, sessions.ErrAgentNotFound)
		// Walks in pages of MaxLimit: each page is compared with the model whatever its size,
		// and pages of 10 made this the slowest case of the suite on SQLite.
		h.walk(sessions.Filter{AccountID: "initech", Status: sessions.StatusError, Limit: sessions.MaxLimit}, nil) // no rewrite
		h.walk(sessions.Filter{AccountID: "initech", Since: base.Add(time.Hour)}, nil)                             // no new session
		h.walk(f, nil)                                                                                             // no change
	})
}

// testSessionValidation checks that PutSessions rejects every invalid session with a
// *sessions.ValidationError that names the session and the field, writes nothing, and accepts
// the values at the edges of each rule.
func testSessionValidation(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	valid := func() sessions.Session {
		return newSession(a, base, map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1})
	}
	ulid := strings.TrimPrefix(sessions.NewSessionID(base), sessions.SessionIDPrefix)
	tooManyKinds := map[string]int{}
	for i := range sessions.MaxKinds + 1 {
		tooManyKinds[fmt.Sprintf("K%02d", i)] = 1
	}
	cases := []struct {
		name   string
		change func(s *sessions.Session)
		field  string
	}{
		{"ID empty", func(s *sessions.Session) { s.ID = "" }, "ID"},
		{"ID prefix only", func(s *sessions.Session) { s.ID = sessions.SessionIDPrefix }, "ID"},
		{"ID without prefix", func(s *sessions.Session) { s.ID = ulid }, "ID"},
		{"ID lower case", func(s *sessions.Session) { s.ID = sessions.SessionIDPrefix + strings.ToLower(ulid) }, "ID"},
		{"ID of an agent", func(s *sessions.Session) { s.ID = sessions.NewAgentID() }, "ID"},
		{"ID past the largest ULID", func(s *sessions.Session) { s.ID = sessions.SessionIDPrefix + "8" + strings.Repeat("0", 25) }, "ID"},
		{"ID with a letter outside Crockford base32", func(s *sessions.Session) { s.ID = sessions.SessionIDPrefix + ulid[:25] + "U" }, "ID"},
		{"ID too long", func(s *sessions.Session) { s.ID += "0" }, "ID"},
		{"AccountID empty", func(s *sessions.Session) { s.AccountID = "" }, "AccountID"},
		{"AccountID too long", func(s *sessions.Session) { s.AccountID = strings.Repeat("a", sessions.MaxAccountIDLen+1) }, "AccountID"},
		{"AccountID unprintable", func(s *sessions.Session) { s.AccountID = "acme\n" }, "AccountID"},
		{"AccountID not UTF-8", func(s *sessions.Session) { s.AccountID = "acme\xff" }, "AccountID"},
		{"AgentID empty", func(s *sessions.Session) { s.AgentID = "" }, "AgentID"},
		{"AgentID malformed", func(s *sessions.Session) { s.AgentID = "agt_123" }, "AgentID"},
		{"AgentID of a session", func(s *sessions.Session) { s.AgentID = sessions.NewSessionID(base) }, "AgentID"},
		{"StartedAt zero", func(s *sessions.Session) { s.StartedAt = time.Time{} }, "StartedAt"},
		{"StartedAt before 1970", func(s *sessions.Session) { s.StartedAt = sessions.MinTime.Add(-time.Millisecond) }, "StartedAt"},
		{"StartedAt a nanosecond before 1970", func(s *sessions.Session) { s.StartedAt = sessions.MinTime.Add(-time.Nanosecond) }, "StartedAt"},
		{"StartedAt after MaxTime", func(s *sessions.Session) {
			s.StartedAt = sessions.MaxTime.Add(time.Millisecond)
			s.EndedAt = s.StartedAt
		}, "StartedAt"},
		{"EndedAt zero", func(s *sessions.Session) { s.EndedAt = time.Time{} }, "EndedAt"},
		{"EndedAt before StartedAt", func(s *sessions.Session) { s.EndedAt = s.StartedAt.Add(-time.Second) }, "EndedAt"},
		{"EndedAt a nanosecond before StartedAt", func(s *sessions.Session) {
			s.StartedAt = base.Add(500 * time.Microsecond)
			s.EndedAt = s.StartedAt.Add(-time.Nanosecond)
		}, "EndedAt"},
		{"EndedAt after MaxTime", func(s *sessions.Session) {
			s.StartedAt = sessions.MaxTime.Add(-time.Second)
			s.EndedAt = sessions.MaxTime.Add(time.Nanosecond)
		}, "EndedAt"},
		{"longer than MaxSessionDuration", func(s *sessions.Session) {
			s.EndedAt = s.StartedAt.Add(sessions.MaxSessionDuration + time.Millisecond)
		}, "EndedAt"},
		{"Status empty", func(s *sessions.Session) { s.Status = "" }, "Status"},
		{"Status upper case", func(s *sessions.Session) { s.Status = "OK" }, "Status"},
		{"Status unknown", func(s *sessions.Session) { s.Status = "cancelled" }, "Status"},
		{"too many kinds", func(s *sessions.Session) { s.RedactionsByKind = tooManyKinds }, "RedactionsByKind"},
		{"kind lower case", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"PHONE": 1, "phone": 1} }, `RedactionsByKind["phone"]`},
		{"kind empty", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"": 1} }, `RedactionsByKind[""]`},
		{"kind starting with a digit", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"1PHONE": 1} }, `RedactionsByKind["1PHONE"]`},
		{"kind starting with an underscore", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"_PHONE": 1} }, `RedactionsByKind["_PHONE"]`},
		{"kind with a dash", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"PH-ONE": 1} }, `RedactionsByKind["PH-ONE"]`},
		{"kind of 33 characters", func(s *sessions.Session) {
			s.RedactionsByKind = map[string]int{"A" + strings.Repeat("B", 32): 1}
		}, `RedactionsByKind["A` + strings.Repeat("B", 32) + `"]`},
		{"negative count", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"NAME": 1, "PHONE": -1} }, `RedactionsByKind["PHONE"]`},
		{"count above MaxKindCount", func(s *sessions.Session) {
			s.RedactionsByKind = map[string]int{"PHONE": sessions.MaxKindCount + 1}
		}, `RedactionsByKind["PHONE"]`},
		{"UpstreamModel too long", func(s *sessions.Session) { s.UpstreamModel = strings.Repeat("x", sessions.MaxUpstreamModelLen+1) }, "UpstreamModel"},
		{"UpstreamModel unprintable", func(s *sessions.Session) { s.UpstreamModel = "gpt-4o\x00" }, "UpstreamModel"},
		{"UpstreamModel not UTF-8", func(s *sessions.Session) { s.UpstreamModel = "gpt-\xc3" }, "UpstreamModel"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			bad := valid()
			tc.change(&bad)
			// The suite's own check: the root package must agree that the case is invalid.
			if ve := wantValidation(t, "the case itself: Session.Validate", bad.Validate(), tc.field); ve == nil || t.Failed() {
				t.Fatalf("bad case in the suite")
			}
			batch := []sessions.Session{valid(), bad}
			if i%2 == 1 {
				batch = []sessions.Session{bad, valid()}
			}
			err := h.store.PutSessions(h.ctx, batch...)
			ve := wantValidation(t, "PutSessions", err, tc.field)
			if ve != nil && sessions.IsSessionID(bad.ID) && !strings.Contains(ve.Subject, bad.ID) {
				t.Errorf("ValidationError.Subject is %q; want it to name the session %s", ve.Subject, bad.ID)
			}
			h.checkAll()
		})
	}

	t.Run("accepts the edges", func(t *testing.T) {
		h := h.with(t)
		maxKinds := map[string]int{}
		for i := range sessions.MaxKinds {
			maxKinds[fmt.Sprintf("K%02d", i)] = sessions.MaxKindCount
		}
		longAccount := h.newAgent(strings.Repeat("a", sessions.MaxAccountIDLen), "")
		unicodeAccount := h.newAgent("acmé 株式会社", "Empfang")
		edges := []struct {
			name   string
			change func(s *sessions.Session)
		}{
			{"StartedAt and EndedAt at MinTime", func(s *sessions.Session) { s.StartedAt, s.EndedAt = sessions.MinTime, sessions.MinTime }},
			{"StartedAt and EndedAt at MaxTime", func(s *sessions.Session) { s.StartedAt, s.EndedAt = sessions.MaxTime, sessions.MaxTime }},
			{"EndedAt at MaxTime", func(s *sessions.Session) {
				s.StartedAt = sessions.MaxTime.Add(-500 * time.Microsecond)
				s.EndedAt = sessions.MaxTime
			}},
			{"EndedAt equal to StartedAt", func(s *sessions.Session) { s.EndedAt = s.StartedAt }},
			{"EndedAt in the same millisecond", func(s *sessions.Session) {
				s.StartedAt = base.Add(100 * time.Microsecond)
				s.EndedAt = base.Add(900 * time.Microsecond)
			}},
			{"every status: error", func(s *sessions.Session) { s.Status = sessions.StatusError }},
			{"every status: partial", func(s *sessions.Session) { s.Status = sessions.StatusPartial }},
			{"MaxKinds kinds at MaxKindCount", func(s *sessions.Session) { s.RedactionsByKind = maxKinds }},
			{"kind of 32 characters", func(s *sessions.Session) {
				s.RedactionsByKind = map[string]int{"A" + strings.Repeat("Z9_", 10) + "Q": 3}
			}},
			{"kind of one letter", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"X": 1} }},
			{"zero count", func(s *sessions.Session) { s.RedactionsByKind = map[string]int{"NAME": 0} }},
			{"no kinds", func(s *sessions.Session) { s.RedactionsByKind = nil }},
			{"UpstreamModel of 128 bytes", func(s *sessions.Session) { s.UpstreamModel = strings.Repeat("é", sessions.MaxUpstreamModelLen/2) }},
			{"UpstreamModel empty", func(s *sessions.Session) { s.UpstreamModel = "" }},
			{"UpstreamModel with spaces and quotes", func(s *sessions.Session) { s.UpstreamModel = `llama 3 "70b" 'it' ; --` }},
			{"AccountID of 255 bytes", func(s *sessions.Session) { s.AccountID, s.AgentID = longAccount.AccountID, longAccount.ID }},
			{"AccountID in Unicode", func(s *sessions.Session) { s.AccountID, s.AgentID = unicodeAccount.AccountID, unicodeAccount.ID }},
		}
		for _, e := range edges {
			s := valid()
			e.change(&s)
			if err := s.Validate(); err != nil {
				t.Fatalf("%s: bad case in the suite: %v", e.name, err)
			}
			if err := h.store.PutSessions(h.ctx, s); err != nil {
				t.Errorf("%s: PutSessions: %v", e.name, err)
				continue
			}
			h.model.put(s)
		}
		h.checkAll()
		// The sum of MaxKinds counts at MaxKindCount exceeds 32 bits.
		sum := sessions.MaxKinds * sessions.MaxKindCount
		h.walk(sessions.Filter{AccountID: "acme", MinRedactions: sum}, nil)
		h.walk(sessions.Filter{AccountID: "acme", MinRedactions: sum + 1}, nil)
		h.walk(sessions.Filter{AccountID: "acme", MinRedactions: sum - 1}, nil)
		if got := len(h.model.list(sessions.Filter{AccountID: "acme", MinRedactions: sum})); got != 1 {
			t.Fatalf("bad case in the suite: %d sessions with %d redactions", got, sum)
		}
	})
}

// testUpsert checks that writing a session ID again replaces the session, wherever its new
// StartedAt puts it and whatever its status and counts become, and that a cursor holds a
// position rather than a session.
func testUpsert(t *testing.T, h *harness) {
	a1 := h.newAgent("acme", "Front desk")
	a2 := h.newAgent("acme", "Billing")
	var around []sessions.Session
	for i := range 20 {
		around = append(around, newSession([]sessions.Agent{a1, a2}[i%2], base.Add(time.Duration(i-10)*time.Minute), map[string]int{"NAME": 1}))
	}
	h.put(around...)
	s := newSession(a1, base.Add(30*time.Second), map[string]int{"PHONE": 1, "NAME": 2})
	h.put(s)

	// checkOnce checks that the session is listed once, as its last version, in every view.
	checkOnce := func(t *testing.T, v sessions.Session) {
		t.Helper()
		h := h.with(t)
		for _, f := range []sessions.Filter{
			{AccountID: "acme", Limit: 7},
			{AccountID: "acme", AgentID: a1.ID, Limit: 3},
			{AccountID: "acme", Status: sessions.StatusOK},
			{AccountID: "acme", Status: sessions.StatusError},
			{AccountID: "acme", Status: sessions.StatusPartial},
			{AccountID: "acme", MinRedactions: 3},
			{AccountID: "acme", Since: base, Until: base.Add(time.Minute)},
			{AccountID: "acme", Since: base.Add(-2 * time.Hour), Until: base.Add(-time.Hour + time.Millisecond)},
			{AccountID: "acme", Since: v.StartedAt, Until: v.StartedAt.Add(time.Millisecond)},
		} {
			h.walk(f, nil)
		}
		n := 0
		for _, got := range h.walk(sessions.Filter{AccountID: "acme", Limit: sessions.MaxLimit}, nil) {
			if got.ID == v.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("session %s listed %d times; want once", v.ID, n)
		}
	}

	v := s
	t.Run("older, error, other kinds, no model", func(t *testing.T) {
		v.StartedAt = base.Add(-time.Hour).In(zonePST)
		v.EndedAt = v.StartedAt.Add(time.Minute)
		v.Status = sessions.StatusError
		v.RedactionsByKind = map[string]int{"DOB": 3}
		v.UpstreamModel = ""
		h.with(t).put(v)
		checkOnce(t, v)
	})
	t.Run("newer, partial, no kinds", func(t *testing.T) {
		v.StartedAt = base.Add(time.Hour + 1500*time.Microsecond)
		v.EndedAt = v.StartedAt.Add(time.Second)
		v.Status = sessions.StatusPartial
		v.RedactionsByKind = nil
		v.UpstreamModel = "claude-3-5-haiku"
		h.with(t).put(v)
		checkOnce(t, v)
	})
	t.Run("tied with another session", func(t *testing.T) {
		v.StartedAt = around[3].StartedAt
		v.EndedAt = v.StartedAt
		v.Status = sessions.StatusOK
		v.RedactionsByKind = map[string]int{"SSN": 1, "PHONE": 0}
		h.with(t).put(v)
		checkOnce(t, v)
	})
	t.Run("twice in one batch, last wins", func(t *testing.T) {
		first, last := v, v
		first.Status = sessions.StatusError
		first.StartedAt = base.Add(2 * time.Hour)
		first.EndedAt = first.StartedAt
		last.RedactionsByKind = map[string]int{"MRN": 4}
		h.with(t).put(first, around[0], last)
		checkOnce(t, last)
		v = last
	})
	t.Run("same version again", func(t *testing.T) {
		h.with(t).put(v, v)
		h.with(t).put(v)
		checkOnce(t, v)
	})

	t.Run("an ID of SessionIDFor, recorded twice", func(t *testing.T) {
		// A platform that records a call by its own call ID (a Twilio CallSid) twice, say once
		// when it starts and once when it ends, gets one session, its last version.
		call := newSession(a2, base.Add(-5*time.Minute), map[string]int{"NAME": 1})
		call.ID = sessions.SessionIDFor("acme", "CA5f3f1b2c8e")
		call.Status = sessions.StatusPartial
		h.with(t).put(call)
		call.EndedAt = call.StartedAt.Add(4 * time.Minute)
		call.Status = sessions.StatusOK
		call.RedactionsByKind = map[string]int{"NAME": 2, "PHONE": 1}
		h.with(t).put(call)
		checkOnce(t, call)
	})

	// A walk goes on from its position when the session at the cursor, and sessions on either
	// side of it, move.
	t.Run("cursor is a position", func(t *testing.T) {
		h := h.with(t)
		f := sessions.Filter{AccountID: "acme", Limit: 5}
		p, err := h.store.ListSessions(h.ctx, f)
		if err != nil || p.Next == nil {
			t.Fatalf("ListSessions(%s) = Next %v, error %v; want a Next", formatFilter(f), p.Next, err)
		}
		atCursor := p.Sessions[len(p.Sessions)-1]
		rest := h.model.list(f)[5:]
		ahead, behind := rest[0], p.Sessions[0]
		atCursor.StartedAt = base.Add(3 * time.Hour) // to the front
		ahead.StartedAt = base.Add(4 * time.Hour)    // from ahead of the walk to behind it
		behind.StartedAt = base.Add(-3 * time.Hour)  // from behind the walk to ahead of it
		for _, s := range []*sessions.Session{&atCursor, &ahead, &behind} {
			s.EndedAt = s.StartedAt
			s.AgentName = ""
		}
		h.put(atCursor, ahead, behind)
		f.After = p.Next
		got := h.walk(f, nil)
		ids := map[string]bool{}
		for _, s := range got {
			ids[s.ID] = true
		}
		if ids[atCursor.ID] || ids[ahead.ID] || !ids[behind.ID] {
			t.Errorf("after moving sessions, the walk returned the one at the cursor: %t, the one moved behind: %t, the one moved ahead: %t; want false, false, true",
				ids[atCursor.ID], ids[ahead.ID], ids[behind.ID])
		}
	})
}

// testConflict checks that a session ID that belongs to another account, or to another agent of
// the same account, gives ErrConflict and changes nothing.
func testConflict(t *testing.T, h *harness) {
	a1 := h.newAgent("acme", "Front desk")
	a2 := h.newAgent("acme", "Billing")
	g1 := h.newAgent("globex", "Reception")
	s := newSession(a1, base, map[string]int{"PHONE": 1})
	g := newSession(g1, base.Add(time.Second), map[string]int{"NAME": 1})
	h.put(s, g)

	inAccount := func(s sessions.Session, a sessions.Agent) sessions.Session {
		s.AccountID, s.AgentID = a.AccountID, a.ID
		s.Status = sessions.StatusError // a different version, so that a write would show
		return s
	}
	cases := []struct {
		name  string
		batch []sessions.Session
	}{
		{"ID of another account", []sessions.Session{inAccount(s, g1)}},
		{"ID of another account, the other way", []sessions.Session{inAccount(g, a1)}},
		{"ID of another agent", []sessions.Session{inAccount(s, a2)}},
		{"ID of another agent, with a good session", []sessions.Session{newSession(a2, base, nil), inAccount(s, a2)}},
		{"ID of another agent, after a rewrite of it", []sessions.Session{inAccount(s, a1), inAccount(s, a2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			wantIs(t, "PutSessions", h.store.PutSessions(h.ctx, tc.batch...), sessions.ErrConflict)
			h.checkAll()
		})
	}
	t.Run("rewrite in its own agent still works", func(t *testing.T) {
		h := h.with(t)
		h.put(inAccount(s, a1))
		h.checkAll()
	})

	// Two writers race to create one session ID for two agents, or for two accounts: exactly
	// one wins and the other gets ErrConflict, however the store serializes them.
	t.Run("concurrent writers", func(t *testing.T) {
		h := h.with(t)
		for i := range 20 {
			x := newSession(a1, base.Add(time.Duration(i)*time.Second), nil)
			y := x
			if i%2 == 0 {
				y.AgentID = a2.ID
			} else {
				y.AccountID, y.AgentID = g1.AccountID, g1.ID
			}
			errs := race2(
				func() error { return h.store.PutSessions(h.ctx, x) },
				func() error { return h.store.PutSessions(h.ctx, y) },
			)
			switch {
			case errs[0] == nil && errors.Is(errs[1], sessions.ErrConflict):
				h.model.put(x)
			case errs[1] == nil && errors.Is(errs[0], sessions.ErrConflict):
				h.model.put(y)
			default:
				t.Fatalf("round %d: PutSessions of one ID for two %s at once returned %v and %v; want nil and ErrConflict",
					i, map[bool]string{true: "agents", false: "accounts"}[i%2 == 0], errs[0], errs[1])
			}
		}
		h.checkAll()
	})
}

// race2 runs f and g at the same time, as far as the scheduler allows, and returns their errors.
func race2(f, g func() error) [2]error {
	var errs [2]error
	startGate := make(chan struct{})
	done := make(chan struct{})
	for i, fn := range []func() error{f, g} {
		go func() {
			defer func() { done <- struct{}{} }()
			<-startGate
			errs[i] = fn()
		}()
	}
	close(startGate)
	<-done
	<-done
	return errs
}
