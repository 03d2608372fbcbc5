package httpapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// The handler hands out signed, opaque tokens that a client gives back later: the list's cursors
// (cursorToken, in cursor.go), and the stream's resume tokens (resumeToken, in resume.go). This
// file holds what every kind shares: the format, the signature, the checks, and the encoding of
// fields.
//
// A token is the URL-safe base64 (no padding) of
//
//	version (1 byte) | kind (1 byte) | the kind's fields | HMAC-SHA256(key, everything before)
//
// The kind is signed with the rest, so that a token of one kind is never taken for another. The
// fields use the appendToken encodings below. A token that verifies must also parse back to
// exactly its own bytes, so that each token has one spelling.
//
// Version 1 had no kind byte, and carried the list's query as a "ENDPOINT;since=PIN;until=PIN"
// string next to a sessions.Filter; version 2 refuses its tokens (as made by an incompatible
// version), so cursors handed out before the change fail once, with 422 naming cursor.
//
// To add a kind: give it a tokenKind constant (never reuse a number) and a kindInfo in
// tokenKinds, and write a struct with its typed fields that implements tokenFields, as
// cursorToken and resumeToken do, with an encode method and a decode function. encodeToken signs
// with the current key (settings.keys[0]); decodeToken checks a token against every accepted key
// (Config.CursorKey, then Config.PreviousCursorKeys) and returns invalidParams naming the kind's
// parameter. The decode function then checks what only its kind knows (a valid filter), and the
// route checks that the token belongs to the request (account, route, agent, filters).

const (
	// tokenVersion is the first byte of every token: the format above.
	tokenVersion = 2

	// maxTokenLen is the length of the longest token string that decodeToken accepts. Every
	// token of a valid request fits (TestTokenFitsMaxLen), and a longer string is refused before
	// it is decoded.
	maxTokenLen = 1024

	tokenMACLen = sha256.Size
)

// tokenKind is the second byte of a token: what it is for.
type tokenKind byte

const (
	kindCursor tokenKind = 1 // a list cursor: cursorToken
	kindResume tokenKind = 2 // a stream's resume token (Last-Event-ID): resumeToken
)

// kindInfo is what a refusal says of a kind: the parameter it names and the noun of its messages.
type kindInfo struct {
	param string // "cursor"
	noun  string // "cursor", as in "not a cursor from this API"
}

var tokenKinds = map[tokenKind]kindInfo{
	kindCursor: {param: paramNames[paramCursor], noun: "cursor"},
	kindResume: {param: "Last-Event-ID", noun: "stream position"},
}

// tokenFields is the typed content of one kind of token.
type tokenFields interface {
	// kind returns the kind of the token.
	kind() tokenKind
	// appendFields appends the fields to b with the appendToken functions, and returns b.
	appendFields(b []byte) []byte
	// readFields reads what appendFields wrote. An error is kept in r.
	readFields(r *tokenReader)
}

var tokenEncoding = base64.RawURLEncoding.Strict()

// encodeToken returns the token of t, signed with key. It is safe for concurrent use.
func encodeToken(t tokenFields, key []byte) string {
	payload := t.appendFields([]byte{tokenVersion, byte(t.kind())})
	return tokenEncoding.EncodeToString(append(payload, sign(key, payload)...))
}

// decodeToken sets t to the token that s encodes, when encodeToken made s for t's kind with one
// of keys. It returns invalidParams naming the kind's parameter when s is too long, not a token,
// altered, truncated, signed with another key, of another kind, or made by another version. It
// is safe for concurrent use.
func decodeToken(s string, keys [][]byte, t tokenFields) error {
	info := tokenKinds[t.kind()]
	bad := func(msg string) error { return invalidParams{{Param: info.param, Message: msg}} }
	if len(s) > maxTokenLen {
		return bad("too long to be a " + info.noun + " from this API")
	}
	// The decoder skips line breaks: refuse them, so that one token has one spelling.
	if strings.ContainsAny(s, "\r\n") {
		return bad("not a " + info.noun + " from this API")
	}
	raw, err := tokenEncoding.DecodeString(s)
	if err != nil || len(raw) < tokenMACLen+1 {
		return bad("not a " + info.noun + " from this API")
	}
	payload, mac := raw[:len(raw)-tokenMACLen], raw[len(raw)-tokenMACLen:]
	signed := false
	for _, key := range keys {
		if hmac.Equal(mac, sign(key, payload)) {
			signed = true
			break
		}
	}
	if !signed {
		return bad("altered, truncated, or signed with another key")
	}
	if payload[0] != tokenVersion {
		return bad("made by an incompatible version of this API")
	}
	if len(payload) < 2 || tokenKind(payload[1]) != t.kind() {
		return bad("not a " + info.noun + " from this API")
	}
	r := tokenReader{b: payload[2:]}
	t.readFields(&r)
	// A signed token that does not parse back to itself was made by another version.
	if r.err != nil || len(r.b) != 0 || !bytes.Equal(t.appendFields(payload[:2:2]), payload) {
		return bad("made by an incompatible version of this API")
	}
	return nil
}

func sign(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return m.Sum(nil)
}

// The field encodings of tokenFields.appendFields: appendTokenString, appendTokenVarint and
// appendTokenTime are read back by tokenReader's string, varint and time.

func appendTokenString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendTokenVarint(b []byte, v int64) []byte {
	return binary.AppendVarint(b, v)
}

// appendTokenTime writes 0 for the zero time, and otherwise 1 and Unix milliseconds: a time with a
// fraction of a millisecond reads back without it.
func appendTokenTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), t.UnixMilli())
}

var errBadToken = errors.New("httpapi: malformed token")

// tokenReader reads the fields of a token, and keeps the first error.
type tokenReader struct {
	b   []byte
	err error
}

func (r *tokenReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errBadToken
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *tokenReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if r.err != nil || n <= 0 {
		r.err = errBadToken
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *tokenReader) string() string {
	n, k := binary.Uvarint(r.b)
	if r.err != nil || k <= 0 || n > uint64(len(r.b)-k) {
		r.err = errBadToken
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

// time reads what appendTokenTime wrote, in UTC.
func (r *tokenReader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		return time.UnixMilli(r.varint()).UTC()
	}
	r.err = errBadToken
	return time.Time{}
}
