package sessions

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

// Cursor is a position in the list order: StartedAt descending, then ID descending. A page that
// starts after a cursor holds the sessions that come strictly after it. A cursor holds a position,
// not a session: it stays valid when its session is changed or deleted.
type Cursor struct {
	StartedAt time.Time
	ID        string
}

// Before reports whether c comes before d in the list order: c started later, or at the same
// time with a greater ID.
func (c Cursor) Before(d Cursor) bool {
	if !c.StartedAt.Equal(d.StartedAt) {
		return c.StartedAt.After(d.StartedAt)
	}
	return c.ID > d.ID
}

// Token is what an opaque cursor token carries over HTTP: a position in a list, and the query the
// list belongs to, so that a later page cannot silently change the query. Encode and DecodeToken
// turn it into a URL-safe string and back, signed with HMAC-SHA256.
type Token struct {
	Scope  string // which listing the token belongs to, such as an endpoint's route; compared as-is
	Filter Filter // the pinned query, normalized; Limit is not carried and After is the position
}

// MaxTokenLen is the length of the longest token string that DecodeToken accepts.
const MaxTokenLen = 1024

const (
	tokenVersion = 1
	tokenMACLen  = sha256.Size
)

var tokenEncoding = base64.RawURLEncoding.Strict()

// Encode returns the token as an opaque, URL-safe string signed with key. The filter is
// normalized first (see Filter.Normalize), and its Limit is left out. A token of a valid filter
// and a Scope of up to 256 bytes is shorter than MaxTokenLen; DecodeToken refuses a longer one.
// It is safe for concurrent use.
func (t Token) Encode(key []byte) string {
	payload := t.payload()
	return tokenEncoding.EncodeToString(append(payload, sign(key, payload)...))
}

func (t Token) payload() []byte {
	f := t.Filter.Normalize()
	b := []byte{tokenVersion}
	b = appendString(b, t.Scope)
	b = appendString(b, f.AccountID)
	b = appendString(b, f.AgentID)
	b = appendTime(b, f.Since)
	b = appendTime(b, f.Until)
	b = appendString(b, string(f.Status))
	b = binary.AppendVarint(b, int64(f.MinRedactions))
	if f.After == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = appendTime(b, f.After.StartedAt)
	return appendString(b, f.After.ID)
}

// DecodeToken returns the token that s encodes, when s was made by Token.Encode with one of keys
// (the current key first, then earlier keys still accepted during a rotation). The returned filter
// has Limit 0. It returns a *ValidationError for the field "cursor" when s is too long, not a
// token, altered, truncated, or signed with another key. It is safe for concurrent use.
func DecodeToken(s string, keys ...[]byte) (Token, error) {
	bad := func(reason string) (Token, error) {
		return Token{}, &ValidationError{Field: "cursor", Reason: reason}
	}
	if len(s) > MaxTokenLen {
		return bad("too long to be a cursor from this API")
	}
	// The decoder skips line breaks: refuse them, so that one token has one spelling.
	if strings.ContainsAny(s, "\r\n") {
		return bad("not a cursor from this API")
	}
	raw, err := tokenEncoding.DecodeString(s)
	if err != nil || len(raw) < tokenMACLen+1 {
		return bad("not a cursor from this API")
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
	t, err := parsePayload(payload)
	if err != nil || t.Filter.Validate() != nil || !bytes.Equal(t.payload(), payload) {
		// A signed token that does not parse back to itself was made by another version.
		return bad("made by an incompatible version of this API")
	}
	return t, nil
}

func parsePayload(b []byte) (Token, error) {
	r := tokenReader{b: b}
	var t Token
	if r.byte() != tokenVersion {
		return t, errBadToken
	}
	t.Scope = r.string()
	t.Filter.AccountID = r.string()
	t.Filter.AgentID = r.string()
	t.Filter.Since = r.time()
	t.Filter.Until = r.time()
	t.Filter.Status = Status(r.string())
	t.Filter.MinRedactions = int(r.varint())
	switch r.byte() {
	case 0:
	case 1:
		t.Filter.After = &Cursor{StartedAt: r.time()}
		t.Filter.After.ID = r.string()
	default:
		return t, errBadToken
	}
	if r.err != nil || len(r.b) != 0 {
		return t, errBadToken
	}
	return t, nil
}

var errBadToken = errors.New("sessions: malformed token")

func sign(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return m.Sum(nil)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendTime writes 0 for the zero time, and otherwise 1 and Unix milliseconds.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), t.UnixMilli())
}

// tokenReader reads what the append functions wrote, and remembers the first error.
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
