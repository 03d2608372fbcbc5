package client

import (
	"errors"
	"net/http"
	"net/url"
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

// TestOrigin checks the origins that redirects are followed within: a default port written out
// or not, and a host name in any case, are one origin; another scheme or port is another.
func TestOrigin(t *testing.T) {
	same := [][2]string{
		{"https://api.example.test/a", "https://api.example.test:443/b"},
		{"http://API.example.test/", "http://api.example.test:80/"},
		{"http://[::1]:8080/", "http://[::1]:8080/x"},
	}
	other := [][2]string{
		{"https://api.example.test/", "http://api.example.test/"},
		{"https://api.example.test/", "https://api.example.test:8443/"},
		{"https://api.example.test/", "https://example.test/"},
	}
	for _, pairs := range []struct {
		want  bool
		pairs [][2]string
	}{{true, same}, {false, other}} {
		for _, p := range pairs.pairs {
			a, _ := url.Parse(p[0])
			b, _ := url.Parse(p[1])
			if got := origin(a) == origin(b); got != pairs.want {
				t.Errorf("%s and %s: same origin %v, want %v", p[0], p[1], got, pairs.want)
			}
		}
	}
}
