package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
)

// feedServer is a fake stream route over a fixed feed of n sessions, positions 1..n: each
// connection sends the events after its Last-Event-ID, up to perConn of them, and then drops the
// connection; every other connection first answers 503.
type feedServer struct {
	mu       sync.Mutex
	n        int
	perConn  int
	conns    int
	resumes  []string // the Last-Event-ID of each connection
	failures int      // 503s answered
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.conns++
	conn := f.conns
	last := r.Header.Get("Last-Event-ID")
	f.resumes = append(f.resumes, last)
	if conn%2 == 0 {
		f.failures++
		f.mu.Unlock()
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":{"code":"unavailable","message":"m","request_id":"req_1"}}`)
		return
	}
	f.mu.Unlock()
	from := 0
	if last != "" {
		from, _ = strconv.Atoi(last)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprintf(w, "retry: 1\nid: %d\n\n", from)
	for p := from + 1; p <= min(from+f.perConn, f.n); p++ {
		fmt.Fprintf(w, ": heartbeat\nevent: session\nid: %d\ndata: {\"id\":\"sess_%d\",\"agent_id\":\"agt_1\",\"started_at\":\"2026-05-03T21:14:32Z\",\"ended_at\":\"2026-05-03T21:14:33Z\",\"status\":\"ok\",\"redactions_by_kind\":{}}\n\n", p, p)
	}
	if from+f.perConn >= f.n {
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the end of the feed: wait, as a live stream does
	}
}

// TestTailReconnects checks that a tail through dropped connections and 503s yields every event
// once, in order, resuming each time with the last event ID.
func TestTailReconnects(t *testing.T) {
	t.Parallel() // waits for retries, and spends almost no CPU
	f := &feedServer{n: 25, perConn: 4}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithRetries(0))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	next := 1
	for ev, err := range c.Tail(ctx, client.Query{}, "") {
		if err != nil {
			t.Fatalf("after %d events: %v", next-1, err)
		}
		if want := fmt.Sprintf("sess_%d", next); ev.Session.ID != want || ev.ID != strconv.Itoa(next) {
			t.Fatalf("event %q %s, want %d %s", ev.ID, ev.Session.ID, next, want)
		}
		if next == f.n {
			break
		}
		next++
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures == 0 || f.resumes[0] != "" {
		t.Errorf("resumes %q, failures %d", f.resumes, f.failures)
	}
	for i := 2; i < len(f.resumes); i += 2 {
		if want := strconv.Itoa(min(4*(i/2), f.n)); f.resumes[i] != want {
			t.Errorf("connection %d resumed after %q, want %q", i+1, f.resumes[i], want)
		}
	}
}

// TestTailResumesFromOpening checks that a tail given a position resumes there, and that the
// opening id of a stream with no events is where the next connection resumes.
func TestTailResumesFromOpening(t *testing.T) {
	f := &feedServer{n: 3, perConn: 100}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _ := client.New(srv.URL)
	var ids []string
	for ev, err := range c.Tail(t.Context(), client.Query{}, "1") {
		if err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, ev.ID); len(ids) == 2 {
			break
		}
	}
	if fmt.Sprint(ids) != "[2 3]" {
		t.Errorf("events %v, want [2 3]", ids)
	}
}

// TestTailStops checks the errors that end a tail: ctx's, a window, and a refusal that a retry
// cannot mend.
func TestTailStops(t *testing.T) {
	f := &feedServer{n: 0, perConn: 1}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _ := client.New(srv.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	for _, err := range c.Tail(ctx, client.Query{}, "") {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ctx ended: %v, want context.DeadlineExceeded", err)
		}
	}
	for _, err := range c.Tail(t.Context(), client.Query{Since: "1h"}, "") {
		var ve *sessions.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("a tail with since: %v, want a ValidationError", err)
		}
	}
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"error":{"code":"validation_failed","message":"m","request_id":"req_1","details":[{"param":"Last-Event-ID","message":"altered"}]}}`)
	}))
	defer refusing.Close()
	rc, _ := client.New(refusing.URL)
	n := 0
	for _, err := range rc.Tail(t.Context(), client.Query{}, "forged") {
		n++
		var ve *sessions.ValidationError
		if !errors.As(err, &ve) || ve.Field != "Last-Event-ID" {
			t.Errorf("a refused token: %v, want a ValidationError on Last-Event-ID", err)
		}
	}
	if n != 1 {
		t.Errorf("a refused token yielded %d times, want 1", n)
	}
}

// countingServer answers every request with handle, and counts them.
type countingServer struct {
	mu    sync.Mutex
	n     int
	ids   []string // the Last-Event-ID of each request
	serve func(w http.ResponseWriter, r *http.Request, n int)
}

func (s *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.n++
	n := s.n
	s.ids = append(s.ids, r.Header.Get("Last-Event-ID"))
	s.mu.Unlock()
	s.serve(w, r, n)
}

func (s *countingServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// sessionEvent writes one session event with id.
func sessionEvent(w http.ResponseWriter, id string) {
	fmt.Fprintf(w, "event: session\nid: %s\ndata: {\"id\":\"sess_%s\",\"agent_id\":\"agt_1\",\"started_at\":\"2026-05-03T21:14:32Z\",\"ended_at\":\"2026-05-03T21:14:33Z\",\"status\":\"ok\",\"redactions_by_kind\":{}}\n\n", id, id)
}

// TestTailGivesUp checks the ends of a tail that no reconnection mends: a 200 response that is
// not an event stream and an oversized line end it at once; a stream that ends before it
// delivers anything (a server that closes at once, or rejects the resume position after its 200)
// is retried with a growing backoff, WithTailReconnects times, and then ends with the last error.
func TestTailGivesUp(t *testing.T) {
	t.Parallel() // waits for retries, and spends almost no CPU
	for _, tc := range []struct {
		name     string
		serve    func(w http.ResponseWriter, r *http.Request, n int)
		requests int
		is       error // the error matches it; nil: it does not match ErrUnavailable
	}{
		{"200 in JSON", func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"data":[]}`)
		}, 1, nil},
		{"200 without a Content-Type", func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header()["Content-Type"] = nil
			fmt.Fprint(w, "retry: 1\n\n")
		}, 1, nil},
		{"a line over 1 MiB", func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: "+strings.Repeat("x", 2<<20)+"\n\n")
		}, 1, nil},
		{"closes at once", func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		}, 4, sessions.ErrUnavailable},
		{"opens, then ends", func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "retry: 1\nid: %d\n\n: heartbeat\n", n)
		}, 4, sessions.ErrUnavailable},
		{"503 every time", func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, 4, sessions.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := &countingServer{serve: tc.serve}
			srv := httptest.NewServer(cs)
			defer srv.Close()
			c, _ := client.New(srv.URL, client.WithTailReconnects(3))
			var errs []error
			for _, err := range c.Tail(t.Context(), client.Query{}, "") {
				errs = append(errs, err)
			}
			if len(errs) != 1 || errs[0] == nil {
				t.Fatalf("yielded %v, want one error", errs)
			}
			if tc.is != nil && !errors.Is(errs[0], tc.is) || tc.is == nil && errors.Is(errs[0], sessions.ErrUnavailable) {
				t.Errorf("error %v, want one that matches %v", errs[0], tc.is)
			}
			if got := cs.requests(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
		})
	}
}

