package sessions_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func sampleToken() sessions.Token {
	return sessions.Token{
		Scope: "agent",
		Filter: sessions.Filter{
			AccountID:     "acct_1",
			AgentID:       "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
			Since:         time.Date(2026, 5, 2, 21, 14, 32, 794e6, time.UTC),
			Until:         time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC),
			Status:        sessions.StatusError,
			MinRedactions: 5,
			After:         &sessions.Cursor{StartedAt: time.Date(2026, 5, 2, 23, 0, 0, 1e6, time.UTC), ID: "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA"},
		},
	}
}

func TestTokenRoundTrip(t *testing.T) {
	for _, tok := range []sessions.Token{
		sampleToken(),
		{Filter: sessions.Filter{AccountID: "a"}},
		{Scope: "account", Filter: sessions.Filter{AccountID: "ä ccount", Since: time.UnixMilli(-5).UTC(), After: &sessions.Cursor{StartedAt: time.UnixMilli(0).UTC()}}},
	} {
		s := tok.Encode(testKey)
		if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("token %q is not URL-safe", s)
		}
		got, err := sessions.DecodeToken(s, []byte("old key"), testKey)
		if err != nil {
			t.Fatalf("DecodeToken: %v", err)
		}
		want := tok
		want.Filter = tok.Filter.Normalize()
		want.Filter.Limit = 0
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if again := got.Encode(testKey); again != s {
			t.Errorf("re-encoded token %q, want %q", again, s)
		}
	}
}

func TestTokenLimitNotCarried(t *testing.T) {
	a, b := sampleToken(), sampleToken()
	b.Filter.Limit = 100
	if a.Encode(testKey) != b.Encode(testKey) {
		t.Error("tokens differ by Limit")
	}
}

func TestDecodeTokenRejects(t *testing.T) {
	good := sampleToken().Encode(testKey)
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	cases := map[string]string{
		"empty":          "",
		"not base64":     "!!!!",
		"padded":         good + "=",
		"truncated":      good[:len(good)-1],
		"truncated more": good[:len(good)/2],
		"extended":       good + "AA",
		"altered start":  flip(good, 0),
		"altered middle": flip(good, len(good)/2),
		"altered end":    flip(good, len(good)-2),
		"oversized":      strings.Repeat("A", sessions.MaxTokenLen+1),
		"other key":      sampleToken().Encode([]byte("another key of thirty-two bytes!")),
	}
	for name, s := range cases {
		_, err := sessions.DecodeToken(s, testKey)
		var verr *sessions.ValidationError
		if !errors.As(err, &verr) || verr.Field != "cursor" {
			t.Errorf("%s: DecodeToken = %v, want a *ValidationError for cursor", name, err)
		}
	}
}

func FuzzDecodeToken(f *testing.F) {
	f.Add(sampleToken().Encode(testKey))
	f.Add(sessions.Token{Filter: sessions.Filter{AccountID: "a"}}.Encode(testKey))
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := sessions.DecodeToken(s, testKey)
		if err != nil {
			var verr *sessions.ValidationError
			if !errors.As(err, &verr) || verr.Field != "cursor" {
				t.Fatalf("DecodeToken(%q) error %v is not a *ValidationError for cursor", s, err)
			}
			return
		}
		if tok.Filter.Validate() != nil {
			t.Fatalf("DecodeToken(%q) accepted an invalid filter %+v", s, tok.Filter)
		}
		if again := tok.Encode(testKey); again != s {
			t.Fatalf("DecodeToken(%q) re-encodes to %q", s, again)
		}
	})
}

// FuzzTokenRoundTrip encodes arbitrary queries: every token decodes to its normalized query.
func FuzzTokenRoundTrip(f *testing.F) {
	f.Add("agent", "acct", "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", int64(1e12), int64(2e12), "ok", 3, int64(15e11), "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA")
	f.Fuzz(func(t *testing.T, scope, account, agent string, since, until int64, status string, minRedactions int, at int64, id string) {
		tok := sessions.Token{Scope: scope, Filter: sessions.Filter{
			AccountID: account, AgentID: agent, Status: sessions.Status(status), MinRedactions: minRedactions,
			Since: time.UnixMilli(since), Until: time.UnixMilli(until),
			After: &sessions.Cursor{StartedAt: time.UnixMilli(at), ID: id},
		}}
		if tok.Filter.Validate() != nil {
			return
		}
		s := tok.Encode(testKey)
		got, err := sessions.DecodeToken(s, testKey)
		if len(s) > sessions.MaxTokenLen {
			// Only a Scope of hundreds of bytes makes such a token: refused, as documented.
			if err == nil {
				t.Fatalf("DecodeToken accepted a token of %d characters", len(s))
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeToken(Encode(%+v)): %v", tok, err)
		}
		want := tok
		want.Filter = tok.Filter.Normalize()
		want.Filter.Limit = 0
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

// TestTokenFitsMaxLen checks the longest token of a valid filter with a Scope of 256 bytes.
func TestTokenFitsMaxLen(t *testing.T) {
	tok := sampleToken()
	tok.Scope = strings.Repeat("s", 256)
	tok.Filter.AccountID = strings.Repeat("a", sessions.MaxAccountIDLen)
	tok.Filter.Status = sessions.StatusPartial
	tok.Filter.MinRedactions = math.MaxInt
	s := tok.Encode(testKey)
	if len(s) > sessions.MaxTokenLen {
		t.Fatalf("token of %d characters, over MaxTokenLen", len(s))
	}
	if _, err := sessions.DecodeToken(s, testKey); err != nil {
		t.Fatal(err)
	}
}
