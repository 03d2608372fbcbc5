package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
)

// TestDotSegmentIDs checks that an agent ID or a session ID that cannot be a path segment ("",
// "." or "..") is not found, without a request: under net/http's ServeMux (the API mounted under
// a prefix), /audit/api/v1/agents/../sessions/summary redirects to the account's summary, which
// the client followed, and an agent's export, summary, list or tail read the whole account's.
func TestDotSegmentIDs(t *testing.T) {
	s := newServer(t, 3)
	var requests atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/audit/", http.StripPrefix("/audit", newHandler(t, s.store)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL+"/audit", client.WithBearerToken(token), client.WithRetries(0), client.WithTailReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // a tail of the whole account would wait for ever
	defer cancel()
	for _, id := range []string{"..", ".", ""} {
		check := func(what string, err error, want error) {
			t.Helper()
			if !errors.Is(err, want) {
				t.Errorf("%s of %q: %v, want an error matching %v", what, id, err, want)
			}
		}
		for _, err := range c.AgentSessions(ctx, id, client.Query{}) {
			check("AgentSessions", err, sessions.ErrAgentNotFound)
			break
		}
		_, err := c.Session(ctx, id)
		check("Session", err, sessions.ErrSessionNotFound)
		if id == "" {
			continue // Query.AgentID "" is every agent of the account
		}
		_, err = c.Summary(ctx, client.Query{AgentID: id})
		check("Summary", err, sessions.ErrAgentNotFound)
		_, err = c.Export(ctx, client.Query{AgentID: id}, client.NDJSON, io.Discard)
		check("Export", err, sessions.ErrAgentNotFound)
		for _, err := range c.Tail(ctx, client.Query{AgentID: id}, "") {
			check("Tail", err, sessions.ErrAgentNotFound)
			break
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}
