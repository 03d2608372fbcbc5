package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/store/memory"
)

// Example mounts the API under /audit in an existing mux, authenticated by the product's
// masker_session cookie, and lists the sessions of an agent.
func Example() {
	store := memory.New()
	defer store.Close()
	ctx := context.Background()
	agent := sessions.Agent{ID: "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", AccountID: "acct_1", Name: "Front desk"}
	if err := store.PutAgent(ctx, agent); err != nil {
		panic(err)
	}
	err := store.PutSessions(ctx, sessions.Session{
		ID:               "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		AccountID:        "acct_1",
		AgentID:          agent.ID,
		StartedAt:        time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC),
		EndedAt:          time.Date(2026, 5, 3, 21, 14, 32, 794e6, time.UTC),
		Status:           sessions.StatusOK,
		RedactionsByKind: map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1},
	})
	if err != nil {
		panic(err)
	}

	api, err := httpapi.New(httpapi.Config{
		Store: store,
		Authenticate: httpapi.CookieAuth("masker_session", func(ctx context.Context, value string) (string, error) {
			if value != "secret-session" { // look the session up in your own store
				return "", httpapi.ErrUnauthenticated
			}
			return "acct_1", nil
		}),
		Now:       func() time.Time { return time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC) },
		CursorKey: []byte(strings.Repeat("k", 32)), // load it from a secret store
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/audit/", http.StripPrefix("/audit", api))

	server := httptest.NewServer(mux)
	defer server.Close()
	req, _ := http.NewRequest("GET", server.URL+"/audit/api/v1/agents/"+agent.ID+"/sessions?since=7d&limit=100", nil)
	req.AddCookie(&http.Cookie{Name: "masker_session", Value: "secret-session"})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.Status, res.Header.Get("Content-Type"))
	fmt.Println(string(body))
	// Output:
	// 200 OK application/json
	// {"data":[{"id":"sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA","agent_id":"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA","started_at":"2026-05-03T21:14:32Z","ended_at":"2026-05-03T21:14:32.794Z","duration_ms":794,"status":"ok","redaction_count":4,"redactions_by_kind":{"DOB":1,"NAME":2,"PHONE":1}}],"next_cursor":null}
}

// ExampleHandler_AgentSessions mounts the agent endpoint in a router of another shape, which
// passes the agent ID in a header here (a real router would keep it in the request's context).
func ExampleHandler_AgentSessions() {
	store := memory.New()
	defer store.Close()
	api, err := httpapi.New(httpapi.Config{
		Store:        store,
		Authenticate: func(r *http.Request) (string, error) { return "acct_1", nil },
		CursorKey:    []byte(strings.Repeat("k", 32)),
		AgentID:      func(r *http.Request) string { return r.Header.Get("X-Agent") },
	})
	if err != nil {
		panic(err)
	}
	endpoint := api.AgentSessions() // mount it on the router's own route
	r := httptest.NewRequest("GET", "/bots/calls", nil)
	r.Header.Set("X-Agent", "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA")
	w := httptest.NewRecorder()
	endpoint.ServeHTTP(w, r)
	fmt.Println(w.Code, strings.Contains(w.Body.String(), `"code":"agent_not_found"`))
	// Output:
	// 404 true
}

// ExampleBearerAuth authenticates API clients with a bearer token scoped to reading sessions
// (sessions:read): the verifier refuses any other token with ErrUnauthenticated, which gives 401.
func ExampleBearerAuth() {
	store := memory.New()
	defer store.Close()
	tokens := map[string]string{"tok_read_1": "acct_1"} // your token service: token -> account, for the sessions:read scope
	api, err := httpapi.New(httpapi.Config{
		Store: store,
		Authenticate: httpapi.BearerAuth(func(ctx context.Context, token string) (string, error) {
			account, ok := tokens[token]
			if !ok {
				return "", httpapi.ErrUnauthenticated
			}
			return account, nil
		}),
		CursorKey:        []byte(strings.Repeat("k", 32)),
		DisableAccessLog: true,
	})
	if err != nil {
		panic(err)
	}
	for _, header := range []string{"Bearer tok_read_1", "Bearer tok_other", ""} {
		r := httptest.NewRequest("GET", "/api/v1/sessions", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Printf("%q: %d\n", header, w.Code)
	}
	// Output:
	// "Bearer tok_read_1": 200
	// "Bearer tok_other": 401
	// "": 401
}
