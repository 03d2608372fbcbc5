package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// walk follows next_cursor from target until the last page, and returns the IDs in order. It
// checks that the Link header of each page leads to the same next page.
func walk(tb testing.TB, e *env, target, cookie string) []string {
	tb.Helper()
	ids := []string{}
	for pages := 0; ; pages++ {
		if pages > 100 {
			tb.Fatal("more than 100 pages")
		}
		res := e.do(tb, "GET", target, cookie)
		p := res.page(tb)
		ids = append(ids, p.ids()...)
		link := res.header.Get("Link")
		if p.NextCursor == "" {
			if link != "" {
				tb.Errorf("Link %q on the last page", link)
			}
			return ids
		}
		if len(p.Data) == 0 {
			tb.Error("a page with a next cursor is empty")
		}
		next, ok := strings.CutPrefix(link, "<")
		next, ok2 := strings.CutSuffix(next, `>; rel="next"`)
		if !ok || !ok2 {
			tb.Fatalf("Link %q", link)
		}
		u, err := url.Parse(next)
		if err != nil || u.Query().Get("cursor") != p.NextCursor {
			tb.Fatalf("Link %q does not carry next_cursor %q", link, p.NextCursor)
		}
		target = next
	}
}

// TestWalk checks that following the pages returns every matching session once, in order, on
// both endpoints, and that the Link header is the request's path and query with the new cursor.
func TestWalk(t *testing.T) {
	e := newEnv(t)
	var all, a1 []string
	for i := range 7 {
		agent := e.agentA1
		if i%3 == 0 {
			agent = e.agentA2
		}
		s := session(accountA, agent, time.Duration(i+1)*time.Minute)
		e.put(t, s)
		all = append(all, s.ID)
		if agent == e.agentA1 {
			a1 = append(a1, s.ID)
		}
	}
	e.put(t, session(accountB, e.agentB1, time.Minute))
	for _, tc := range []struct {
		target string
		want   []string
	}{
		{"/api/v1/sessions?limit=2", all},
		{"/api/v1/sessions?limit=1&since=1h", all},
		{"/api/v1/sessions?limit=3&agent_id=" + e.agentA1, a1},
		{"/api/v1/agents/" + e.agentA1 + "/sessions?limit=2&status=ok", a1},
		{"/api/v1/sessions?limit=7", all},
		{"/api/v1/sessions?limit=100", all},
	} {
		if diff := cmp.Diff(tc.want, walk(t, e, tc.target, e.cookieA)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.target, diff)
		}
	}

	// The Link keeps the request's path and parameters as sent, and replaces the cursor.
	res := e.do(t, "GET", "/api/v1/agents/"+e.agentA1+"/sessions?since=1h&limit=1&status=ok", e.cookieA)
	cursor := res.page(t).NextCursor
	want := "</api/v1/agents/" + e.agentA1 + "/sessions?since=1h&limit=1&status=ok&cursor=" + cursor + `>; rel="next"`
	if got := res.header.Get("Link"); got != want {
		t.Errorf("Link\n%s, want\n%s", got, want)
	}
	res = e.do(t, "GET", "/api/v1/agents/"+e.agentA1+"/sessions?cursor="+cursor+"&limit=1", e.cookieA)
	want = "</api/v1/agents/" + e.agentA1 + "/sessions?limit=1&cursor=" + res.page(t).NextCursor + `>; rel="next"`
	if got := res.header.Get("Link"); got != want {
		t.Errorf("Link\n%s, want\n%s", got, want)
	}
}

