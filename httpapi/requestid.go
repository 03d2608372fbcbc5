package httpapi

import (
	"net/http"
	"strings"

	"github.com/oklog/ulid/v2"
)

// requestIDPrefix starts every request ID.
const requestIDPrefix = "req_"

// requestIDOf returns the ID of a request: its X-Request-Id header when that is a well-formed
// request ID ("req_" and a canonical ULID), and otherwise a new one.
func requestIDOf(r *http.Request) string {
	if v := r.Header.Get("X-Request-Id"); isRequestID(v) {
		return v
	}
	return requestIDPrefix + ulid.Make().String()
}

// isRequestID reports whether s is "req_" and a ULID in canonical (upper-case) form.
func isRequestID(s string) bool {
	rest, ok := strings.CutPrefix(s, requestIDPrefix)
	if !ok || len(rest) != ulid.EncodedSize {
		return false
	}
	id, err := ulid.ParseStrict(rest)
	return err == nil && id.String() == rest
}
