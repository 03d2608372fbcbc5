// Package plandata writes the data set that the SQL stores' EXPLAIN tests plan their queries
// on: enough rows, skewed enough, for a planner to choose fairly.
package plandata

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// Dataset is what Write wrote: one account with a busy agent (half of the account's
// sessions), a quiet one, and 18 others; and other accounts of 20 agents each.
type Dataset struct {
	Account     string
	Busy, Quiet sessions.Agent
	Now         time.Time
}

// Write puts the agents of accounts accounts (20 each) and n sessions over the 30 days before
// Now, in PutSessions calls of batch sessions: two thirds in the dataset's account, the rest in
// the others. Statuses are 85% ok, 10% partial, 5% error; redaction counts run from 0 to 8.
func Write(tb testing.TB, s sessions.Store, n, accounts, batch int) Dataset {
	tb.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	d := Dataset{Account: "acct-main", Now: time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)}
	var agents []sessions.Agent
	for k := range accounts {
		account := d.Account
		if k > 0 {
			account = fmt.Sprintf("acct-%d", k)
		}
		for i := range 20 {
			a := sessions.Agent{ID: sessions.NewAgentID(), AccountID: account, Name: fmt.Sprintf("agent %d", i)}
			if err := s.PutAgent(ctx, a); err != nil {
				tb.Fatal(err)
			}
			agents = append(agents, a)
		}
	}
	d.Busy, d.Quiet = agents[0], agents[1]
	buf := make([]sessions.Session, 0, batch)
	for i := range n {
		var a sessions.Agent
		switch r := rnd.IntN(6); {
		case r < 2:
			a = d.Busy
		case r < 4:
			a = agents[1+rnd.IntN(19)]
		default:
			a = agents[20+rnd.IntN(len(agents)-20)]
		}
		start := d.Now.Add(-time.Duration(rnd.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Millisecond)
		status := sessions.StatusOK
		switch r := rnd.IntN(100); {
		case r < 5:
			status = sessions.StatusError
		case r < 15:
			status = sessions.StatusPartial
		}
		buf = append(buf, sessions.Session{
			ID: sessions.NewSessionID(start), AccountID: a.AccountID, AgentID: a.ID,
			StartedAt: start, EndedAt: start.Add(time.Duration(rnd.IntN(600_000)) * time.Millisecond),
			Status: status, RedactionsByKind: map[string]int{"PHONE": rnd.IntN(5), "NAME": rnd.IntN(5)},
			UpstreamModel: "gpt-4o-mini",
		})
		if len(buf) == cap(buf) || i == n-1 {
			if err := s.PutSessions(ctx, buf...); err != nil {
				tb.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	return d
}
