package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/memory"
)

// TestEmbed records a call through the backend's pipeline and lists it through the mounted API
// with the backend's cookie; without the cookie the API answers 401, and the backend's own
// routes still work.
func TestEmbed(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	app, err := newBackend(store)
	if err != nil {
		t.Fatal(err)
	}
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_clinic_42", Name: "front-desk"}
	if err := store.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(-time.Minute)
	call := FinishedCall{AccountID: agent.AccountID, AgentID: agent.ID, Started: end.Add(-time.Minute), Ended: end,
		Redactions: map[string]int{"NAME": 2, "PHONE": 1}, Model: "gpt-4o-mini"}
	if err := app.RecordCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()

	get := func(path, cookie string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "app_session", Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	path := "/audit/api/v1/agents/" + agent.ID + "/sessions"
	if resp := get(path, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a cookie: status %d, want 401", resp.StatusCode)
	}
	if resp := get(path, "forged"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("with a forged cookie: status %d, want 401", resp.StatusCode)
	}
	resp := get(path, app.logins.login(agent.AccountID))
	var body struct {
		Data []struct {
			AgentID        string `json:"agent_id"`
			DurationMS     int64  `json:"duration_ms"`
			RedactionCount int    `json:"redaction_count"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list: status %d, %v", resp.StatusCode, err)
	}
	if len(body.Data) != 1 || body.Data[0].AgentID != agent.ID || body.Data[0].DurationMS != 60_000 || body.Data[0].RedactionCount != 3 {
		t.Errorf("list = %+v, want the recorded call", body.Data)
	}
	if other := get(path, app.logins.login("acct_other")); other.StatusCode != http.StatusNotFound {
		t.Errorf("another account's user: status %d, want 404", other.StatusCode)
	}
	if resp := get("/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("backend route: status %d", resp.StatusCode)
	}
}
