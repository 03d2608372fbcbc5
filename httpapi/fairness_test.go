package httpapi

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// blockingStore returns a faultyStore whose ListSessions, for account A only, signals entered
// and then waits for release, ignoring its context (the worst store: one that does not stop
// when the request is abandoned). Other accounts' lists go to the env's store.
func blockingStore() (fs *faultyStore, entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 16), make(chan struct{})
	fs = &faultyStore{}
	fs.list = func(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
		if f.AccountID == accountA {
			entered <- struct{}{}
			<-release
		}
		return fs.Store.ListSessions(ctx, f)
	}
	return fs, entered, release
}

// TestAccountBound saturates account A's MaxAccountCalls with blocked store calls, and checks
// that A's next requests (on every route that calls the store) get 429 too_many_requests with
// Retry-After, that account B is served as usual meanwhile, and that A is served again once its
// calls return.
func TestAccountBound(t *testing.T) {
	fs, entered, release := blockingStore()
	e := newEnv(t, withStore(fs), func(cfg *Config) { cfg.MaxAccountCalls = 2 })
	e.putSessions(t, accountA, e.agentA1, 3)
	e.putSessions(t, accountB, e.agentB1, 3)

	var wg sync.WaitGroup
	statuses := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- e.do(t, "GET", "/api/v1/sessions", e.cookieA).status
		}()
	}
	<-entered
	<-entered

	type got struct {
		Status     int
		Code       string
		RetryAfter string
	}
	for _, target := range []string{
		"/api/v1/sessions",
		"/api/v1/agents/" + e.agentA1 + "/sessions",
		"/api/v1/sessions/sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		"/api/v1/sessions/summary",
		"/api/v1/sessions/export",
	} {
		res := e.do(t, "GET", target, e.cookieA)
		want := got{http.StatusTooManyRequests, codeTooManyRequests, "1"}
		if diff := cmp.Diff(want, got{res.status, res.envelope(t).Code, res.header.Get("Retry-After")}); diff != "" {
			t.Errorf("account A, %s, beyond the bound (-want +got):\n%s", target, diff)
		}
	}
	for _, target := range []string{"/api/v1/sessions", "/api/v1/agents/" + e.agentB1 + "/sessions"} {
		if p := e.do(t, "GET", target, e.cookieB).page(t); len(p.Data) != 3 {
			t.Errorf("account B, %s: %d sessions, want 3", target, len(p.Data))
		}
	}
	for _, target := range []string{"/api/v1/sessions/summary", "/api/v1/sessions/export"} {
		if res := e.do(t, "GET", target, e.cookieB); res.status != http.StatusOK {
			t.Errorf("account B, %s: status %d, want 200", target, res.status)
		}
	}

	close(release)
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Errorf("a blocked request of account A ended with %d, want 200", s)
		}
	}
	if p := e.do(t, "GET", "/api/v1/sessions", e.cookieA).page(t); len(p.Data) != 3 {
		t.Errorf("account A after its calls returned: %d sessions, want 3", len(p.Data))
	}
}

// TestAccountBoundHoldsAbandonedCalls checks that a store call abandoned on the Timeout (503 for
// its request) keeps its account's slot until the store returns: the bound is on what runs in
// the store, not on the requests waiting for it.
func TestAccountBoundHoldsAbandonedCalls(t *testing.T) {
	fs, entered, release := blockingStore()
	e := newEnv(t, withStore(fs), func(cfg *Config) {
		cfg.MaxAccountCalls = 1
		cfg.Timeout = time.Millisecond
	})
	if res := e.do(t, "GET", "/api/v1/sessions", e.cookieA); res.status != http.StatusServiceUnavailable {
		t.Fatalf("the blocked request: status %d, want 503", res.status)
	}
	<-entered
	if res := e.do(t, "GET", "/api/v1/sessions", e.cookieA); res.status != http.StatusTooManyRequests {
		t.Errorf("while the abandoned call runs: status %d, want 429", res.status)
	}
	release <- struct{}{} // the abandoned call returns
	// The slot comes back when the call's goroutine has returned; wait for it without a clock.
	for running(e.h.limiter, accountA) != 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	e.h.s.timeout = DefaultTimeout
	if res := e.do(t, "GET", "/api/v1/sessions", e.cookieA); res.status != http.StatusOK {
		t.Errorf("after the abandoned call returned: status %d, want 200", res.status)
	}
}

// running returns the store calls that l counts for account.
func running(l *accountLimiter, account string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running[account]
}

// TestAccountLimiter checks the counting of accountLimiter: slots per account, released ones
// reused, and no entry left for an idle account.
func TestAccountLimiter(t *testing.T) {
	l := newAccountLimiter(2)
	var got []bool
	got = append(got, l.acquire("a"), l.acquire("a"), l.acquire("a"), l.acquire("b"))
	l.release("a")
	got = append(got, l.acquire("a"), l.acquire("a"))
	l.release("a")
	l.release("a")
	l.release("b")
	if diff := cmp.Diff([]bool{true, true, false, true, true, false}, got); diff != "" {
		t.Errorf("acquire (-want +got):\n%s", diff)
	}
	if len(l.running) != 0 {
		t.Errorf("idle accounts left in the limiter: %v", l.running)
	}
}
