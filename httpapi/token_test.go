package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// The cursor token's own properties: the format, the signature, and the refusals. cursor_test.go
// checks the same tokens through the handler.

func sampleCursor() cursorToken {
	return cursorToken{
		endpoint:      "agent",
		sinceAgo:      24 * time.Hour,
		account:       "acct_1",
		agent:         "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		since:         time.Date(2026, 5, 2, 21, 14, 32, 794e6, time.UTC),
		until:         time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC),
		status:        sessions.StatusError,
		minRedactions: 5,
		position:      sessions.Cursor{StartedAt: time.Date(2026, 5, 2, 23, 0, 0, 1e6, time.UTC), ID: "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA"},
	}
}

// allowCursorToken lets cmp compare the unexported fields of cursorToken.
var allowCursorToken = cmp.AllowUnexported(cursorToken{})

// sealedToken returns a token of these raw bytes (version, kind, fields), sealed with key: a
// token that only a holder of the key, or another version of this code, could make.
func sealedToken(payload []byte, key []byte) string {
	return sealToken(payload, key)
}

// version2Token returns a token of payload in the format of version 2: signed with
// HMAC-SHA256(key), not encrypted.
func version2Token(payload []byte, key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return tokenEncoding.EncodeToString(m.Sum(payload))
}

// otherIVToken returns a token of payload signed with key under an IV that is not its own: a
// spelling of the same fields that encodeToken never makes.
func otherIVToken(payload []byte, key []byte) string {
	return tokenEncoding.EncodeToString(newTokenSealer(key).appendSealedIV(nil, payload, make([]byte, tokenIVLen)))
}

// truncated returns token s without its last n bytes, still valid base64.
func truncated(s string, n int) string {
	raw, err := tokenEncoding.DecodeString(s)
	if err != nil || n > len(raw) {
		panic("truncated: not a token of n bytes or more")
	}
	return tokenEncoding.EncodeToString(raw[:len(raw)-n])
}

func TestCursorTokenRoundTrip(t *testing.T) {
	key := testKey('k')
	for _, tok := range []cursorToken{
		sampleCursor(),
		{endpoint: "account", account: "a", position: sessions.Cursor{StartedAt: sessions.MinTime}},
		{endpoint: "account", untilAgo: time.Hour, account: "ä ccount", since: time.UnixMilli(5).UTC(), position: sessions.Cursor{StartedAt: time.UnixMilli(0).UTC()}},
	} {
		s := tok.encode(key)
		if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("token %q is not URL-safe", s)
		}
		got, err := decodeCursor(s, [][]byte{testKey('o'), key})
		if err != nil {
			t.Fatalf("decodeCursor: %v", err)
		}
		if diff := cmp.Diff(tok, got, allowCursorToken); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if again := got.encode(key); again != s {
			t.Errorf("re-encoded token %q, want %q", again, s)
		}
	}
}

