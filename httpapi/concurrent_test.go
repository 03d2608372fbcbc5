package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// TestConcurrentReadersAndWriters serves lists of both accounts from several goroutines through
// one Handler while other goroutines write sessions and rename agents in the memory store, so that
// `go test -race` sees the handler's shared state (pooled encoders, keys, the mux) and the store
// under concurrent readers and writers. Every response is a 200 whose sessions are all of the
// reader's account, and every walk of a page's cursor stays in that account.
func TestConcurrentReadersAndWriters(t *testing.T) {
	e := newEnv(t)
	owner := sync.Map{} // session ID -> account
	put := func(account, agent string, ago time.Duration) error {
		s := session(account, agent, ago)
		owner.Store(s.ID, account)
		return e.store.PutSessions(context.Background(), s)
	}
	for i := range 50 {
		if err := put(accountA, e.agentA1, time.Duration(i+1)*time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := put(accountB, e.agentB1, time.Duration(i+1)*time.Minute+time.Second); err != nil {
			t.Fatal(err)
		}
	}
	const (
		readers = 6
		writers = 3
		rounds  = 100
	)
	var wg sync.WaitGroup
	errs := make(chan error, readers+writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				account, agent := accountA, e.agentA2
				if (w+i)%2 == 1 {
					account, agent = accountB, e.agentB1
				}
				if err := put(account, agent, time.Duration(w*rounds+i)*time.Second); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				if err := e.store.PutAgent(context.Background(), sessions.Agent{ID: e.agentA1, AccountID: accountA, Name: fmt.Sprint("desk ", i)}); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		}()
	}
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			account, cookie := accountA, e.cookieA
			if r%2 == 1 {
				account, cookie = accountB, e.cookieB
			}
			start := "/api/v1/sessions?limit=7"
			if r%3 == 2 {
				start = "/api/v1/agents/" + e.agentA1 + "/sessions?limit=5"
				account, cookie = accountA, e.cookieA
			}
			target := start
			for range rounds {
				req := httptest.NewRequest("GET", target, nil)
				req.Header.Set("Cookie", cookie)
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					errs <- fmt.Errorf("reader %d: %s: status %d: %s", r, target, w.Code, w.Body)
					return
				}
				var p page
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
					errs <- fmt.Errorf("reader %d: %s: %v: %s", r, target, err, w.Body)
					return
				}
				for _, id := range p.ids() {
					if got, _ := owner.Load(id); got != account {
						errs <- fmt.Errorf("reader %d as %s: session %s of %v", r, account, id, got)
						return
					}
				}
				target = start // the walk is over: start again
				if p.NextCursor != "" {
					target = req.URL.Path + "?limit=7&cursor=" + p.NextCursor
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