// TestTailProgressResetsReconnects checks that a stream that delivers a session counts as a
// success: a server that drops every connection after one event is followed for longer than
// WithTailReconnects allows failures in a row.
func TestTailProgressResetsReconnects(t *testing.T) {
	cs := &countingServer{serve: func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "retry: 1\n\n")
		sessionEvent(w, strconv.Itoa(n))
	}}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithTailReconnects(1))
	n := 0
	for ev, err := range c.Tail(t.Context(), client.Query{}, "") {
		if err != nil {
			t.Fatalf("after %d events: %v", n, err)
		}
		if n++; ev.ID != strconv.Itoa(n) {
			t.Fatalf("event %q, want %d", ev.ID, n)
		}
		if n == 5 {
			break
		}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if want := []string{"", "1", "2", "3", "4"}; !slices.Equal(cs.ids, want) {
		t.Errorf("Last-Event-ID of each request %q, want %q", cs.ids, want)
	}
}

// TestTailIdleTimeout checks the watchdog: a connection that sends nothing for the idle timeout
// is dropped and resumed with the last event ID, while one that sends heartbeats is kept.
func TestTailIdleTimeout(t *testing.T) {
	cs := &countingServer{serve: func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "retry: 1\nid: %d\n\n", n*10)
		w.(http.Flusher).Flush()
		if n == 1 {
			// Heartbeats for four idle timeouts, then an event, then silence.
			for range 40 {
				select {
				case <-time.After(25 * time.Millisecond):
				case <-r.Context().Done():
					return
				}
				fmt.Fprint(w, ": heartbeat\n")
				w.(http.Flusher).Flush()
			}
			sessionEvent(w, "11")
			w.(http.Flusher).Flush()
		} else {
			sessionEvent(w, strconv.Itoa(n*10+1))
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	// An idle timeout of ten heartbeats: a machine busy with other tests may hold a heartbeat
	// back by a few of them.
	c, _ := client.New(srv.URL, client.WithTailIdleTimeout(250*time.Millisecond))
	var ids []string
	for ev, err := range c.Tail(t.Context(), client.Query{}, "") {
		if err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, ev.ID); len(ids) == 2 {
			break
		}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if want := []string{"11", "21"}; !slices.Equal(ids, want) {
		t.Errorf("events %q, want %q", ids, want)
	}
	if want := []string{"", "11"}; !slices.Equal(cs.ids, want) {
		t.Errorf("Last-Event-ID of each request %q, want %q", cs.ids, want)
	}
}

// TestTailKeepsTheServersRetry checks that the server's retry field holds for the reconnections
// after the connection that sent it, also after connections that send none, and that no
// reconnection comes earlier than it; and that WithTailReconnecting's function hears of each.
func TestTailKeepsTheServersRetry(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		first := len(at) == 1
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		if first {
			w.Write([]byte("retry: 300\nid: 0\n\n"))
		} // then the connection ends, without an event
	}))
	defer srv.Close()
	var waits []time.Duration // what WithTailReconnecting was told
	c, err := client.New(srv.URL, client.WithBearerToken("t"), client.WithTailReconnects(3),
		client.WithTailReconnecting(func(err error, wait time.Duration) {
			if err == nil {
				t.Error("WithTailReconnecting's function got no error")
			}
			waits = append(waits, wait)
		}))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range c.Tail(t.Context(), client.Query{}, "") {
		if err == nil {
			t.Fatal("an event from a stream of none")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 4 {
		t.Fatalf("%d connections; want 4", len(at))
	}
	if len(waits) != 3 || slices.Min(waits) < 300*time.Millisecond {
		t.Errorf("WithTailReconnecting's function was told the waits %v; want 3, of the server's retry at least", waits)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 300*time.Millisecond {
			t.Errorf("connection %d came %v after the one before; want at least the server's retry of 300ms", i+1, gap)
		}
	}
}
