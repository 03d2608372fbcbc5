package httpapi

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/masker-dev/sessions"
)

// Bounds on the input of a request, checked before anything is parsed.
const (
	maxQueryLen      = 8 << 10       // bytes of the raw query string
	maxQueryParams   = 32            // name=value pairs in the query string
	maxMinRedactions = 1_000_000_000 // the largest min_redactions
	defaultSince     = "24h"         // the since of a request that leaves it out
	echoLen          = 64            // bytes of a bad value or name quoted back in a message
)

// param is a query parameter of the list endpoints.
type param int

// The query parameters, in the order in which their problems are reported.
const (
	paramLimit param = iota
	paramCursor
	paramSince
	paramUntil
	paramStatus
	paramMinRedactions
	paramAgentID
	paramFormat
	numParams
)

var paramNames = [numParams]string{"limit", "cursor", "since", "until", "status", "min_redactions", "agent_id", "format"}

// endpoint describes one of the two list endpoints.
type endpoint struct {
	name      string  // the endpoint in a cursor token: "agent" or "account"
	agentPath bool    // the agent comes from the path (Config.AgentID), not from agent_id
	params    []param // the query parameters it accepts
	accepted  string  // the same, for messages
	listing   bool    // items carry agent_name and upstream_model
}

var (
	agentEndpoint   = newEndpoint("agent", true, false, paramLimit, paramCursor, paramSince, paramUntil, paramStatus, paramMinRedactions)
	accountEndpoint = newEndpoint("account", false, true, paramLimit, paramCursor, paramSince, paramUntil, paramStatus, paramMinRedactions, paramAgentID)
)

func newEndpoint(name string, agentPath, listing bool, params ...param) *endpoint {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = paramNames[p]
	}
	accepted := strings.Join(names, ", ")
	if accepted == "" {
		accepted = "no parameter"
	}
	return &endpoint{name: name, agentPath: agentPath, params: params, accepted: accepted, listing: listing}
}

func (ep *endpoint) lookup(name string) (param, bool) {
	for _, p := range ep.params {
		if paramNames[p] == name {
			return p, true
		}
	}
	return 0, false
}

// bound is a since or until parameter: a duration back from now, or a timestamp.
type bound struct {
	ago time.Duration // > 0 for a relative bound such as 24h, whose resolution is pinned by a cursor
	at  time.Time     // the bound resolved against the request's clock; zero: none
}

// query is the parsed query string of a list request.
type query struct {
	given         [numParams]bool // which parameters the request gave
	raw           []string        // the name=value pairs as received, for the Link header
	limit         int
	cursor        string
	since, until  bound
	status        sessions.Status
	minRedactions int
	agentID       string
	format        exportFormat
}