// TestNewCursorToken checks that a token keeps the normalized query of its filter, and neither
// its Limit nor a fraction of a millisecond.
func TestNewCursorToken(t *testing.T) {
	f := sessions.Filter{
		AccountID: "acct_1",
		Since:     time.Date(2026, 5, 2, 23, 14, 32, 793_000_001, time.FixedZone("", 2*60*60)),
		Status:    sessions.StatusOK,
		Limit:     100,
	}
	want := cursorToken{endpoint: "account", sinceAgo: time.Hour, account: "acct_1", since: time.Date(2026, 5, 2, 21, 14, 32, 794e6, time.UTC), status: sessions.StatusOK}
	got := newCursorToken(accountEndpoint, bound{ago: time.Hour}, bound{}, f)
	if diff := cmp.Diff(want, got, allowCursorToken); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	f.Limit = 0
	if a, b := got.encode(testKey('k')), newCursorToken(accountEndpoint, bound{ago: time.Hour}, bound{}, f).encode(testKey('k')); a != b {
		t.Error("tokens differ by Limit")
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	key := testKey('k')
	good := sampleCursor().encode(key)
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	const (
		notCursor    = "not a cursor from this API"
		altered      = "altered, truncated, or signed with another key"
		incompatible = "made by an incompatible version of this API"
	)
	fields := sampleCursor().appendFields(nil)
	unnormalized := sampleCursor()
	unnormalized.since = time.UnixMilli(-1).UTC() // before sessions.MinTime: Normalize drops it
	invalid := sampleCursor()
	invalid.status = "unknown"
	negative := sampleCursor()
	negative.sinceAgo = -time.Hour
	for _, tc := range []struct{ name, token, msg string }{ // msg "": any message naming cursor
		{"empty", "", notCursor},
		{"not base64", "!!!!", notCursor},
		{"padded", good + "=", notCursor},
		{"line break", good[:10] + "\n" + good[10:], notCursor},
		{"truncated", good[:len(good)-1], ""}, // base64 or not, depending on the length
		{"truncated by a byte", truncated(good, 1), altered},
		{"truncated to half", truncated(good, len(good)*3/8), altered},
		{"extended", good + "AA", ""},
		{"extended by 3 bytes", good + "AAAA", altered},
		{"altered version", flip(good, 0), incompatible},
		{"altered kind", flip(good, 2), altered},
		{"altered middle", flip(good, len(good)/2), altered},
		{"altered end", flip(good, len(good)-2), altered},
		{"oversized", strings.Repeat("A", maxCursorLen+1), "too long to be a cursor from this API"},
		{"other key", sampleCursor().encode(testKey('o')), altered},
		{"version 1", sealedToken(append([]byte{1, byte(kindCursor)}, fields...), key), incompatible},
		{"version 2 (signed, not encrypted)", version2Token(append([]byte{2, byte(kindCursor)}, fields...), key), incompatible},
		{"version 3 (AES-GCM)", tokenEncoding.EncodeToString(append([]byte{3, byte(kindCursor)}, make([]byte, 12+len(fields)+16)...)), incompatible},
		{"not its own IV", otherIVToken(append([]byte{tokenVersion, byte(kindCursor)}, fields...), key), incompatible},
		{"another kind", sealedToken(append([]byte{tokenVersion, byte(kindResume)}, fields...), key), notCursor},
		{"no kind", tokenEncoding.EncodeToString([]byte{tokenVersion}), notCursor},
		{"trailing bytes", sealedToken(append(append([]byte{tokenVersion, byte(kindCursor)}, fields...), 0), key), incompatible},
		{"cut fields", sealedToken(append([]byte{tokenVersion, byte(kindCursor)}, fields[:len(fields)-3]...), key), incompatible},
		{"not normalized", unnormalized.encode(key), incompatible},
		{"invalid query", invalid.encode(key), incompatible},
		{"negative pin", negative.encode(key), incompatible},
	} {
		_, err := decodeCursor(tc.token, [][]byte{key})
		if ps, ok := err.(invalidParams); tc.msg == "" && ok && len(ps) == 1 && ps[0].Param == "cursor" {
			continue // any reason
		}
		if diff := cmp.Diff(error(invalidParams{{Param: "cursor", Message: tc.msg}}), err, cmp.Comparer(func(a, b error) bool { return a.Error() == b.Error() })); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestTokenFitsMaxLen checks that the longest cursor of a valid request fits maxCursorLen: every
// field at its longest, and times and durations beyond any that a request resolves to.
func TestTokenFitsMaxLen(t *testing.T) {
	tok := sampleCursor()
	tok.endpoint = "account"
	tok.sinceAgo, tok.untilAgo = math.MaxInt64, math.MaxInt64
	tok.account = strings.Repeat("a", sessions.MaxAccountIDLen)
	tok.status = sessions.StatusPartial
	tok.minRedactions = math.MaxInt
	tok.since = time.UnixMilli(math.MinInt64 / 2)
	tok.until = time.UnixMilli(math.MaxInt64 / 2)
	tok.position.StartedAt = tok.until
	s := encodeToken(&tok, testKey('k'))
	if len(s) > maxCursorLen {
		t.Fatalf("token of %d characters, over maxCursorLen", len(s))
	}
}

// FuzzDecodeToken decodes arbitrary strings as cursors: each is refused with invalidParams naming
// cursor, or is a valid query that encodes back to the same string.
func FuzzDecodeToken(f *testing.F) {
	key := testKey('k')
	f.Add(sampleCursor().encode(key))
	f.Add(cursorToken{endpoint: "account", account: "a", position: sessions.Cursor{StartedAt: sessions.MinTime}}.encode(key))
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeCursor(s, [][]byte{key})
		if err != nil {
			if ps, ok := err.(invalidParams); !ok || len(ps) != 1 || ps[0].Param != "cursor" {
				t.Fatalf("decodeCursor(%q) error %v does not name cursor alone", s, err)
			}
			return
		}
		if err := tok.filter().Validate(); err != nil {
			t.Fatalf("decodeCursor(%q) accepted an invalid query: %v", s, err)
		}
		if again := tok.encode(key); again != s {
			t.Fatalf("decodeCursor(%q) re-encodes to %q", s, again)
		}
	})
}

// FuzzTokenRoundTrip encodes arbitrary queries: every token decodes to its normalized query.
func FuzzTokenRoundTrip(f *testing.F) {
	key := testKey('k')
	f.Add("agent", int64(24*time.Hour), int64(0), "acct", "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", int64(1e12), int64(2e12), "ok", 3, int64(15e11), "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA")
	f.Fuzz(func(t *testing.T, endpointName string, sinceAgo, untilAgo int64, account, agent string, since, until int64, status string, minRedactions int, at int64, id string) {
		q := sessions.Filter{
			AccountID: account, AgentID: agent, Status: sessions.Status(status), MinRedactions: minRedactions,
			Since: time.UnixMilli(since), Until: time.UnixMilli(until),
			After: &sessions.Cursor{StartedAt: time.UnixMilli(at), ID: id},
		}
		if q.Validate() != nil || sinceAgo < 0 || untilAgo < 0 {
			return
		}
		tok := newCursorToken(&endpoint{name: endpointName}, bound{ago: time.Duration(sinceAgo)}, bound{ago: time.Duration(untilAgo)}, q)
		s := tok.encode(key)
		got, err := decodeCursor(s, [][]byte{key})
		if len(s) > maxCursorLen {
			// Only an endpoint name of hundreds of bytes makes such a token: refused, as documented.
			if err == nil {
				t.Fatalf("decodeCursor accepted a token of %d characters", len(s))
			}
			return
		}
		if err != nil {
			t.Fatalf("decodeCursor(encode(%+v)): %v", tok, err)
		}
		if diff := cmp.Diff(tok, got, allowCursorToken); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		want := q.Normalize()
		want.Limit = 0
		if diff := cmp.Diff(want, got.filter()); diff != "" {
			t.Fatalf("query (-want +got):\n%s", diff)
		}
	})
}

// BenchmarkCursorRoundTrip encodes a cursor and decodes it back: what the tokens cost a page.
func BenchmarkCursorRoundTrip(b *testing.B) {
	key := testKey('k')
	tok := sampleCursor()
	for b.Loop() {
		if _, err := decodeCursor(tok.encode(key), [][]byte{key}); err != nil {
			b.Fatal(err)
		}
	}
}
