package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/sqlite"
)

// Open creates the database file and its schema; sessions written are listed newest first.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sessions-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "sessions.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct-1", Name: "Front desk"}
	if err := store.PutAgent(ctx, agent); err != nil {
		log.Fatal(err)
	}
	start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	var batch []sessions.Session
	for i := range 3 {
		t := start.Add(time.Duration(i) * time.Minute)
		batch = append(batch, sessions.Session{
			ID: sessions.NewSessionID(t), AccountID: "acct-1", AgentID: agent.ID,
			StartedAt: t, EndedAt: t.Add(794 * time.Millisecond), Status: sessions.StatusOK,
			RedactionsByKind: map[string]int{"PHONE": i},
		})
	}
	if err := store.PutSessions(ctx, batch...); err != nil {
		log.Fatal(err)
	}

	page, err := store.ListSessions(ctx, sessions.Filter{AccountID: "acct-1", AgentID: agent.ID, Limit: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range page.Sessions {
		fmt.Println(s.StartedAt.Format(time.RFC3339), s.AgentName, s.Duration(), s.RedactionCount())
	}
	fmt.Println("more:", page.Next != nil)

	// Retention: delete what started before the second session.
	deleted, err := store.PurgeSessions(ctx, start.Add(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("purged:", deleted)
	// Output:
	// 2026-05-03T21:16:32Z Front desk 794ms 2
	// 2026-05-03T21:15:32Z Front desk 794ms 1
	// more: true
	// purged: 1
}
