package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/masker-dev/sessions"
)

// The error codes of the product's envelope.
const (
	codeValidationFailed = "validation_failed"
	codeUnauthenticated  = "unauthenticated"
	codeAgentNotFound    = "agent_not_found"
	codeSessionNotFound  = "session_not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeUnavailable      = "unavailable"
	codeTooManyRequests  = "too_many_requests"
	codeInternalError    = "internal_error"
	codeTooManyStreams   = "too_many_streams"
	codeNotImplemented   = "not_implemented"
	codeHTTPVersion      = "http_version_not_supported"
)

// retryAfterSeconds is the Retry-After of a 503 or 429 response.
const retryAfterSeconds = 5

// tooManyRetryAfterSeconds is the Retry-After of a 429 response: the account's other requests
// usually end within a second.
const tooManyRetryAfterSeconds = 1

// problem is one bad parameter of a request: an entry of the envelope's details.
type problem struct {
	Param   string `json:"param"`
	Message string `json:"message"`
}

// invalidParams is the error of a request with bad parameters. It lists every one of them.
type invalidParams []problem

func (p invalidParams) Error() string {
	return fmt.Sprintf("httpapi: %d invalid parameters, the first %s: %s", len(p), p[0].Param, p[0].Message)
}

// withTokenProblem returns the error of a request from err, that of its parameters, and tokenErr,
// that of its token (its cursor or Last-Event-ID), which was compared with the parameters that
// are good (a parsed query marks only those as given): err with tokenErr's problems added when
// both list bad parameters, so that a 422 names every bad parameter at once; err when it is
// another error; tokenErr when err is nil.
func withTokenProblem(err, tokenErr error) error {
	if err == nil {
		return tokenErr
	}
	var params, problems invalidParams
	if errors.As(err, &params) && errors.As(tokenErr, &problems) {
		return append(params, problems...)
	}
	return err
}

// errMethodNotAllowed is the error of a request with a method other than GET and HEAD.
var errMethodNotAllowed = errors.New("httpapi: method not allowed")

// errPanic wraps the value of a recovered panic, which is an internal error.
type errPanic struct {
	value any
	stack []byte
}

func (e errPanic) Error() string { return fmt.Sprintf("httpapi: panic: %v", e.value) }

// credentialError is an error matching ErrUnauthenticated from an Authenticate function of this
// package (CookieAuth, BearerAuth), which knows its credential: the 401
// response names it. Its text is not shown.
type credentialError struct {
	credential string // what the request lacks, from the Config and never from the request: "masker_session cookie"
	err        error  // the cause, which matches ErrUnauthenticated
}

func (e *credentialError) Error() string { return e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }

// unauthenticatedMessage returns the message of the 401 response to err: it names the credential
// of a credentialError when that name is short and plain, and is generic otherwise, so that no
// text of an Authenticate function reaches the client.
func unauthenticatedMessage(err error) string {
	const generic = "A valid credential is required."
	var c *credentialError
	if !errors.As(err, &c) || len(c.credential) > 64 {
		return generic
	}
	for _, r := range c.credential {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" -_.", r)) {
			return generic
		}
	}
	return "A valid " + c.credential + " is required."
}

// response is what an error becomes: the one table from errors to statuses and codes.
type response struct {
	status  int
	code    string
	message string
	details []problem
}

