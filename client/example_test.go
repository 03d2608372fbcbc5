package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/store/memory"
)

// exampleStore is a memory store that says when a live-tail stream has taken its starting
// position, so that ExampleClient_Tail writes its session after the stream opened.
type exampleStore struct {
	*memory.Store
	opened chan struct{}
}

func (s *exampleStore) TailPosition(ctx context.Context) (string, error) {
	p, err := s.Store.TailPosition(ctx)
	select {
	case s.opened <- struct{}{}:
	default:
	}
	return p, err
}

// exampleAgent is the agent of the example server.
var exampleAgent = sessions.Agent{ID: "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", AccountID: "acct_1", Name: "Front desk"}

// exampleSession returns a session of exampleAgent, with the ID made of id, started at minute of
// 2026-05-03 21:00 UTC.
func exampleSession(id string, minute int, status sessions.Status, kinds map[string]int) sessions.Session {
	start := time.Date(2026, 5, 3, 21, minute, 0, 0, time.UTC)
	return sessions.Session{
		ID: "sess_01HYZ3N5TV0QW3Y0B7VQ6J3R" + id, AccountID: "acct_1", AgentID: exampleAgent.ID,
		StartedAt: start, EndedAt: start.Add(4*time.Minute + 12*time.Second), Status: status,
		RedactionsByKind: kinds, UpstreamModel: "gpt-4o-mini",
	}
}

// exampleServer starts the API of package httpapi over a memory store with an agent and three
// sessions, behind httptest: the stand-in for the real server. Its bearer token is
// "sessions-read". The caller closes the server.
func exampleServer() (*exampleStore, *httptest.Server) {
	store := &exampleStore{Store: memory.New(), opened: make(chan struct{}, 1)}
	ctx := context.Background()
	if err := store.PutAgent(ctx, exampleAgent); err != nil {
		panic(err)
	}
	err := store.PutSessions(ctx,
		exampleSession("FA", 14, sessions.StatusOK, map[string]int{"PHONE": 1, "NAME": 2}),
		exampleSession("FB", 30, sessions.StatusError, map[string]int{"DOB": 1}),
		exampleSession("FC", 45, sessions.StatusOK, nil),
	)
	if err != nil {
		panic(err)
	}
	api, err := httpapi.New(httpapi.Config{
		Store: store,
		Authenticate: httpapi.BearerAuth(func(ctx context.Context, token string) (string, error) {
			if token != "sessions-read" {
				return "", httpapi.ErrUnauthenticated
			}
			return "acct_1", nil
		}),
		Now:              func() time.Time { return time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC) },
		CursorKey:        []byte(strings.Repeat("k", 32)),
		DisableAccessLog: true,
	})
	if err != nil {
		panic(err)
	}
	return store, httptest.NewServer(api)
}

// ExampleClient_Sessions lists the sessions of the past week, newest first, following the
// cursors of as many pages as there are.
func ExampleClient_Sessions() {
	_, server := exampleServer()
	defer server.Close()
	c, err := client.New(server.URL, client.WithBearerToken("sessions-read"))
	if err != nil {
		panic(err)
	}
	for s, err := range c.Sessions(context.Background(), client.Query{Since: "7d"}) {
		if err != nil {
			panic(err) // a *client.Error, or a network error matching sessions.ErrUnavailable
		}
		fmt.Println(s.StartedAt.Format(time.DateTime), s.AgentName, s.Status, s.RedactionCount())
	}
	// Output:
	// 2026-05-03 21:45:00 Front desk ok 0
	// 2026-05-03 21:30:00 Front desk error 1
	// 2026-05-03 21:14:00 Front desk ok 3
}

// ExampleClient_Session reads one session, and tells an unknown one by its error.
func ExampleClient_Session() {
	_, server := exampleServer()
	defer server.Close()
	c, err := client.New(server.URL, client.WithBearerToken("sessions-read"))
	if err != nil {
		panic(err)
	}
	s, err := c.Session(context.Background(), "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.ID, s.AgentName, s.Duration(), s.RedactionsByKind, s.UpstreamModel)

	_, err = c.Session(context.Background(), "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RZZ")
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(errors.Is(err, sessions.ErrSessionNotFound), e.StatusCode, e.Code)
	}
	// Output:
	// sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB Front desk 4m12s map[DOB:1] gpt-4o-mini
	// true 404 session_not_found
}

// ExampleClient_Summary totals the sessions of one agent over the past week, on the agent's
// summary route.
func ExampleClient_Summary() {
	_, server := exampleServer()
	defer server.Close()
	c, err := client.New(server.URL, client.WithBearerToken("sessions-read"))
	if err != nil {
		panic(err)
	}
	m, err := c.Summary(context.Background(), client.Query{AgentID: exampleAgent.ID, Since: "7d"})
	if err != nil {
		panic(err)
	}
	fmt.Println("since", m.Since.Format(time.RFC3339))
	fmt.Println(m.Sessions, "sessions:", m.ByStatus)
	fmt.Println(m.RedactionCount, "redactions:", m.RedactionsByKind)
	fmt.Println("duration", m.Duration)
	// Output:
	// since 2026-04-27T12:00:00Z
	// 3 sessions: map[error:1 ok:2 partial:0]
	// 4 redactions: map[DOB:1 NAME:2 PHONE:1]
	// duration 12m36s
}

// ExampleClient_Export writes the sessions of the past week as CSV, as the server streams it.
func ExampleClient_Export() {
	_, server := exampleServer()
	defer server.Close()
	c, err := client.New(server.URL, client.WithBearerToken("sessions-read"))
	if err != nil {
		panic(err)
	}
	// An export is complete only when err is nil: write it to a temporary file (os.CreateTemp),
	// and rename the file then.
	var file strings.Builder
	if _, err := c.Export(context.Background(), client.Query{Since: "7d", MinRedactions: 1}, client.CSV, &file); err != nil {
		panic(err)
	}
	fmt.Print(strings.ReplaceAll(file.String(), "\r\n", "\n")) // CSV lines end in CRLF (RFC 4180)
	// Output:
	// id,agent_id,agent_name,started_at,ended_at,duration_ms,status,redaction_count,redactions_by_kind,upstream_model
	// sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB,agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA,Front desk,2026-05-03T21:30:00Z,2026-05-03T21:34:12Z,252000,error,1,"{""DOB"":1}",gpt-4o-mini
	// sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA,agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA,Front desk,2026-05-03T21:14:00Z,2026-05-03T21:18:12Z,252000,ok,3,"{""NAME"":2,""PHONE"":1}",gpt-4o-mini
}

// ExampleClient_Tail follows the sessions as they are recorded. The tail reconnects by itself
// after a dropped connection or a server restart, with nothing lost or repeated; a later tail
// resumes after the last Event.ID it was given.
func ExampleClient_Tail() {
	store, server := exampleServer()
	defer server.Close()
	c, err := client.New(server.URL, client.WithBearerToken("sessions-read"))
	if err != nil {
		panic(err)
	}
	go func() {
		<-store.opened // the stream is open: record a call
		s := exampleSession("FD", 59, sessions.StatusPartial, map[string]int{"NAME": 1})
		if err := store.PutSessions(context.Background(), s); err != nil {
			panic(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for ev, err := range c.Tail(ctx, client.Query{MinRedactions: 1}, "") {
		if err != nil {
			panic(err)
		}
		fmt.Println(ev.Session.ID, ev.Session.Status, ev.Session.RedactionsByKind, ev.ID != "")
		break // a real tail runs until ctx ends
	}
	// Output:
	// sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFD partial map[NAME:1] true
}
