package httpapi

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The handler hands out sealed, opaque tokens that a client gives back later: the list's cursors
// (cursorToken, in cursor.go), and the stream's resume tokens (resumeToken, in resume.go). This
// file holds what every kind shares: the format, the encryption, the checks, and the encoding of
// fields.
//
// A token is the URL-safe base64 (no padding) of
//
//	version (1 byte) | kind (1 byte) | IV (16 bytes) | AES-256-CTR(the kind's fields) | HMAC-SHA256(everything before)
//
// Tokens are HMAC-SHA256 signed, as the contract says, so that every replica that shares the key
// checks them; the signature covers the version and the kind, so that a token of one kind is
// never taken for another. They are encrypted too, because what they carry is not all the
// caller's to read: a resume token holds the store's position in its feed, which counts the
// writes of every account. The AES key, the IV key and the signing key are derived from
// Config.CursorKey by HKDF-SHA256. The IV is the HMAC-SHA256 of version, kind and fields under
// the IV key, cut to 16 bytes (a synthetic IV, as in SIV: the same fields always make the same
// token, and distinct fields distinct IVs). The fields use the appendToken encodings below. A
// token whose signature verifies must also parse back to exactly its own fields, and carry their
// IV, so that each token has one spelling.
//
// Version 3 was sealed with AES-256-GCM, version 2 signed with HMAC-SHA256 and not encrypted,
// version 1 had no kind byte. Version 4 refuses their tokens (as made by an incompatible
// version), so cursors and resume tokens handed out before the change fail once, with 422
// naming cursor or Last-Event-ID.
//
// To add a kind: give it a tokenKind constant (never reuse a number) and a kindInfo in
// tokenKinds, and write a struct with its typed fields that implements tokenFields, as
// cursorToken and resumeToken do, with an encode method and a decode function. encodeToken seals
// with the current key (settings.keys[0]); decodeToken opens a token with every accepted key
// (Config.CursorKey, then Config.PreviousCursorKeys) and returns invalidParams naming the kind's
// parameter. The decode function then checks what only its kind knows (a valid filter), and the
// route checks that the token belongs to the request (account, route, agent, filters).

const (
	// tokenVersion is the first byte of every token: the format above.
	tokenVersion = 4

	tokenIVLen  = aes.BlockSize
	tokenMACLen = sha256.Size
)

// tokenKind is the second byte of a token: what it is for.
type tokenKind byte

const (
	kindCursor tokenKind = 1 // a list cursor: cursorToken
	kindResume tokenKind = 2 // a stream's resume token (Last-Event-ID): resumeToken
)

// kindInfo is what a refusal says of a kind: the parameter it names and the noun of its
// messages; and the length of the longest token string of the kind that decodeToken accepts.
// Every token of a valid request fits (TestTokenFitsMaxLen), and a longer string is refused
// before it is decoded.
type kindInfo struct {
	param  string // "cursor"
	noun   string // "cursor", as in "not a cursor from this API"
	maxLen int
}

var tokenKinds = map[tokenKind]kindInfo{
	kindCursor: {param: paramNames[paramCursor], noun: "cursor", maxLen: maxCursorLen},
	kindResume: {param: "Last-Event-ID", noun: "stream position", maxLen: maxResumeLen},
}

const (
	// maxCursorLen bounds a cursor, a query parameter: it fits in any URL.
	maxCursorLen = 1024
	// maxResumeLen bounds a resume token, a header (Last-Event-ID) that carries the store's
	// position: PostgreSQL's holds the transactions in flight when the stream began, up to the
	// server's max_connections of them. 8 KiB is the header line that common proxies accept by
	// default (nginx's large_client_header_buffers).
	maxResumeLen = 8 << 10
)

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

// encodeToken returns the token of t, sealed with key. It is safe for concurrent use.
func encodeToken(t tokenFields, key []byte) string {
	return sealToken(t.appendFields([]byte{tokenVersion, byte(t.kind())}), key)
}

// sealToken returns the token of payload (version, kind, fields) under key.
func sealToken(payload, key []byte) string {
	ts, done := sealerOf(key)
	defer done()
	return tokenEncoding.EncodeToString(ts.appendSealed(nil, payload))
}

// sealerPools holds a pool of tokenSealers for each key, so that a token does not derive its
// key's keys again (HKDF and the AES key schedule were two thirds of a cursor's round trip). A
// process uses a few keys (a Handler's key and previous keys); past maxSealerPools, the pools
// are dropped and made again as needed.
var (
	sealerPools     sync.Map // string(key) -> *sync.Pool of *tokenSealer
	sealerPoolCount atomic.Int64
)

const maxSealerPools = 64

// sealerOf returns a tokenSealer of key, and the function that gives it back when the caller is
// done with it.
func sealerOf(key []byte) (*tokenSealer, func()) {
	p, ok := sealerPools.Load(string(key))
	if !ok {
		if sealerPoolCount.Add(1) > maxSealerPools {
			sealerPools.Clear()
			sealerPoolCount.Store(1)
		}
		key := bytes.Clone(key)
		p, _ = sealerPools.LoadOrStore(string(key), &sync.Pool{New: func() any { return newTokenSealer(key) }})
	}
	pool := p.(*sync.Pool)
	ts := pool.Get().(*tokenSealer)
	return ts, func() { pool.Put(ts) }
}

