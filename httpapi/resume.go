package httpapi

import "github.com/masker-dev/sessions"

// resumeToken is what the live-tail stream's event IDs carry, and a client sends back in the
// Last-Event-ID header to resume: the position in the store's feed (sessions.Tailer) after which
// the stream goes on, and the stream it belongs to, so that a token resumes only the stream that
// made it. It is sealed (encrypted and authenticated) as a token of kind kindResume (see token.go) with the cursor
// keys, so that every replica that shares them accepts it.
type resumeToken struct {
	// endpoint is the stream's route by name ("agent" or "account"), not its path, so that a
	// token stays valid under any prefix or router.
	endpoint      string
	account       string
	agent         string // the path's agent, or the agent_id of the account stream; "": every agent
	status        sessions.Status
	minRedactions int
	position      string // from Tailer.TailPosition or Tailer.Tail: opaque here
}

func (resumeToken) kind() tokenKind { return kindResume }

func (t resumeToken) appendFields(b []byte) []byte {
	return appendTokenString(t.appendStream(b), t.position)
}

// appendStream appends the fields before the position, which every token of one stream shares.
func (t resumeToken) appendStream(b []byte) []byte {
	b = appendTokenString(b, t.endpoint)
	b = appendTokenString(b, t.account)
	b = appendTokenString(b, t.agent)
	b = appendTokenString(b, string(t.status))
	return appendTokenVarint(b, int64(t.minRedactions))
}

func (t *resumeToken) readFields(r *tokenReader) {
	t.endpoint = r.string()
	t.account = r.string()
	t.agent = r.string()
	t.status = sessions.Status(r.string())
	t.minRedactions = int(r.varint())
	t.position = r.string()
}

// filter returns the filter of the stream that t resumes, for sessions.Tailer.Tail.
func (t resumeToken) filter() sessions.Filter {
	return sessions.Filter{AccountID: t.account, AgentID: t.agent, Status: t.status, MinRedactions: t.minRedactions}
}

// encode returns the token as a string sealed with key, for an SSE id field: it holds no line
// break. It is safe for concurrent use.
func (t resumeToken) encode(key []byte) string {
	return encodeToken(&t, key)
}

// decodeResume returns the resume token that s encodes, when it was sealed with one of keys. It
// returns invalidParams naming Last-Event-ID when s is too long, not a resume token (a list
// cursor is not one), altered, truncated, sealed with another key, or made by another version (a
// sealed token of an invalid filter). The caller checks that the token belongs to the request's
// account, route, agent and filters. It is safe for concurrent use.
func decodeResume(s string, keys [][]byte) (resumeToken, error) {
	var t resumeToken
	if err := decodeToken(s, keys, &t); err != nil {
		return resumeToken{}, err
	}
	if t.filter().Validate() != nil {
		return resumeToken{}, invalidParams{{Param: tokenKinds[kindResume].param, Message: "made by an incompatible version of this API"}}
	}
	return t, nil
}

// resumeSigner makes the resume tokens of one stream, which differ only in their position: it
// encodes the fields they share once, and keeps one tokenSealer. Its tokens are those of
// resumeToken.encode, byte for byte. It is not safe for concurrent use: each stream has its own.
type resumeSigner struct {
	sealer  *tokenSealer
	payload []byte // the token's bytes up to its position (version, kind, appendStream), then scratch
	shared  int    // the length of the bytes up to the position
	raw     []byte // scratch: the sealed bytes
}

// newResumeSigner returns the signer of the tokens of t's stream, with key. t's position is
// ignored.
func newResumeSigner(t resumeToken, key []byte) *resumeSigner {
	payload := t.appendStream([]byte{tokenVersion, byte(kindResume)})
	return &resumeSigner{sealer: newTokenSealer(key), payload: payload, shared: len(payload)}
}

// stream returns what the tokens of the stream share, which tells the stream apart from any
// other stream of the Handler: the route, account, agent and filters.
func (rs *resumeSigner) stream() string { return string(rs.payload[:rs.shared]) }

// appendToken appends to b the token of the stream at position, as resumeToken.encode spells
// it, and returns b.
func (rs *resumeSigner) appendToken(b []byte, position string) []byte {
	rs.payload = appendTokenString(rs.payload[:rs.shared], position)
	rs.raw = rs.sealer.appendSealed(rs.raw[:0], rs.payload)
	return tokenEncoding.AppendEncode(b, rs.raw)
}
