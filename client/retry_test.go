package client

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestReconnectWait checks the wait before a tail reconnects: the larger of the server's retry
// time (capped at maxRetryAfter, jittered over [retry, 3·retry/2)) and the Retry-After of a 502,
// 503, 504 or 429, the backoff when neither is there, and no reconnection after an error that a
// retry cannot mend.
func TestReconnectWait(t *testing.T) {
	c, err := New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	unavailable := func(retryAfter time.Duration) error {
		return &Error{StatusCode: http.StatusServiceUnavailable, Code: "unavailable", RetryAfter: retryAfter}
	}
	dropped := &connError{errors.New("reset")}
	for _, tc := range []struct {
		name        string
		err         error
		failures    int
		serverRetry time.Duration
		lo, hi      time.Duration // the wait is in [lo, hi]
		retry       bool
	}{
		{"Retry-After above the retry time", unavailable(5 * time.Second), 0, 2 * time.Second, 5 * time.Second, 5 * time.Second, true},
		{"retry time above Retry-After", unavailable(time.Second), 0, 20 * time.Second, 20 * time.Second, 30 * time.Second, true},
		{"a retry time of days: capped", unavailable(time.Second), 0, 23 * 24 * time.Hour, maxRetryAfter, maxRetryAfter * 3 / 2, true},
		{"502 from a proxy", &Error{StatusCode: http.StatusBadGateway}, 0, 2 * time.Second, 2 * time.Second, 3 * time.Second, true},
		{"504 from a proxy", &Error{StatusCode: http.StatusGatewayTimeout, RetryAfter: 4 * time.Second}, 0, 0, 4 * time.Second, 4 * time.Second, true},
		{"a 500 is not retried", &Error{StatusCode: http.StatusInternalServerError}, 0, time.Second, 0, 0, false},
		{"a Retry-After of an hour is not waited for", unavailable(time.Hour), 0, 0, 0, 0, false},
		{"429 without Retry-After: the backoff", &Error{StatusCode: http.StatusTooManyRequests}, 3, 0, 50 * time.Millisecond, 800 * time.Millisecond, true},
		{"a dropped connection: the retry time", dropped, 0, 2 * time.Second, 2 * time.Second, 3 * time.Second, true},
		{"a dropped connection, failing long: the backoff's cap", dropped, 40, time.Millisecond, 50 * time.Millisecond, 30 * time.Second, true},
		{"a 422 is not retried", &Error{StatusCode: http.StatusUnprocessableEntity}, 0, time.Second, 0, 0, false},
		{"a malformed stream is not retried", errMalformed, 0, time.Second, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				wait, retry := c.reconnectWait(tc.err, tc.failures, tc.serverRetry)
				if retry != tc.retry || (retry && (wait < tc.lo || wait > tc.hi)) {
					t.Fatalf("reconnectWait = %v, %v; want %v, in [%v, %v]", wait, retry, tc.retry, tc.lo, tc.hi)
				}
			}
		})
	}
}
