package httpapi

import (
	"net/http"
	"strings"

	"github.com/oklog/ulid/v2"
)

// requestIDPrefix starts every request ID that the handler makes.
const requestIDPrefix = "req_"

// maxRequestIDLen is the longest X-Request-Id of a request that the handler keeps: room for the
// IDs that proxies and tracing systems make (a UUID has 36 bytes, a W3C traceparent 55), and
// short enough for every log line it goes into.
const maxRequestIDLen = 128

// requestIDOf returns the ID of a request: the one the access log made for it, else its
// X-Request-Id header when that is safe to echo (see isSafeRequestID), and otherwise a new one,
// "req_" and a ULID.
func requestIDOf(r *http.Request) string {
	if a := accessOf(r); a != nil {
		return a.requestID
	}
	if v := r.Header.Get("X-Request-Id"); isSafeRequestID(v) {
		return v
	}
	return requestIDPrefix + ulid.Make().String()
}

// isSafeRequestID reports whether an X-Request-Id of a request is kept: 1 to maxRequestIDLen
// bytes of printable ASCII without space, quotes, backslash or angle brackets. Such an ID, which
// a load balancer or the caller's own service made to follow the request through its logs, goes
// into the response header, the error envelope and the logs as it is; it can break none of them,
// nor HTML or a shell command line it is pasted into. Anything else (empty, too long, control
// characters, non-ASCII, spaces, quotes) is replaced by a new ID, so that what a client sends is
// never echoed in a form that could forge a log line or a header.
func isSafeRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7F || strings.IndexByte("\"'\\`<>", c) >= 0 {
			return false
		}
	}
	return true
}
