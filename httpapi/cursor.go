package httpapi

import (
	"bytes"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
)

// cursorToken is what a list cursor carries: the position of the next page, and the query of the
// first page, so that a later page cannot silently change the query. It is signed and encoded as
// a token of kind kindCursor (see token.go).
type cursorToken struct {
	// endpoint is the endpoint's name ("agent" or "account"), not its path, so that a token
	// stays valid under any prefix or router.
	endpoint string
	// sinceAgo and untilAgo are the relative bounds of the first page (24h for since=24h or
	// since=1d), or 0 for a timestamp or no bound. A later page that repeats since=24h thus
	// repeats the pinned window, resolved once on the first page however the clock moved, while
	// since=7d, or a timestamp, is a change.
	sinceAgo, untilAgo time.Duration
	account, agent     string
	since, until       time.Time // resolved on the first page, normalized; zero: no bound
	status             sessions.Status
	minRedactions      int
	position           sessions.Cursor // the last session of the page before
}

// newCursorToken returns the token of f's pages on ep, with the relative bounds of the first
// page. f is normalized (sessions.Filter.Normalize); its Limit is not carried, and its After, when
// set, is the position.
func newCursorToken(ep *endpoint, since, until bound, f sessions.Filter) cursorToken {
	f = f.Normalize()
	t := cursorToken{
		endpoint:      ep.name,
		sinceAgo:      since.ago,
		untilAgo:      until.ago,
		account:       f.AccountID,
		agent:         f.AgentID,
		since:         f.Since,
		until:         f.Until,
		status:        f.Status,
		minRedactions: f.MinRedactions,
	}
	if f.After != nil {
		t.position = *f.After
	}
	return t
}

// filter returns the query of t, after its position, with Limit 0.
func (t cursorToken) filter() sessions.Filter {
	position := t.position
	return sessions.Filter{
		AccountID:     t.account,
		AgentID:       t.agent,
		Since:         t.since,
		Until:         t.until,
		Status:        t.status,
		MinRedactions: t.minRedactions,
		After:         &position,
	}
}

// normalized returns t with its times normalized as sessions.Filter.Normalize does.
func (t cursorToken) normalized() cursorToken {
	f := t.filter().Normalize()
	t.since, t.until, t.position = f.Since, f.Until, *f.After
	return t
}

// after returns the token of the page that follows position.
func (t cursorToken) after(position sessions.Cursor) cursorToken {
	t.position = position
	return t.normalized()
}

// encode returns the token as a string sealed with key. It is safe for concurrent use.
func (t cursorToken) encode(key []byte) string {
	return encodeToken(&t, key)
}

func (cursorToken) kind() tokenKind { return kindCursor }

func (t cursorToken) appendFields(b []byte) []byte {
	b = appendTokenString(b, t.endpoint)
	b = appendTokenVarint(b, int64(t.sinceAgo))
	b = appendTokenVarint(b, int64(t.untilAgo))
	b = appendTokenString(b, t.account)
	b = appendTokenString(b, t.agent)
	b = appendTokenTime(b, t.since)
	b = appendTokenTime(b, t.until)
	b = appendTokenString(b, string(t.status))
	b = appendTokenVarint(b, int64(t.minRedactions))
	b = appendTokenTime(b, t.position.StartedAt)
	return appendTokenString(b, t.position.ID)
}

func (t *cursorToken) readFields(r *tokenReader) {
	t.endpoint = r.string()
	t.sinceAgo = time.Duration(r.varint())
	t.untilAgo = time.Duration(r.varint())
	t.account = r.string()
	t.agent = r.string()
	t.since = r.time()
	t.until = r.time()
	t.status = sessions.Status(r.string())
	t.minRedactions = int(r.varint())
	t.position.StartedAt = r.time()
	t.position.ID = r.string()
}

// decodeCursor returns the cursor token that s encodes, when it was sealed with one of keys. It
// returns invalidParams naming cursor when s is too long, not a cursor, altered, truncated,
// sealed with another key, or made by another version (a sealed token whose query is invalid or
// not normalized). It is safe for concurrent use.
func decodeCursor(s string, keys [][]byte) (cursorToken, error) {
	var t cursorToken
	if err := decodeToken(s, keys, &t); err != nil {
		return cursorToken{}, err
	}
	if t.sinceAgo < 0 || t.untilAgo < 0 || t.filter().Validate() != nil ||
		!bytes.Equal(t.normalized().appendFields(nil), t.appendFields(nil)) {
		return cursorToken{}, cursorProblem("made by an incompatible version of this API")
	}
	return t, nil
}

