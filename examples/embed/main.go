// Command embed shows the sessions API inside an existing Go backend: the backend keeps its own
// routes and its own login, mounts the API under /audit/, and its voice pipeline records each
// finished call with PutSessions.
//
//	go run ./examples/embed
//
// It prints a login cookie and a curl command that lists the calls it recorded.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/store/memory"
)

func main() {
	ctx := context.Background()
	store := memory.New() // a real backend would use sqlite.Open or postgres.Open
	defer store.Close()

	app, err := newBackend(store)
	if err != nil {
		log.Fatal(err)
	}

	// The backend's own data: a customer account with one agent, and a logged-in user.
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_clinic_42", Name: "front-desk"}
	if err := store.PutAgent(ctx, agent); err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		end := time.Now().Add(-time.Duration(i) * time.Hour)
		call := FinishedCall{
			AccountID: agent.AccountID, AgentID: agent.ID,
			Started: end.Add(-90 * time.Second), Ended: end, Failed: i == 2,
			Redactions: map[string]int{"NAME": 1, "PHONE": i}, Model: "gpt-4o-mini",
		}
		if err := app.RecordCall(ctx, call); err != nil {
			log.Fatal(err)
		}
	}
	token := app.logins.login(agent.AccountID)

	const addr = "127.0.0.1:8081"
	fmt.Printf("curl -sS -H 'Cookie: app_session=%s' 'http://%s/audit/api/v1/agents/%s/sessions'\n", token, addr, agent.ID)
	srv := &http.Server{Addr: addr, Handler: app, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// backend stands for an existing application: its own mux, its own logins, its voice pipeline.
type backend struct {
	*http.ServeMux
	store  sessions.Store
	logins *logins
}

// newBackend mounts the sessions API under /audit/ next to the backend's own routes, and
// authenticates it with the backend's own session cookie.
func newBackend(store sessions.Store) (*backend, error) {
	b := &backend{ServeMux: http.NewServeMux(), store: store, logins: &logins{tokens: map[string]string{}}}
	api, err := httpapi.New(httpapi.Config{
		Store:        store,
		Authenticate: httpapi.CookieAuth("app_session", b.logins.verify),
		// CursorKey: load it from your secret store so that replicas share it.
	})
	if err != nil {
		return nil, err
	}
	b.Handle("/audit/", http.StripPrefix("/audit", api))
	b.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return b, nil
}

// FinishedCall is what the backend's voice pipeline knows when a call ends.
type FinishedCall struct {
	AccountID, AgentID string
	Started, Ended     time.Time
	Failed             bool
	Redactions         map[string]int // PHI items redacted, by kind: counts only, never the PHI
	Model              string
}

// RecordCall stores a finished call as a session. A retry with the same session ID would
// replace it rather than add a second one; this example makes a new ID per call.
func (b *backend) RecordCall(ctx context.Context, c FinishedCall) error {
	status := sessions.StatusOK
	if c.Failed {
		status = sessions.StatusError
	}
	return b.store.PutSessions(ctx, sessions.Session{
		ID:               sessions.NewSessionID(c.Started),
		AccountID:        c.AccountID,
		AgentID:          c.AgentID,
		StartedAt:        c.Started,
		EndedAt:          c.Ended,
		Status:           status,
		RedactionsByKind: c.Redactions,
		UpstreamModel:    c.Model,
	})
}

// logins is the backend's own session table: cookie token -> account.
type logins struct {
	mu     sync.Mutex
	tokens map[string]string
}

func (l *logins) login(account string) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	token := hex.EncodeToString(b)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens[token] = account
	return token
}

func (l *logins) verify(_ context.Context, token string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	account, ok := l.tokens[token]
	if !ok {
		return "", httpapi.ErrUnauthenticated
	}
	return account, nil
}
