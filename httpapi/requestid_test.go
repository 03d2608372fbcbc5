package httpapi

import (
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"
)

// isRequestID reports whether s is a request ID that the handler made: "req_" and a ULID in
// canonical (upper-case) form.
func isRequestID(s string) bool {
	rest, ok := strings.CutPrefix(s, requestIDPrefix)
	if !ok || len(rest) != ulid.EncodedSize {
		return false
	}
	id, err := ulid.ParseStrict(rest)
	return err == nil && id.String() == rest
}

// TestRequestID checks that a request ID is made for each request, and that the request's own
// X-Request-Id is kept, in the header and in the envelope, when it is safe to echo.
func TestRequestID(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/sessions"
	seen := map[string]bool{}
	for range 5 {
		id := e.do(t, "GET", path, e.cookieA).header.Get("X-Request-Id")
		if seen[id] {
			t.Errorf("request ID %s made twice", id)
		}
		seen[id] = true
	}
	for _, tc := range []struct {
		in   string
		kept bool
	}{
		{"req_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", true},
		{"req_01hyz3n5tv0qw3y0b7vq6j3rfa", true},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", true},                             // a UUID
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},          // a traceparent
		{"Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8", true}, // an AWS trace header
		{"8a1b2c3d4e5f6a7b-SJC", true},
		{"a", true},
		{strings.Repeat("x", maxRequestIDLen), true},
		{strings.Repeat("x", maxRequestIDLen+1), false},
		{"", false},
		{"two words", false},
		{`quote"d`, false},
		{"quote'd", false},
		{`back\slash`, false},
		{"back`tick", false},
		{"<script>", false},
		{"tab\there", false},
		{"nul\x00", false},
		{"del\x7f", false},
		{"caf\xc3\xa9", false},
	} {
		for _, cookie := range []string{e.cookieA, ""} { // a success and an error
			r := httptestRequest("GET", path, cookie)
			r.Header.Set("X-Request-Id", tc.in)
			res := serveRequest(t, e.h, r)
			got := res.header.Get("X-Request-Id")
			if (got == tc.in) != tc.kept || !tc.kept && !isRequestID(got) {
				t.Errorf("X-Request-Id %q: answered %q, want kept=%v", tc.in, got, tc.kept)
			}
			if cookie == "" {
				if env := res.envelope(t); env.RequestID != got {
					t.Errorf("X-Request-Id %q: envelope request_id %q, header %q", tc.in, env.RequestID, got)
				}
			}
		}
	}
}