// TestLimitMayChange checks that limit may change from page to page.
func TestLimitMayChange(t *testing.T) {
	e := newEnv(t)
	want := e.putSessions(t, accountA, e.agentA1, 6)
	p := e.do(t, "GET", "/api/v1/sessions?limit=1", e.cookieA).page(t)
	got := p.ids()
	p = e.do(t, "GET", "/api/v1/sessions?limit=3&cursor="+p.NextCursor, e.cookieA).page(t)
	got = append(got, p.ids()...)
	p = e.do(t, "GET", "/api/v1/sessions?cursor="+p.NextCursor, e.cookieA).page(t) // default 25
	got = append(got, p.ids()...)
	if diff := cmp.Diff(want, got); diff != "" || p.NextCursor != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCursorPinsTheQuery checks that a request with a cursor may leave out or repeat the
// parameters of the first page, and that any change, or a token of another endpoint, account or
// agent, or a damaged token, gives 422 naming cursor.
func TestCursorPinsTheQuery(t *testing.T) {
	e := newEnv(t)
	for i := range 4 {
		s := session(accountA, e.agentA1, time.Duration(i+1)*time.Hour)
		s.RedactionsByKind = map[string]int{"NAME": 2}
		e.put(t, s)
		e.put(t, session(accountB, e.agentB1, time.Duration(i+1)*time.Hour))
	}
	agentPath := "/api/v1/agents/" + e.agentA1 + "/sessions"
	first := func(target, cookie string) string {
		t.Helper()
		c := e.do(t, "GET", target, cookie).page(t).NextCursor
		if c == "" {
			t.Fatalf("%s: no next cursor", target)
		}
		return c
	}
	agentDefault := first(agentPath+"?limit=1", e.cookieA)
	agentFull := first(agentPath+"?limit=1&since=7d&until=2026-05-04T11:30:00Z&status=ok&min_redactions=2", e.cookieA)
	agentAbsolute := first(agentPath+"?limit=1&since=2026-05-01T00:00:00.5Z&until=30m", e.cookieA)
	accountAll := first("/api/v1/sessions?limit=1", e.cookieA)
	accountAgent := first("/api/v1/sessions?limit=1&agent_id="+e.agentA1, e.cookieA)
	accountB := first("/api/v1/sessions?limit=1", e.cookieB)
	otherKey := newEnv(t, func(cfg *Config) { cfg.CursorKey = testKey('o') })
	otherKey.put(t, session(accountA, e.agentA1, time.Hour), session(accountA, e.agentA1, 2*time.Hour))
	foreignKey := otherKey.do(t, "GET", "/api/v1/sessions?limit=1", e.cookieA).page(t).NextCursor
	forged := cursorToken{endpoint: "agent", sinceAgo: 24 * time.Hour, account: accountA, agent: e.agentA1, since: now.Add(-24 * time.Hour),
		position: sessions.Cursor{StartedAt: now}}.encode(testKey('o'))
	forgedFields := cursorToken{endpoint: "agent", account: accountA, agent: e.agentA1, position: sessions.Cursor{StartedAt: now}}.appendFields(nil)
	version1 := sealedToken(append([]byte{1, byte(kindCursor)}, forgedFields...), testKey('k'))
	otherKind := sealedToken(append([]byte{tokenVersion, byte(kindResume)}, forgedFields...), testKey('k'))

	flip := func(s string) string { // change one character in the middle
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name   string
		target string
		cookie string // default A
		ok     bool
	}{
		{"omitted parameters", agentPath + "?cursor=" + agentDefault, "", true},
		{"since=24h repeats the default", agentPath + "?since=24h&cursor=" + agentDefault, "", true},
		{"since=1d is the same duration", agentPath + "?since=1d&cursor=" + agentDefault, "", true},
		{"since=7d is a change", agentPath + "?since=7d&cursor=" + agentDefault, "", false},
		{"since as the resolved timestamp is a change", agentPath + "?since=2026-05-03T12:00:00Z&cursor=" + agentDefault, "", false},
		{"until added", agentPath + "?until=1h&cursor=" + agentDefault, "", false},
		{"status added", agentPath + "?status=ok&cursor=" + agentDefault, "", false},
		{"min_redactions=0 repeats the default", agentPath + "?min_redactions=0&cursor=" + agentDefault, "", true},
		{"min_redactions added", agentPath + "?min_redactions=1&cursor=" + agentDefault, "", false},
		{"limit changed", agentPath + "?limit=50&cursor=" + agentDefault, "", true},
		{"all repeated", agentPath + "?limit=1&since=7d&until=2026-05-04T11:30:00Z&status=ok&min_redactions=2&cursor=" + agentFull, "", true},
		{"until in another form", agentPath + "?until=2026-05-04T13:30:00%2B02:00&cursor=" + agentFull, "", true},
		{"all omitted", agentPath + "?cursor=" + agentFull, "", true},
		{"since omitted counts as repeated", agentPath + "?status=ok&cursor=" + agentFull, "", true},
		{"since changed", agentPath + "?since=6d&cursor=" + agentFull, "", false},
		{"until changed", agentPath + "?until=2026-05-04T11:30:00.001Z&cursor=" + agentFull, "", false},
		{"until made relative", agentPath + "?until=30m&cursor=" + agentFull, "", false},
		{"status changed", agentPath + "?status=error&cursor=" + agentFull, "", false},
		{"min_redactions changed", agentPath + "?min_redactions=3&cursor=" + agentFull, "", false},
		{"absolute since repeated", agentPath + "?since=2026-05-01T00:00:00.5Z&until=30m&cursor=" + agentAbsolute, "", true},
		{"absolute since in another form", agentPath + "?since=2026-05-01T02:00:00.5%2B02:00&cursor=" + agentAbsolute, "", true},
		{"absolute since changed by a millisecond", agentPath + "?since=2026-05-01T00:00:00.501Z&cursor=" + agentAbsolute, "", false},
		{"absolute since made relative", agentPath + "?since=24h&cursor=" + agentAbsolute, "", false},
		{"another agent", "/api/v1/agents/" + e.agentA2 + "/sessions?cursor=" + agentDefault, "", false},
		{"another account", agentPath + "?cursor=" + accountB, e.cookieB, false},
		{"another account's cursor on /sessions", "/api/v1/sessions?cursor=" + accountB, "", false},
		{"agent endpoint cursor on /sessions", "/api/v1/sessions?cursor=" + agentDefault, "", false},
		{"/sessions cursor on the agent endpoint", agentPath + "?cursor=" + accountAll, "", false},
		{"/sessions cursor with agent_id omitted", "/api/v1/sessions?cursor=" + accountAgent, "", true},
		{"/sessions cursor with agent_id repeated", "/api/v1/sessions?agent_id=" + e.agentA1 + "&cursor=" + accountAgent, "", true},
		{"/sessions cursor with agent_id changed", "/api/v1/sessions?agent_id=" + e.agentA2 + "&cursor=" + accountAgent, "", false},
		{"/sessions cursor with agent_id added", "/api/v1/sessions?agent_id=" + e.agentA1 + "&cursor=" + accountAll, "", false},
		{"altered", agentPath + "?cursor=" + flip(agentDefault), "", false},
		{"truncated", agentPath + "?cursor=" + agentDefault[:len(agentDefault)-4], "", false},
		{"extended", agentPath + "?cursor=" + agentDefault + "AAAA", "", false},
		{"oversized", agentPath + "?cursor=" + strings.Repeat("A", maxCursorLen+1), "", false},
		{"not base64", agentPath + "?cursor=" + "!!!!", "", false},
		{"another key", "/api/v1/sessions?cursor=" + foreignKey, "", false},
		{"forged with another key", agentPath + "?cursor=" + forged, "", false},
		{"token of another version", agentPath + "?cursor=" + version1, "", false},
		{"token of another kind", agentPath + "?cursor=" + otherKind, "", false},
	} {
		cookie := tc.cookie
		if cookie == "" {
			cookie = e.cookieA
		}
		res := e.do(t, "GET", tc.target, cookie)
		if tc.ok {
			if res.status != http.StatusOK {
				t.Errorf("%s: status %d: %s", tc.name, res.status, res.body)
			}
			continue
		}
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422: %s", tc.name, res.status, res.body)
			continue
		}
		if d := res.envelope(t).Details; len(d) != 1 || d[0].Param != "cursor" {
			t.Errorf("%s: details %v, want one naming cursor", tc.name, d)
		}
	}
}

