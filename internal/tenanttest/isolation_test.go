package tenanttest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/internal/testscale"
	"github.com/masker-dev/sessions/store/memory"
)

// stores lists the stores the property runs on; the SQLite and PostgreSQL stores add
// themselves from their own files.
var stores = map[string]func(t *testing.T) sessions.Store{
	"memory": func(t *testing.T) sessions.Store {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	},
}

func TestIsolation(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) { checkIsolation(t, open(t)) })
	}
}

// world is the random data of one run: which account owns each agent and session.
type world struct {
	accounts     []string
	agents       []sessions.Agent
	sessionOwner map[string]string // session ID -> account
}

func populate(t *testing.T, rng *rand.Rand, store sessions.Store, now time.Time) world {
	t.Helper()
	ctx := context.Background()
	w := world{accounts: []string{"acct_a", "acct_b", "acct_c"}, sessionOwner: map[string]string{}}
	for _, acct := range w.accounts {
		for i := range 3 {
			a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: acct, Name: fmt.Sprintf("%s-agent-%d", acct, i)}
			if err := store.PutAgent(ctx, a); err != nil {
				t.Fatal(err)
			}
			w.agents = append(w.agents, a)
		}
	}
	statuses := []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}
	var batch []sessions.Session
	for range testscale.Pick(200, 600) {
		a := w.agents[rng.Intn(len(w.agents))]
		// Many ties across accounts: start times on a coarse grid.
		started := now.Add(-time.Duration(rng.Intn(10*24*60)) * time.Minute)
		s := sessions.Session{
			ID: sessions.NewSessionID(started), AccountID: a.AccountID, AgentID: a.ID,
			StartedAt: started, EndedAt: started.Add(time.Minute), Status: statuses[rng.Intn(3)],
			RedactionsByKind: map[string]int{"NAME": rng.Intn(4), "PHONE": rng.Intn(3)},
		}
		w.sessionOwner[s.ID] = a.AccountID
		batch = append(batch, s)
	}
	if err := store.PutSessions(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	return w
}

type listBody struct {
	Data []struct {
		ID      string `json:"id"`
		AgentID string `json:"agent_id"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
		Details   []struct {
			Param string `json:"param"`
		} `json:"details"`
	} `json:"error"`
}

// checkIsolation sends hundreds of random requests, as random accounts, with agents and cursors
// taken from every account, and checks that no response holds another account's session, that
// another account's agent gives the same 404 as an unknown one, and that a cursor carried to
// another account is refused. With the small data sets it writes 200 sessions and sends 150
// requests (600 and 400 with the large ones): every kind of request still comes dozens of times
// (each of the three accounts, on both routes, with and without each filter, carried cursors),
// and the check at the end fails a run that saw no 404 or no cursor.
func checkIsolation(t *testing.T, store sessions.Store) {
	rng := rand.New(rand.NewSource(42))
	now := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	w := populate(t, rng, store, now)
	api, err := httpapi.New(httpapi.Config{
		Store: store,
		Authenticate: func(r *http.Request) (string, error) {
			if acct := r.Header.Get("X-Test-Account"); acct != "" {
				return acct, nil
			}
			return "", httpapi.ErrUnauthenticated
		},
		Now:       func() time.Time { return now },
		CursorKey: []byte("tenant-isolation-test-key-32-bytes!"),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	type cursor struct{ account, path, value string }
	var cursors []cursor
	unknownAgent := sessions.NewAgentID()
	var notFound string // the body of a 404, request ID aside

	get := func(account, path string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("X-Test-Account", account)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
			t.Fatalf("GET %s: body is not JSON: %v", path, err)
		}
		return resp.StatusCode, raw
	}
	requestID := regexp.MustCompile(`"req_[0-9A-Z]{26}"`)

	for i := range testscale.Pick(150, 400) {
		account := w.accounts[rng.Intn(len(w.accounts))]
		q := url.Values{}
		for _, p := range []struct{ name, value string }{
			{"since", []string{"1h", "24h", "7d", "30d", "2026-04-30"}[rng.Intn(5)]},
			{"status", []string{"ok", "error", "partial"}[rng.Intn(3)]},
			{"min_redactions", fmt.Sprint(rng.Intn(5))},
			{"limit", fmt.Sprint(1 + rng.Intn(100))},
		} {
			if rng.Intn(2) == 0 {
				q.Set(p.name, p.value)
			}
		}
		agent := unknownAgent
		if rng.Intn(8) != 0 {
			agent = w.agents[rng.Intn(len(w.agents))].ID
		}
		var path string
		if rng.Intn(2) == 0 {
			path = "/api/v1/agents/" + agent + "/sessions"
		} else {
			path = "/api/v1/sessions"
			if rng.Intn(2) == 0 {
				q.Set("agent_id", agent)
			}
		}
		var carried *cursor
		if len(cursors) > 0 && rng.Intn(3) == 0 {
			c := cursors[rng.Intn(len(cursors))]
			carried = &c
			q = url.Values{"cursor": {c.value}}
			path = c.path
		}
		target := path
		if len(q) > 0 {
			target += "?" + q.Encode()
		}

		code, body := get(account, target)
		ownAgent := agentOwner(w, agentOf(path, q)) == account || agentOf(path, q) == ""
		switch {
		case carried != nil && carried.account != account:
			if code != http.StatusUnprocessableEntity && code != http.StatusNotFound {
				t.Fatalf("request %d: %s's cursor replayed by %s: status %d %s, want 422 (or 404 for the agent)", i, carried.account, account, code, body)
			}
			if code == http.StatusUnprocessableEntity {
				var e errorBody
				_ = json.Unmarshal(body, &e)
				if len(e.Error.Details) != 1 || e.Error.Details[0].Param != "cursor" {
					t.Fatalf("request %d: replayed cursor: %s, want a 422 naming cursor", i, body)
				}
			}
		case !ownAgent:
			if code != http.StatusNotFound {
				t.Fatalf("request %d: %s asks for another account's or an unknown agent: status %d %s, want 404", i, account, code, body)
			}
			norm := requestID.ReplaceAllString(string(body), `"req"`)
			if notFound == "" {
				notFound = norm
			} else if norm != notFound {
				t.Fatalf("request %d: 404 bodies differ:\n%s\n%s", i, notFound, norm)
			}
		default:
			if code != http.StatusOK {
				t.Fatalf("request %d: GET %s as %s: status %d %s", i, target, account, code, body)
			}
			var list listBody
			if err := json.Unmarshal(body, &list); err != nil {
				t.Fatal(err)
			}
			for _, s := range list.Data {
				if owner := w.sessionOwner[s.ID]; owner != account {
					t.Fatalf("request %d: %s was shown session %s of %q", i, account, s.ID, owner)
				}
			}
			if list.NextCursor != nil {
				cursors = append(cursors, cursor{account, path, *list.NextCursor})
			}
		}
	}
	if notFound == "" || len(cursors) == 0 {
		t.Fatalf("the random requests covered too little: 404 seen %t, %d cursors", notFound != "", len(cursors))
	}
}

// agentOf returns the agent a request names, in its path or its agent_id parameter.
func agentOf(path string, q url.Values) string {
	var id string
	if _, err := fmt.Sscanf(path, "/api/v1/agents/%30s", &id); err == nil {
		return id[:min(len(id), 30)]
	}
	return q.Get("agent_id")
}

func agentOwner(w world, id string) string {
	for _, a := range w.agents {
		if a.ID == id {
			return a.AccountID
		}
	}
	return ""
}
