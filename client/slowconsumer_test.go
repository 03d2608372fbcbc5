package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions/client"
)

// TestTailSlowLoopBody checks that the idle timeout counts the server's silence only: a loop
// body that takes longer than it, while the server keeps sending heartbeats, does not drop the
// stream (it reconnected, saying that the stream had sent nothing).
func TestTailSlowLoopBody(t *testing.T) {
	t.Parallel() // waits, and spends almost no CPU
	const idle = 300 * time.Millisecond
	var mu sync.Mutex
	var resumes []string
	event := func(w http.ResponseWriter, p int) {
		fmt.Fprintf(w, "event: session\nid: %d\ndata: {\"id\":\"sess_%d\",\"agent_id\":\"agt_1\",\"started_at\":\"2026-05-03T21:14:32Z\",\"ended_at\":\"2026-05-03T21:14:33Z\",\"status\":\"ok\",\"redactions_by_kind\":{}}\n\n", p, p)
		w.(http.Flusher).Flush()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last := r.Header.Get("Last-Event-ID")
		mu.Lock()
		resumes = append(resumes, last)
		mu.Unlock()
		from, _ := strconv.Atoi(last)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "retry: 1\nid: %d\n\n", from)
		if from < 1 {
			event(w, 1)
		}
		heartbeat := time.NewTicker(idle / 6)
		defer heartbeat.Stop()
		second := time.After(4 * idle) // after the loop body's wait
		for {
			select {
			case <-r.Context().Done():
				return
			case <-heartbeat.C:
				fmt.Fprint(w, ": heartbeat\n")
				w.(http.Flusher).Flush()
			case <-second:
				if from < 2 {
					event(w, 2)
				}
			}
		}
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithTailIdleTimeout(idle))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for ev, err := range c.Tail(ctx, client.Query{}, "") {
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID == "1" {
			time.Sleep(3 * idle) // a slow loop body
		}
		if ev.ID == "2" {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(resumes) != 1 {
		t.Errorf("%d connections (Last-Event-ID %q), want 1: the server never fell silent", len(resumes), resumes)
	}
}