// TestRelativeSinceIsPinned checks that since=24h is resolved once, on the first page: later
// pages keep the window of the first while the clock moves, whether they repeat since or not.
func TestRelativeSinceIsPinned(t *testing.T) {
	e := newEnv(t)
	s1 := session(accountA, e.agentA1, 23*time.Hour+30*time.Minute)
	s2 := session(accountA, e.agentA1, 23*time.Hour+50*time.Minute)
	s3 := session(accountA, e.agentA1, 24*time.Hour+10*time.Minute) // never in the window
	e.put(t, s1, s2, s3)
	for _, since := range []string{"", "&since=24h"} {
		e.clock.t = now
		for _, path := range []string{"/api/v1/agents/" + e.agentA1 + "/sessions", "/api/v1/sessions"} {
			e.clock.t = now
			p := e.do(t, "GET", path+"?limit=1"+since, e.cookieA).page(t)
			e.clock.Add(time.Hour) // s2 has left a fresh 24h window
			if fresh := e.do(t, "GET", path+"?limit=1"+since, e.cookieA).page(t).ids(); len(fresh) != 0 {
				t.Fatalf("the fresh window still holds %v", fresh)
			}
			got := p.ids()
			for p.NextCursor != "" {
				p = e.do(t, "GET", path+"?limit=1"+since+"&cursor="+p.NextCursor, e.cookieA).page(t)
				got = append(got, p.ids()...)
				e.clock.Add(time.Hour)
			}
			if diff := cmp.Diff([]string{s1.ID, s2.ID}, got); diff != "" {
				t.Errorf("%s%s (-want +got):\n%s", path, since, diff)
			}
		}
	}
}