// tokenSealer seals and opens the tokens of one key, with the keys that it derives once: the
// cipher, and one HMAC state each for the IVs and the signatures (an HMAC made for each token
// hashes the key's two blocks again, and allocates). It is not safe for concurrent use.
type tokenSealer struct {
	block    cipher.Block
	iv, sign hash.Hash
	sum      []byte
}

// newTokenSealer returns the sealer of key, whose AES-256 key, IV key and signing key it derives
// by HKDF-SHA256.
func newTokenSealer(key []byte) *tokenSealer {
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, key, nil, "masker-dev/sessions httpapi token: "+info, 32)
		if err != nil {
			panic(err) // New checked every key with checkTokenKey
		}
		return k
	}
	block, err := aes.NewCipher(derive("aes-256-ctr"))
	if err != nil {
		panic(err) // only for a key of another length
	}
	return &tokenSealer{block: block, iv: hmac.New(sha256.New, derive("iv")), sign: hmac.New(sha256.New, derive("hmac-sha256"))}
}

// checkTokenKey returns the error of deriving key's keys: none, except in Go's FIPS 140-only
// mode, which refuses a secret shorter than 112 bits. New calls it, so that such a key fails
// there and not at the first request.
func checkTokenKey(key []byte) error {
	_, err := hkdf.Key(sha256.New, key, nil, "masker-dev/sessions httpapi token: check", 32)
	return err
}

// mac returns the HMAC of b under h's key, valid until the next call.
func (ts *tokenSealer) mac(h hash.Hash, b []byte) []byte {
	h.Reset()
	h.Write(b)
	ts.sum = h.Sum(ts.sum[:0])
	return ts.sum
}

// syntheticIV returns the IV of payload: its HMAC-SHA256 under the IV key, cut. It is valid until
// the next call.
func (ts *tokenSealer) syntheticIV(payload []byte) []byte {
	return ts.mac(ts.iv, payload)[:tokenIVLen]
}

// appendSealed appends to dst the raw bytes of the token of payload (version, kind, fields), and
// returns dst.
func (ts *tokenSealer) appendSealed(dst, payload []byte) []byte {
	return ts.appendSealedIV(dst, payload, ts.syntheticIV(payload))
}

// appendSealedIV is appendSealed with the IV iv.
func (ts *tokenSealer) appendSealedIV(dst, payload, iv []byte) []byte {
	start := len(dst)
	dst = append(append(dst, payload[:2]...), iv...)
	fields := len(dst)
	dst = append(dst, payload[2:]...)
	cipher.NewCTR(ts.block, iv).XORKeyStream(dst[fields:], dst[fields:])
	return append(dst, ts.mac(ts.sign, dst[start:])...)
}

// open returns the payload (version, kind, fields) of raw, the raw bytes of a token of at least
// a header, an IV and a signature, when this sealer's key signed it; and false otherwise.
func (ts *tokenSealer) open(raw []byte) ([]byte, bool) {
	signed, signature := raw[:len(raw)-tokenMACLen], raw[len(raw)-tokenMACLen:]
	if !hmac.Equal(signature, ts.mac(ts.sign, signed)) {
		return nil, false
	}
	iv := signed[2 : 2+tokenIVLen]
	payload := append(slices.Clip(signed[:2]), signed[2+tokenIVLen:]...)
	cipher.NewCTR(ts.block, iv).XORKeyStream(payload[2:], payload[2:])
	return payload, true
}

// decodeToken sets t to the token that s encodes, when encodeToken made s for t's kind with one
// of keys. It returns invalidParams naming the kind's parameter when s is too long, not a token,
// altered, truncated, sealed with another key, of another kind, or made by another version. It
// is safe for concurrent use.
func decodeToken(s string, keys [][]byte, t tokenFields) error {
	info := tokenKinds[t.kind()]
	bad := func(msg string) error { return invalidParams{{Param: info.param, Message: msg}} }
	if len(s) > info.maxLen {
		return bad("too long to be a " + info.noun + " from this API")
	}
	// The decoder skips line breaks: refuse them, so that one token has one spelling.
	if strings.ContainsAny(s, "\r\n") {
		return bad("not a " + info.noun + " from this API")
	}
	raw, err := tokenEncoding.DecodeString(s)
	if err != nil || len(raw) < 2 {
		return bad("not a " + info.noun + " from this API")
	}
	if raw[0] != tokenVersion {
		return bad("made by an incompatible version of this API")
	}
	if len(raw) < 2+tokenIVLen+tokenMACLen {
		return bad("not a " + info.noun + " from this API")
	}
	var payload []byte
	var sealer *tokenSealer
	for _, key := range keys {
		ts, done := sealerOf(key)
		defer done()
		if p, ok := ts.open(raw); ok {
			payload, sealer = p, ts
			break
		}
	}
	if payload == nil {
		return bad("altered, truncated, or signed with another key")
	}
	if tokenKind(payload[1]) != t.kind() {
		return bad("not a " + info.noun + " from this API")
	}
	r := tokenReader{b: payload[2:]}
	t.readFields(&r)
	// A sealed token that does not parse back to itself was made by another version.
	if r.err != nil || len(r.b) != 0 || !bytes.Equal(t.appendFields(payload[:2:2]), payload) ||
		!hmac.Equal(raw[2:2+tokenIVLen], sealer.syntheticIV(payload)) {
		return bad("made by an incompatible version of this API")
	}
	return nil
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
