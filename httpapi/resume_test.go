package httpapi

import (
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
		{"oversized", strings.Repeat("A", maxTokenLen+1), "too long to be a stream position from this API"},
		{"version 1", signedToken(append([]byte{1, byte(kindResume)}, sampleResume().appendFields(nil)...), key), "made by an incompatible version of this API"},
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