// TestRelativeUntilIsPinned checks that a relative until is resolved once too: a walk that
// repeats until=1h goes on, page after page, while the clock moves, and returns the sessions of
// the first page's window, none that the moving window takes in.
func TestRelativeUntilIsPinned(t *testing.T) {
	e := newEnv(t)
	s1 := session(accountA, e.agentA1, 70*time.Minute)
	s2 := session(accountA, e.agentA1, 80*time.Minute)
	s3 := session(accountA, e.agentA1, 90*time.Minute)
	later := session(accountA, e.agentA1, 50*time.Minute) // enters a fresh window after 10 minutes
	e.put(t, s1, s2, s3, later)
	for _, path := range []string{"/api/v1/agents/" + e.agentA1 + "/sessions", "/api/v1/sessions"} {
		e.clock.t = now
		p := e.do(t, "GET", path+"?limit=1&until=1h", e.cookieA).page(t)
		got := p.ids()
		for p.NextCursor != "" {
			e.clock.Add(20 * time.Minute)
			p = e.do(t, "GET", path+"?limit=1&until=1h&cursor="+p.NextCursor, e.cookieA).page(t)
			got = append(got, p.ids()...)
		}
		if diff := cmp.Diff([]string{s1.ID, s2.ID, s3.ID}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
}

// TestTenantIsolation checks that an account sees only its own sessions and agents, on both
// endpoints, and cannot use another account's cursors.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	var a, b []string
	for i := range 3 {
		sa := session(accountA, e.agentA1, time.Duration(i+1)*time.Minute)
		sb := session(accountB, e.agentB1, time.Duration(i+1)*time.Minute+time.Second)
		e.put(t, sa, sb)
		a = append(a, sa.ID)
		b = append(b, sb.ID)
	}
	for _, tc := range []struct {
		target, cookie string
		want           []string
	}{
		{"/api/v1/sessions?limit=1", e.cookieA, a},
		{"/api/v1/sessions?limit=1", e.cookieB, b},
		{"/api/v1/agents/" + e.agentA1 + "/sessions?limit=2", e.cookieA, a},
		{"/api/v1/agents/" + e.agentB1 + "/sessions?limit=2", e.cookieB, b},
	} {
		if diff := cmp.Diff(tc.want, walk(t, e, tc.target, tc.cookie)); diff != "" {
			t.Errorf("%s as %s (-want +got):\n%s", tc.target, tc.cookie, diff)
		}
	}
	for _, target := range []string{"/api/v1/agents/" + e.agentA1 + "/sessions", "/api/v1/sessions?agent_id=" + e.agentA1} {
		if res := e.do(t, "GET", target, e.cookieB); res.status != http.StatusNotFound {
			t.Errorf("%s as B: status %d", target, res.status)
		}
	}
	// A's cursors, carried to B, on both endpoints.
	for _, target := range []string{"/api/v1/agents/" + e.agentA1 + "/sessions?limit=1", "/api/v1/sessions?limit=1", "/api/v1/sessions?limit=1&agent_id=" + e.agentA1} {
		cursor := e.do(t, "GET", target, e.cookieA).page(t).NextCursor
		for _, path := range []string{target, "/api/v1/sessions", "/api/v1/agents/" + e.agentB1 + "/sessions"} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			res := e.do(t, "GET", path+sep+"cursor="+cursor, e.cookieB)
			if res.status != http.StatusUnprocessableEntity || res.envelope(t).Details[0].Param != "cursor" {
				t.Errorf("A's cursor of %s on %s as B: status %d: %s", target, path, res.status, res.body)
			}
		}
	}
}

