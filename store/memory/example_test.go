package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/memory"
)

// A unit test of code that records sessions can run against the in-memory store: no files, no
// server, and the same behaviour as the SQLite and PostgreSQL stores.
func Example() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close()

	agent := sessions.Agent{ID: "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", AccountID: "acct_1", Name: "appointment-bot-prod"}
	if err := store.PutAgent(ctx, agent); err != nil {
		panic(err)
	}
	start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	for i, status := range []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusOK} {
		started := start.Add(time.Duration(i) * time.Minute)
		err := store.PutSessions(ctx, sessions.Session{
			ID:               sessions.NewSessionID(started),
			AccountID:        "acct_1",
			AgentID:          agent.ID,
			StartedAt:        started,
			EndedAt:          started.Add(794 * time.Millisecond),
			Status:           status,
			RedactionsByKind: map[string]int{"PHONE": 1, "NAME": i},
		})
		if err != nil {
			panic(err)
		}
	}

	// Newest first, two to a page.
	f := sessions.Filter{AccountID: "acct_1", AgentID: agent.ID, Limit: 2}
	for {
		page, err := store.ListSessions(ctx, f)
		if err != nil {
			panic(err)
		}
		for _, s := range page.Sessions {
			fmt.Println(s.StartedAt.Format(time.Kitchen), s.AgentName, s.Status, s.RedactionCount(), s.Duration())
		}
		if page.Next == nil {
			break
		}
		f.After = page.Next
	}
	// Output:
	// 9:16PM appointment-bot-prod ok 3 794ms
	// 9:15PM appointment-bot-prod error 2 794ms
	// 9:14PM appointment-bot-prod ok 1 794ms
}

// Filters combine: here the sessions that failed with at least two redactions.
func ExampleStore_ListSessions() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close()
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_1"}
	_ = store.PutAgent(ctx, agent)
	start := time.Date(2026, 5, 3, 21, 0, 0, 0, time.UTC)
	for i := range 10 {
		started := start.Add(time.Duration(i) * time.Minute)
		status := sessions.StatusOK
		if i%3 == 0 {
			status = sessions.StatusError
		}
		_ = store.PutSessions(ctx, sessions.Session{
			ID: sessions.NewSessionID(started), AccountID: "acct_1", AgentID: agent.ID,
			StartedAt: started, EndedAt: started.Add(time.Minute), Status: status,
			RedactionsByKind: map[string]int{"DOB": i % 4},
		})
	}
	page, _ := store.ListSessions(ctx, sessions.Filter{
		AccountID: "acct_1", Status: sessions.StatusError, MinRedactions: 2,
		Since: start.Add(time.Minute),
	})
	for _, s := range page.Sessions {
		fmt.Println(s.StartedAt.Format(time.Kitchen), s.RedactionsByKind)
	}
	// Output:
	// 9:06PM map[DOB:2]
	// 9:03PM map[DOB:3]
}

// The executive summary of a window: totals by status and by kind, without reading pages.
func ExampleStore_SummarizeSessions() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close()
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_1"}
	_ = store.PutAgent(ctx, agent)
	start := time.Date(2026, 5, 3, 21, 0, 0, 0, time.UTC)
	for i := range 10 {
		started := start.Add(time.Duration(i) * time.Minute)
		status := sessions.StatusOK
		if i%3 == 0 {
			status = sessions.StatusError
		}
		_ = store.PutSessions(ctx, sessions.Session{
			ID: sessions.NewSessionID(started), AccountID: "acct_1", AgentID: agent.ID,
			StartedAt: started, EndedAt: started.Add(30 * time.Second), Status: status,
			RedactionsByKind: map[string]int{"DOB": i % 4, "NAME": 1},
		})
	}
	sum, err := store.SummarizeSessions(ctx, sessions.Filter{AccountID: "acct_1", Since: start.Add(5 * time.Minute)})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum.Sessions, sum.ByStatus, sum.RedactionCount, sum.RedactionsByKind, sum.Duration)
	// Output:
	// 5 map[error:2 ok:3 partial:0] 12 map[DOB:7 NAME:5] 2m30s
}