// classify maps an error of the request pipeline to its response. It is the only place that
// does: the table of the product's error codes.
func classify(err error) response {
	var params invalidParams
	var verr *sessions.ValidationError
	switch {
	case errors.As(err, &params):
		return response{http.StatusUnprocessableEntity, codeValidationFailed, "The request has invalid parameters; see details.", params}
	case errors.Is(err, ErrUnauthenticated):
		return response{http.StatusUnauthorized, codeUnauthenticated, unauthenticatedMessage(err), nil}
	case errors.Is(err, sessions.ErrAgentNotFound):
		return response{http.StatusNotFound, codeAgentNotFound, "No agent with this ID exists in your account.", nil}
	case errors.Is(err, sessions.ErrSessionNotFound):
		return response{http.StatusNotFound, codeSessionNotFound, "No session with this ID exists in your account.", nil}
	case errors.Is(err, errMethodNotAllowed):
		return response{http.StatusMethodNotAllowed, codeMethodNotAllowed, "This endpoint accepts GET and HEAD only.", nil}
	case errors.Is(err, errTooManyRequests):
		return response{http.StatusTooManyRequests, codeTooManyRequests, "Too many requests of this account are running; retry after Retry-After seconds.", nil}
	case errors.Is(err, sessions.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return response{http.StatusServiceUnavailable, codeUnavailable, "The session store is unavailable; retry later.", nil}
	case errors.Is(err, errTooManyStreams):
		return response{http.StatusTooManyRequests, codeTooManyStreams, "Your account has too many open streams; close one or retry later.", nil}
	case errors.Is(err, errExportHTTP10):
		return response{http.StatusHTTPVersionNotSupported, codeHTTPVersion, "An export needs HTTP/1.1 or later, so that a broken transfer shows as broken.", nil}
	case errors.Is(err, errTailUnsupported):
		return response{http.StatusNotImplemented, codeNotImplemented, "This server's session store has no live tail.", nil}
	case errors.As(err, &verr) && paramOf(verr.Field) != "":
		// The last check (Filter.Validate) or the store found a bad value that the parameter
		// checks let through.
		return response{http.StatusUnprocessableEntity, codeValidationFailed, "The request has invalid parameters; see details.",
			[]problem{{Param: paramOf(verr.Field), Message: verr.Reason}}}
	}
	return response{http.StatusInternalServerError, codeInternalError, "An internal error occurred; quote the request ID when reporting it.", nil}
}

// paramOf returns the query parameter of a field of sessions.Filter (or of a parameter already
// named as such), or "" for a field that no parameter sets.
func paramOf(field string) string {
	switch field {
	case "AgentID", "agent_id":
		return "agent_id"
	case "Since", "since":
		return "since"
	case "Until", "until":
		return "until"
	case "Status", "status":
		return "status"
	case "MinRedactions", "min_redactions":
		return "min_redactions"
	case "Limit", "limit":
		return "limit"
	case "After", "cursor":
		return "cursor"
	}
	return ""
}

// envelope is the body of an error response.
type envelope struct {
	Error envelopeError `json:"error"`
}

type envelopeError struct {
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	RequestID string    `json:"request_id"`
	Details   []problem `json:"details"`
}

// writeError answers a request with the response of err, and logs what needs logging: internal
// errors with their cause, outages at warning level, and clients that went away at debug level
// (they get nothing written).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, id string, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		h.log(r, id, slog.LevelDebug, "client went away", err)
		return
	}
	res := classify(err)
	var misconfigured errNoPathValue
	switch {
	case errors.As(err, &misconfigured):
		h.log(r, id, slog.LevelError, "configuration error", err)
	case res.status == http.StatusInternalServerError:
		h.log(r, id, slog.LevelError, "internal error", err)
	case res.status == http.StatusServiceUnavailable:
		h.log(r, id, slog.LevelWarn, "store unavailable", err)
	}
	if res.details == nil {
		res.details = []problem{}
	}
	body, jerr := json.Marshal(envelope{envelopeError{res.code, res.message, id, res.details}})
	if jerr != nil { // cannot happen: strings and slices of strings only
		body = []byte(`{"error":{"code":"internal_error","message":"An internal error occurred.","request_id":"` + id + `","details":[]}}`)
	}
	hdr := w.Header()
	switch res.status {
	case http.StatusMethodNotAllowed:
		hdr.Set("Allow", allowedMethods)
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		after := retryAfterSeconds
		if res.code == codeTooManyRequests {
			after = tooManyRetryAfterSeconds
		}
		hdr.Set("Retry-After", strconv.Itoa(after))
	}
	writeBody(w, r, res.status, "application/json", body)
}

// log logs an event of a request with its ID, method and path.
func (h *Handler) log(r *http.Request, id string, level slog.Level, msg string, err error) {
	attrs := []slog.Attr{
		slog.String("request_id", id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Any("error", err),
	}
	var p errPanic
	if errors.As(err, &p) {
		attrs = append(attrs, slog.String("stack", string(p.stack)))
	}
	h.s.logger.LogAttrs(r.Context(), level, "httpapi: "+msg, attrs...)
}