// TestKeyRotation checks that previous keys are accepted for verification and that new
// cursors are signed with the current key.
func TestKeyRotation(t *testing.T) {
	old := newEnv(t, func(cfg *Config) { cfg.CursorKey = testKey('1') })
	old.putSessions(t, accountA, old.agentA1, 3)
	cursor := old.do(t, "GET", "/api/v1/sessions?limit=1", old.cookieA).page(t).NextCursor
	over := func(cfg *Config) { cfg.Store = old.store }
	rotated := newEnv(t, over, func(cfg *Config) { cfg.CursorKey = testKey('2'); cfg.PreviousCursorKeys = [][]byte{testKey('1')} })
	res := rotated.do(t, "GET", "/api/v1/sessions?limit=1&cursor="+cursor, rotated.cookieA)
	next := res.page(t).NextCursor
	if next == "" {
		t.Fatal("no next cursor")
	}
	if _, err := decodeCursor(next, [][]byte{testKey('2')}); err != nil {
		t.Errorf("a new cursor is not signed with the current key: %v", err)
	}
	dropped := newEnv(t, over, func(cfg *Config) { cfg.CursorKey = testKey('2') })
	if res := dropped.do(t, "GET", "/api/v1/sessions?cursor="+cursor, dropped.cookieA); res.status != http.StatusUnprocessableEntity {
		t.Errorf("a cursor of a dropped key: status %d", res.status)
	}
	if res := dropped.do(t, "GET", "/api/v1/sessions?cursor="+next, dropped.cookieA); res.status != http.StatusOK {
		t.Errorf("a cursor of the current key: status %d", res.status)
	}
}

// TestCursorKeyIsCopied checks that changing the caller's key slice after New changes nothing.
func TestCursorKeyIsCopied(t *testing.T) {
	key := testKey('c')
	e := newEnv(t, func(cfg *Config) { cfg.CursorKey = key })
	e.putSessions(t, accountA, e.agentA1, 2)
	cursor := e.do(t, "GET", "/api/v1/sessions?limit=1", e.cookieA).page(t).NextCursor
	key[0] = 'x'
	if res := e.do(t, "GET", "/api/v1/sessions?cursor="+cursor, e.cookieA); res.status != http.StatusOK {
		t.Errorf("status %d", res.status)
	}
}
