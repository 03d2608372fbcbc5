package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
)

// The errors of this package that have no counterpart in package sessions. Test them with
// errors.Is; an *Error matches them by its code.
var (
	// ErrUnauthenticated means that the server refused the credential (401): it is missing,
	// invalid, expired, or does not allow reading sessions.
	ErrUnauthenticated = errors.New("client: unauthenticated")

	// ErrRateLimited means that the server refused the request for now (429: too many requests
	// or streams of the account at once), even after the retries that WithRetries allows.
	ErrRateLimited = errors.New("client: rate limited")
)

// Error is an error response of the API: the product's error envelope, with the HTTP status.
// Find it with errors.As. It matches, with errors.Is, sessions.ErrAgentNotFound (code
// agent_not_found), sessions.ErrSessionNotFound (session_not_found), sessions.ErrUnavailable
// (unavailable, or any 502, 503 or 504: a proxy's answer while the server restarts), ErrUnauthenticated (401) and ErrRateLimited (429); and, with
// errors.As, a *sessions.ValidationError for a 422, made from its first detail.
type Error struct {
	StatusCode int           // the HTTP status
	Code       string        // the envelope's code: "validation_failed", "agent_not_found"...
	Message    string        // the envelope's message, for people
	RequestID  string        // the envelope's request ID (or the X-Request-Id header), to quote to the server's operator
	Details    []Detail      // the bad parameters of a 422, each with its message
	RetryAfter time.Duration // the Retry-After of a 502, 503, 504 or 429 (not retried above a minute); 0 when absent
}

// Detail is one bad parameter of a 422 response.
type Detail struct {
	Param   string `json:"param"`   // the query parameter or header, e.g. "limit" or "Last-Event-ID"
	Message string `json:"message"` // what is wrong with it, for people
}

// Error returns "client: STATUS CODE: MESSAGE (details) [request ID]".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client: %d %s: %s", e.StatusCode, e.Code, e.Message)
	for i, d := range e.Details {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", d.Param, d.Message)
		if i == len(e.Details)-1 {
			b.WriteString(")")
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Is reports whether e is an error of that kind; see Error.
func (e *Error) Is(target error) bool {
	switch target {
	case sessions.ErrAgentNotFound:
		return e.Code == "agent_not_found"
	case sessions.ErrSessionNotFound:
		return e.Code == "session_not_found"
	case sessions.ErrUnavailable:
		return e.Code == "unavailable" || unavailableStatus(e.StatusCode)
	case ErrUnauthenticated:
		return e.StatusCode == http.StatusUnauthorized
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// As sets a **sessions.ValidationError target from a 422: its Field is the first bad parameter
// and its Reason that parameter's message (the whole list is in Details).
func (e *Error) As(target any) bool {
	ve, ok := target.(**sessions.ValidationError)
	if !ok || e.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	v := &sessions.ValidationError{Reason: e.Message}
	if len(e.Details) > 0 {
		v.Field, v.Reason = e.Details[0].Param, e.Details[0].Message
	}
	*ve = v
	return true
}

// readError makes the *Error of a response that is not 200, from its envelope when it has one.
// A response without one (a proxy's page, a HEAD) keeps its status, with the status text as
// its message.
func readError(resp *http.Response) error {
	e := &Error{
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	var env struct {
		Error struct {
			Code      string   `json:"code"`
			Message   string   `json:"message"`
			RequestID string   `json:"request_id"`
			Details   []Detail `json:"details"`
		} `json:"error"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message, e.Details = env.Error.Code, env.Error.Message, env.Error.Details
		if env.Error.RequestID != "" {
			e.RequestID = env.Error.RequestID
		}
	} else {
		e.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "_"))
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// unavailableStatus says whether an HTTP status says that the server is down for now: 503 from
// the server, or 502 and 504 from a proxy in front of it while it restarts.
func unavailableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}
