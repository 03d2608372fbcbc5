package oapiclient_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions/compat/internal/fixture"
	"github.com/masker-dev/sessions/compat/oapiclient"
	"github.com/masker-dev/sessions/httpapi"
)

// item is what the test compares of a listed session.
type item struct {
	ID                 string
	AgentName          string
	StartedAt, EndedAt time.Time // the generated fields are time.Time: this does not compile otherwise
	DurationMs         int
	Status             string
	RedactionsByKind   map[string]int
}

// client returns a generated client of an httpapi server over a store of n sessions, and the
// items that the store lists, newest first.
func client(tb testing.TB, n int, token string) (*oapiclient.ClientWithResponses, []item) {
	tb.Helper()
	store, ss := fixture.Store(tb, n)
	api, err := httpapi.New(fixture.Config(store, slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(api)
	tb.Cleanup(srv.Close)
	c, err := oapiclient.NewClientWithResponses(srv.URL, oapiclient.WithRequestEditorFn(func(ctx context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		tb.Fatal(err)
	}
	var want []item
	for _, s := range ss {
		want = append(want, item{s.ID, s.AgentName, s.StartedAt, s.EndedAt, int(s.Duration().Milliseconds()), string(s.Status), s.RedactionsByKind})
	}
	return c, want
}

// TestGeneratedClientListsSessions walks every page of both lists with the client that
// oapi-codegen generated from httpapi/openapi.yaml, and gets the sessions with their times as
// time.Time, equal to the store's.
func TestGeneratedClientListsSessions(t *testing.T) {
	ctx := context.Background()
	c, want := client(t, 5, fixture.Token)
	limit := 2

	var got []item
	var cursor *string
	for pages := 0; ; pages++ {
		res, err := c.ListSessionsWithResponse(ctx, &oapiclient.ListSessionsParams{Limit: &limit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if res.JSON200 == nil {
			t.Fatalf("%d: %s", res.StatusCode(), res.Body)
		}
		for _, s := range res.JSON200.Data {
			got = append(got, item{s.Id, s.AgentName, s.StartedAt, s.EndedAt, s.DurationMs, string(s.Status), s.RedactionsByKind})
		}
		if cursor = res.JSON200.NextCursor; cursor == nil || pages > 10 {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("account list (-want +got):\n%s", diff)
	}

	res, err := c.ListAgentSessionsWithResponse(ctx, fixture.AgentID, &oapiclient.ListAgentSessionsParams{})
	if err != nil {
		t.Fatal(err)
	}
	if res.JSON200 == nil {
		t.Fatalf("%d: %s", res.StatusCode(), res.Body)
	}
	var agentTimes, wantTimes []time.Time
	for _, s := range res.JSON200.Data {
		agentTimes = append(agentTimes, s.StartedAt)
	}
	for _, s := range want {
		wantTimes = append(wantTimes, s.StartedAt)
	}
	if diff := cmp.Diff(wantTimes, agentTimes); diff != "" {
		t.Errorf("agent list started_at (-want +got):\n%s", diff)
	}

	one, err := c.GetSessionWithResponse(ctx, want[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if one.JSON200 == nil || !one.JSON200.Session.EndedAt.Equal(want[1].EndedAt) {
		t.Errorf("one session: %d %s", one.StatusCode(), one.Body)
	}
}

// TestGeneratedClientErrors checks that the client decodes the error envelope.
func TestGeneratedClientErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := client(t, 1, "wrong")
	res, err := c.ListSessionsWithResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.JSON401 == nil || res.JSON401.Error.Code != "unauthenticated" || res.JSON401.Error.RequestId == "" {
		t.Errorf("%d: %s", res.StatusCode(), res.Body)
	}
}