// cursorProblem is a request whose cursor does not belong to it.
func cursorProblem(msg string) error {
	return invalidParams{{Param: paramNames[paramCursor], Message: msg}}
}

// filter returns the filter of a request of account to ep, for the parsed query q and the agent
// of the path (agent endpoint only), and the token of its pages, whose position the caller sets.
// Without a cursor, the query gives the filter; with one, the token does, and every parameter the
// request gives but limit must equal the token's. It returns invalidParams naming cursor for a
// token that is altered, truncated, oversized, sealed with an unknown key, or made for another
// endpoint, account, agent or query.
func (q *query) filter(ep *endpoint, account, pathAgent string, keys [][]byte) (sessions.Filter, cursorToken, error) {
	agent := q.agentID
	if ep.agentPath {
		agent = pathAgent
	}
	if !q.given[paramCursor] {
		f := sessions.Filter{
			AccountID:     account,
			AgentID:       agent,
			Since:         q.since.at,
			Until:         untilOf(q.until, q.given[paramUntil]),
			Status:        q.status,
			MinRedactions: q.minRedactions,
			Limit:         q.limit,
		}
		return f, newCursorToken(ep, q.since, q.until, f), nil
	}

	tok, err := decodeCursor(q.cursor, keys)
	if err != nil {
		return sessions.Filter{}, cursorToken{}, err
	}
	f := tok.filter()
	var differs []string
	switch {
	case tok.endpoint != ep.name:
		return sessions.Filter{}, cursorToken{}, cursorProblem("belongs to the other list endpoint")
	case f.AccountID != account:
		return sessions.Filter{}, cursorToken{}, cursorProblem("belongs to another account")
	case ep.agentPath && f.AgentID != agent:
		return sessions.Filter{}, cursorToken{}, cursorProblem("belongs to another agent")
	}
	if !ep.agentPath && q.given[paramAgentID] && f.AgentID != q.agentID {
		differs = append(differs, "agent_id")
	}
	// A parameter left out takes the token's value; a parameter given must repeat it. An omitted
	// since counts as given with its default, so since=24h repeats an omitted since.
	given := sessions.Filter{Since: q.since.at, Until: q.until.at}.Normalize() // as the token keeps them
	if q.given[paramSince] && !sameBound(q.since, tok.sinceAgo, f.Since, given.Since) {
		differs = append(differs, "since")
	}
	if q.given[paramUntil] && !sameBound(q.until, tok.untilAgo, f.Until, given.Until) {
		differs = append(differs, "until")
	}
	if q.given[paramStatus] && q.status != f.Status {
		differs = append(differs, "status")
	}
	if q.given[paramMinRedactions] && q.minRedactions != f.MinRedactions {
		differs = append(differs, "min_redactions")
	}
	if len(differs) > 0 {
		return sessions.Filter{}, cursorToken{}, cursorProblem("was made for another query (" + strings.Join(differs, ", ") +
			" changed); only limit may change from page to page: repeat or leave out the other parameters, or start again without cursor")
	}
	f.Limit = q.limit
	return f, tok, nil
}

// untilOf returns the Filter.Until of an until bound, given or not. A given bound at the zero time
// (0001-01-01T00:00:00Z, given as a timestamp or resolved from a duration), which a Filter would
// read as no upper bound at all, becomes the next nanosecond: it selects the same sessions as the
// bound asked for, none, since every stored time is in 1970 or later.
func untilOf(b bound, given bool) time.Time {
	if given && b.at.IsZero() {
		return time.Time{}.Add(time.Nanosecond)
	}
	return b.at
}

// sameBound reports whether a bound given with a cursor repeats the pinned one: the same
// relative duration, or the same timestamp (normalized, as the token keeps it).
func sameBound(b bound, pinnedAgo time.Duration, pinned, normalized time.Time) bool {
	if b.ago > 0 {
		return pinnedAgo == b.ago
	}
	return pinnedAgo == 0 && pinned.Equal(normalized)
}
