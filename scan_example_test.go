package sessions_test

import (
	"context"
	"fmt"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/memory"
)

// An export reads every session of a window through the store's Scanner when it has one, and
// walks pages with All otherwise.
func ExampleScanner() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close()
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_1", Name: "Front desk"}
	if err := store.PutAgent(ctx, agent); err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2026, 5, 3, 21, 0, 0, 0, time.UTC)
	for i := range 3 {
		at := start.Add(time.Duration(i) * time.Minute)
		s := sessions.Session{ID: sessions.NewSessionID(at), AccountID: "acct_1", AgentID: agent.ID,
			StartedAt: at, EndedAt: at.Add(30 * time.Second), Status: sessions.StatusOK,
			RedactionsByKind: map[string]int{"PHONE": i}}
		if err := store.PutSessions(ctx, s); err != nil {
			fmt.Println(err)
			return
		}
	}

	f := sessions.Filter{AccountID: "acct_1", Since: start}
	show := func(s sessions.Session) error {
		fmt.Println(s.StartedAt.Format(time.TimeOnly), s.AgentName, s.RedactionCount())
		return nil
	}
	var err error
	if sc, ok := sessions.Store(store).(sessions.Scanner); ok {
		err = sc.ScanSessions(ctx, f, show)
	} else {
		for s, walkErr := range sessions.All(ctx, store, f) {
			if err = walkErr; err != nil {
				break
			}
			show(s)
		}
	}
	fmt.Println(err)
	// Output:
	// 21:02:00 Front desk 2
	// 21:01:00 Front desk 1
	// 21:00:00 Front desk 0
	// <nil>
}
