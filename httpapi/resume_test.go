package httpapi

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

func sampleResume() resumeToken {
	return resumeToken{
		endpoint:      "agent",
		account:       "acct_1",
		agent:         "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		status:        sessions.StatusPartial,
		minRedactions: 2,
		position:      "0000000000000042:7",
	}
}

var allowResumeToken = cmp.AllowUnexported(resumeToken{})

// TestResumeTokenRoundTrip checks that a resume token decodes to itself, with the current key or
// a previous one, and that it fits an SSE id field.
func TestResumeTokenRoundTrip(t *testing.T) {
	for _, tok := range []resumeToken{
		sampleResume(),
		{endpoint: "account", account: "a"},
		{endpoint: "account", account: "ä ccount", position: "\x00\n binary \xff"},
	} {
		for _, key := range [][]byte{testKey('k'), testKey('p')} {
			s := tok.encode(key)
			if strings.ContainsAny(s, "\r\n\x00") {
				t.Errorf("token %q does not fit an SSE id field", s)
			}
			got, err := decodeResume(s, [][]byte{testKey('k'), testKey('p')})
			if err != nil {
				t.Fatalf("decodeResume: %v", err)
			}
			if diff := cmp.Diff(tok, got, allowResumeToken); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		}
	}
}

// TestTokenKindsApart checks that a cursor is never taken for a resume token, nor the reverse,
// though both are signed with the same key.
func TestTokenKindsApart(t *testing.T) {
	key := [][]byte{testKey('k')}
	if _, err := decodeResume(sampleCursor().encode(key[0]), key); err == nil {
		t.Error("a cursor was accepted as a resume token")
	}
	if _, err := decodeCursor(sampleResume().encode(key[0]), key); err == nil {
		t.Error("a resume token was accepted as a cursor")
	}
}

func TestDecodeResumeRejects(t *testing.T) {
	key := testKey('k')
	good := sampleResume().encode(key)
	invalid := sampleResume()
	invalid.agent = "agt_nope"
	negative := sampleResume()
	negative.minRedactions = -1
	for _, tc := range []struct{ name, token, msg string }{
		{"empty", "", "not a stream position from this API"},
		{"cursor", sampleCursor().encode(key), "not a stream position from this API"},
		{"truncated", truncated(good, 1), "altered, truncated, or signed with another key"},
		{"other key", sampleResume().encode(testKey('o')), "altered, truncated, or signed with another key"},
		{"oversized", strings.Repeat("A", maxResumeLen+1), "too long to be a stream position from this API"},
		{"version 1", sealedToken(append([]byte{1, byte(kindResume)}, sampleResume().appendFields(nil)...), key), "made by an incompatible version of this API"},
		{"invalid agent", invalid.encode(key), "made by an incompatible version of this API"},
		{"negative min_redactions", negative.encode(key), "made by an incompatible version of this API"},
	} {
		_, err := decodeResume(tc.token, [][]byte{key})
		want := invalidParams{{Param: "Last-Event-ID", Message: tc.msg}}
		if diff := cmp.Diff(want, err); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.name, diff)
		}
	}
}

// FuzzDecodeResume decodes arbitrary strings as resume tokens: each is refused with invalidParams
// naming Last-Event-ID, or is a valid filter that encodes back to the same string.
func FuzzDecodeResume(f *testing.F) {
	key := testKey('k')
	f.Add(sampleResume().encode(key))
	f.Add(sampleCursor().encode(key))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeResume(s, [][]byte{key})
		if err != nil {
			if ps, ok := err.(invalidParams); !ok || len(ps) != 1 || ps[0].Param != "Last-Event-ID" {
				t.Fatalf("decodeResume(%q) error %v does not name Last-Event-ID alone", s, err)
			}
			return
		}
		if err := tok.filter().Validate(); err != nil {
			t.Fatalf("decodeResume(%q) accepted an invalid filter: %v", s, err)
		}
		if again := tok.encode(key); again != s {
			t.Fatalf("decodeResume(%q) re-encodes to %q", s, again)
		}
	})
}

// TestResumeSigner checks that the signer of a stream makes the tokens of resumeToken.encode,
// byte for byte, for positions one after the other, longer and shorter, whatever the stream.
func TestResumeSigner(t *testing.T) {
	positions := []string{"", "1", "42", "0000000000000042:7", "9", strings.Repeat("p", 300), "7"}
	for _, tok := range []resumeToken{
		sampleResume(),
		{endpoint: "account", account: "a"},
		{endpoint: "account", account: "ä ccount", agent: "agt_x", minRedactions: -3},
	} {
		sign := newResumeSigner(tok, testKey('k'))
		for _, p := range positions {
			tok.position = p
			want := tok.encode(testKey('k'))
			if diff := cmp.Diff(want, string(sign.appendToken([]byte("id: "), p))[len("id: "):]); diff != "" {
				t.Errorf("%+v: token (-want +got):\n%s", tok, diff)
			}
		}
	}
}

// TestResumeTokenFitsMaxLen checks that a resume token carries a PostgreSQL position of a busy
// server (the store's position holds the transactions in flight when the stream began: here 500
// of them, with 10-digit IDs, as on an old cluster) under the longest account ID, and that a
// stream hands it back whole.
func TestResumeTokenFitsMaxLen(t *testing.T) {
	var p strings.Builder
	p.WriteString("4000000000.1/4000000600:")
	for i := range 500 {
		if i > 0 {
			p.WriteByte(',')
		}
		fmt.Fprintf(&p, "%d", 4000000001+i)
	}
	tok := sampleResume()
	tok.account = strings.Repeat("a", sessions.MaxAccountIDLen)
	tok.position = p.String()
	s := tok.encode(testKey('k'))
	if len(s) > maxResumeLen {
		t.Fatalf("token of %d characters, over maxResumeLen", len(s))
	}
	got, err := decodeResume(s, [][]byte{testKey('k')})
	if err != nil || got.position != tok.position {
		t.Errorf("decodeResume: %v, position of %d bytes, want %d", err, len(got.position), len(tok.position))
	}
}

// TestResumeTokenHidesPosition checks that a resume token does not show the store's position,
// which counts the writes of every account: its bytes hold neither the position nor the account.
func TestResumeTokenHidesPosition(t *testing.T) {
	tok := sampleResume()
	tok.position = "24335.3001"
	raw, err := tokenEncoding.DecodeString(tok.encode(testKey('k')))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok.position, "24335", "3001", tok.account} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the token's bytes show %q", secret)
		}
	}
	other := tok
	other.position = "24336.3002"
	if a, b := tok.encode(testKey('k')), other.encode(testKey('k')); a[:20] == b[:20] {
		t.Errorf("tokens of two positions share their first 20 characters: %s, %s", a, b)
	}
}
