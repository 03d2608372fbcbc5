package httpapi

import (
	"errors"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
)

// A cursor token (sessions.Token) pins the query of its first page. Its Filter carries the
// account, the agent, the resolved since and until, the status and min_redactions; its Scope
// carries what the filter cannot:
//
//	ENDPOINT;since=PIN;until=PIN
//
// ENDPOINT is "agent" or "account" (the endpoint's name, not its path, so that a token stays
// valid under any prefix or router), and each PIN is a relative bound in canonical form
// ("24h0m0s" for since=24h or since=1d) or "" for a timestamp or no bound. A later page that
// repeats since=24h thus repeats the pinned window, resolved once on the first page, however
// the clock moved, while since=7d, or a timestamp, is a change.

// scopeOf returns the scope of a first page of ep with these bounds.
func scopeOf(ep *endpoint, since, until bound) string {
	return ep.name + ";since=" + since.pin() + ";until=" + until.pin()
}

// parseScope splits a scope made by scopeOf.
func parseScope(scope string) (name, since, until string, ok bool) {
	name, rest, ok1 := strings.Cut(scope, ";since=")
	since, until, ok2 := strings.Cut(rest, ";until=")
	return name, since, until, ok1 && ok2
}

// cursorProblem is a request whose cursor does not belong to it.
func cursorProblem(msg string) error {
	return invalidParams{{Param: "cursor", Message: msg}}
}

// filter returns the filter and the cursor scope of a request of account to ep, for the parsed
// query q and the agent of the path (agent endpoint only). Without a cursor, the query gives the
// filter; with one, the token does, and every parameter the request gives but limit must equal
// the token's. It returns invalidParams naming cursor for a token that is altered, truncated,
// oversized, signed with an unknown key, or made for another endpoint, account, agent or query.
func (q *query) filter(ep *endpoint, account, pathAgent string, keys [][]byte) (sessions.Filter, string, error) {
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
		return f, scopeOf(ep, q.since, q.until), nil
	}

	tok, err := sessions.DecodeToken(q.cursor, keys...)
	if err != nil {
		var verr *sessions.ValidationError
		if errors.As(err, &verr) {
			return sessions.Filter{}, "", cursorProblem(verr.Reason)
		}
		return sessions.Filter{}, "", cursorProblem("not a cursor from this API")
	}
	name, sincePin, untilPin, ok := parseScope(tok.Scope)
	f := tok.Filter
	var differs []string
	switch {
	case !ok:
		return sessions.Filter{}, "", cursorProblem("made by an incompatible version of this API")
	case name != ep.name:
		return sessions.Filter{}, "", cursorProblem("belongs to the other list endpoint")
	case f.AccountID != account:
		return sessions.Filter{}, "", cursorProblem("belongs to another account")
	case ep.agentPath && f.AgentID != agent:
		return sessions.Filter{}, "", cursorProblem("belongs to another agent")
	}
	if !ep.agentPath && q.given[paramAgentID] && f.AgentID != q.agentID {
		differs = append(differs, "agent_id")
	}
	// A parameter left out takes the token's value; a parameter given must repeat it. An omitted
	// since counts as given with its default, so since=24h repeats an omitted since.
	if q.given[paramSince] && !sameBound(q.since, sincePin, f.Since, (sessions.Filter{Since: q.since.at}).Normalize().Since) {
		differs = append(differs, "since")
	}
	if q.given[paramUntil] && !sameBound(q.until, untilPin, f.Until, (sessions.Filter{Until: q.until.at}).Normalize().Until) {
		differs = append(differs, "until")
	}
	if q.given[paramStatus] && q.status != f.Status {
		differs = append(differs, "status")
	}
	if q.given[paramMinRedactions] && q.minRedactions != f.MinRedactions {
		differs = append(differs, "min_redactions")
	}
	if len(differs) > 0 {
		return sessions.Filter{}, "", cursorProblem("was made for another query (" + strings.Join(differs, ", ") +
			" changed); only limit may change from page to page: repeat or leave out the other parameters, or start again without cursor")
	}
	f.Limit = q.limit
	return f, tok.Scope, nil
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
func sameBound(b bound, pin string, pinned, normalized time.Time) bool {
	if b.ago > 0 {
		return pin == b.pin()
	}
	return pin == "" && pinned.Equal(normalized)
}