// parseQuery parses and checks the raw query string of a request to ep, resolving relative bounds
// against now. It returns invalidParams listing every bad parameter: unknown, repeated, empty,
// malformed or out of range, with until before since when no cursor pins them.
func parseQuery(rawQuery string, ep *endpoint, now time.Time) (query, error) {
	var q query
	if len(rawQuery) > maxQueryLen {
		return q, invalidParams{{Param: "query", Message: fmt.Sprintf("the query string has %d bytes; want at most %d", len(rawQuery), maxQueryLen)}}
	}
	var (
		problems invalidParams
		values   [numParams]string
		count    [numParams]int
		badEnc   [numParams]bool
		unknown  []string
	)
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		if len(q.raw) == maxQueryParams {
			return query{}, invalidParams{{Param: "query", Message: fmt.Sprintf("the query string has more than %d parameters", maxQueryParams)}}
		}
		q.raw = append(q.raw, pair)
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			problems = append(problems, problem{Param: echo(k), Message: "the parameter name is not valid percent-encoding"})
			continue
		}
		p, ok := ep.lookup(name)
		if !ok {
			if !slices.Contains(unknown, name) {
				unknown = append(unknown, name)
				problems = append(problems, problem{Param: echo(name), Message: "unknown parameter; this endpoint accepts " + ep.accepted})
			}
			continue
		}
		if count[p]++; count[p] > 1 {
			continue
		}
		if p == paramSince || p == paramUntil {
			// A timestamp's offset typed in a shell (since=2026-05-03T21:14:32+02:00) keeps its
			// '+', which form decoding would make a space that no bound can hold.
			values[p], err = url.PathUnescape(v)
		} else {
			values[p], err = url.QueryUnescape(v)
		}
		badEnc[p] = err != nil
	}

	check := func(p param, parse func(s string) string) {
		switch {
		case count[p] == 0:
			return
		case count[p] > 1:
			problems = append(problems, problem{Param: paramNames[p], Message: fmt.Sprintf("given %d times; give it at most once", count[p])})
		case badEnc[p]:
			problems = append(problems, problem{Param: paramNames[p], Message: "the value is not valid percent-encoding"})
		case values[p] == "":
			problems = append(problems, problem{Param: paramNames[p], Message: "empty; give a value or leave the parameter out"})
		default:
			if msg := parse(values[p]); msg != "" {
				problems = append(problems, problem{Param: paramNames[p], Message: msg})
			} else {
				q.given[p] = true
			}
		}
	}
	q.limit = sessions.DefaultLimit
	check(paramLimit, func(s string) string {
		n, ok := parseWhole(s, sessions.MaxLimit)
		if !ok || n < 1 {
			return fmt.Sprintf("want a whole number from 1 to %d, got %q", sessions.MaxLimit, echo(s))
		}
		q.limit = n
		return ""
	})
	check(paramCursor, func(s string) string {
		q.cursor = s // checked against the query once every parameter is known
		return ""
	})
	q.since, _ = parseBound(defaultSince, now)
	check(paramSince, func(s string) (msg string) {
		q.since, msg = parseBound(s, now)
		return msg
	})
	check(paramUntil, func(s string) (msg string) {
		q.until, msg = parseBound(s, now)
		return msg
	})
	check(paramStatus, func(s string) string {
		if q.status = sessions.Status(s); !q.status.Valid() {
			return fmt.Sprintf("want %s, %s or %s, got %q", sessions.StatusOK, sessions.StatusError, sessions.StatusPartial, echo(s))
		}
		return ""
	})
	check(paramMinRedactions, func(s string) string {
		n, ok := parseWhole(s, maxMinRedactions)
		if !ok {
			return fmt.Sprintf("want a whole number from 0 to %d, got %q", maxMinRedactions, echo(s))
		}
		q.minRedactions = n
		return ""
	})
	check(paramAgentID, func(s string) string {
		q.agentID = s // an agent that is malformed or not in the account gives 404, as on the path
		return ""
	})
	check(paramFormat, func(s string) string {
		f, ok := exportFormats[s]
		if !ok {
			return fmt.Sprintf("want csv or ndjson, got %q", echo(s))
		}
		q.format = f
		return ""
	})
	// With a cursor, since and until are the cursor's, which were checked on the first page.
	if count[paramCursor] == 0 && q.given[paramUntil] && q.until.at.Before(q.since.at) {
		problems = append(problems, problem{Param: "until", Message: fmt.Sprintf("is before since (%s); want a time at or after it", formatTime(q.since.at))})
	}
	if len(problems) > 0 {
		return q, problems
	}
	return q, nil
}

// parseBound parses a since or until value. It returns a message saying what was expected when
// s is neither a duration nor a timestamp, or is a time after sessions.MaxTime.
func parseBound(s string, now time.Time) (bound, string) {
	if d, err := sessions.ParseDuration(s); err == nil {
		return bound{ago: d, at: now.Add(-d).UTC()}, ""
	}
	t, err := sessions.ParseTime(s, now)
	if err != nil {
		var verr *sessions.ValidationError
		if errors.As(err, &verr) {
			return bound{}, verr.Reason
		}
		return bound{}, err.Error()
	}
	if t.After(sessions.MaxTime) {
		// The API writes times to the millisecond with four-digit years: a bound after the
		// latest of them could not be stated back in a summary's body.
		return bound{}, fmt.Sprintf("%q: want a time up to %s", echo(s), formatTime(sessions.MaxTime))
	}
	return bound{at: t}, ""
}

// parseWhole parses a whole number from 0 to max written in decimal digits only.
func parseWhole(s string, max int) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// echo returns s as it may be quoted back in a message: valid UTF-8, at most echoLen bytes.
func echo(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= echoLen {
		return s
	}
	cut := echoLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
