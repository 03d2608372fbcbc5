package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestStreamDefaultLimit checks the contract's default of Config.MaxStreamsPerAccount: with the
// field left at zero, an account may hold 16 streams at once, and the 17th gets 429
// too_many_streams with Retry-After, while another account is still served.
func TestStreamDefaultLimit(t *testing.T) {
	e := newEnv(t) // MaxStreamsPerAccount left at zero
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	const path = "/api/v1/sessions/stream"
	for range 16 {
		openStream(t, srv, path, e.cookieA, "").opening(t)
	}
	over := openStream(t, srv, path, e.cookieA, "")
	body, _ := io.ReadAll(over.res.Body)
	var envl struct{ Error envelopeError }
	if err := json.Unmarshal(body, &envl); err != nil || over.res.StatusCode != http.StatusTooManyRequests ||
		envl.Error.Code != codeTooManyStreams || over.res.Header.Get("Retry-After") == "" {
		t.Fatalf("the 17th stream of an account: %d %s Retry-After %q; want 429 %s with Retry-After",
			over.res.StatusCode, body, over.res.Header.Get("Retry-After"), codeTooManyStreams)
	}
	openStream(t, srv, path, e.cookieB, "").opening(t) // another account
}

// TestStreamDefaultHeartbeat checks the contract's default of Config.StreamHeartbeat: 15 s when
// the field is left at zero. (Waiting for it over the wire would take 15 s; TestStreamHeartbeat
// checks that the configured period is what the stream keeps.)
func TestStreamDefaultHeartbeat(t *testing.T) {
	e := newEnv(t) // StreamHeartbeat left at zero
	if got := e.h.s.heartbeat; got != 15*time.Second {
		t.Errorf("heartbeat with Config.StreamHeartbeat zero: %v; want 15s", got)
	}
	if DefaultStreamHeartbeat != 15*time.Second || DefaultMaxStreamsPerAccount != 16 {
		t.Errorf("DefaultStreamHeartbeat %v, DefaultMaxStreamsPerAccount %d; want 15s and 16",
			DefaultStreamHeartbeat, DefaultMaxStreamsPerAccount)
	}
}
