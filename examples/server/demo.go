package main

import (
	"context"
	"errors"
	"log/slog"
	"math/rand"
	"time"

	"github.com/masker-dev/sessions"
)

// demoAccount owns the demo data; the development cookie authenticates as this account.
const demoAccount = "acct_demo"

// demoAgents are the agents of the demo account, the busiest first. Their IDs are fixed, so
// that the printed curl commands keep working across restarts.
var demoAgents = []sessions.Agent{
	{ID: "agt_01M8H4GMCNT3YW9X8V8750S41W", AccountID: demoAccount, Name: "appointment-bot-prod"},
	{ID: "agt_01M8H4GMCNT3YW9X8V8882GKQ2", AccountID: demoAccount, Name: "pharmacy-refills"},
	{ID: "agt_01M8H4GMCNT3YW9X8V8AZHNMP1", AccountID: demoAccount, Name: "nurse-triage-line"},
	{ID: "agt_01M8H4GMCNT3YW9X8V8D8PTD39", AccountID: demoAccount, Name: "billing-assistant-staging"},
}

var (
	demoKinds  = []string{"NAME", "PHONE", "DOB", "ADDRESS", "EMAIL", "SSN", "MRN"}
	demoModels = []string{"gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "llama-3.1-70b"}
)

// seedDemo creates the demo account with n sessions spread over the 30 days before now, unless
// the database already holds it. It logs its progress.
func seedDemo(ctx context.Context, st sessions.Store, n int, now time.Time, logger *slog.Logger) error {
	_, err := st.GetAgent(ctx, demoAccount, demoAgents[0].ID)
	if err == nil {
		logger.Info("demo data already present", "account", demoAccount)
		return nil
	}
	if !errors.Is(err, sessions.ErrAgentNotFound) {
		return err
	}
	for _, a := range demoAgents {
		if err := st.PutAgent(ctx, a); err != nil {
			return err
		}
	}
	logger.Info("creating demo data", "account", demoAccount, "agents", len(demoAgents), "sessions", n)
	rng := rand.New(rand.NewSource(now.UnixNano()))
	const batch = 1000
	ss := make([]sessions.Session, 0, batch)
	for i := 1; i <= n; i++ {
		ss = append(ss, demoSession(rng, now))
		if len(ss) == batch || i == n {
			if err := st.PutSessions(ctx, ss...); err != nil {
				return err
			}
			ss = ss[:0]
			logger.Info("creating demo data", "written", i, "of", n)
		}
	}
	return nil
}

// demoSession makes a realistic session that ended in the 30 days before now.
func demoSession(rng *rand.Rand, now time.Time) sessions.Session {
	// Every demo call has ended by now: its end, not its start, is drawn from the last 30 days.
	return demoCall(rng, now.Add(-time.Duration(rng.Int63n(int64(30*24*time.Hour)))))
}

// demoCall makes a realistic session that ended at ended: the busiest agent takes half the calls,
// most calls succeed, most redact a few items, and calls last from seconds to minutes.
func demoCall(rng *rand.Rand, ended time.Time) sessions.Session {
	agent := demoAgents[0]
	if rng.Intn(2) == 0 {
		agent = demoAgents[1+rng.Intn(len(demoAgents)-1)]
	}
	duration := time.Duration(3_000+rng.Intn(600_000)) * time.Millisecond
	started := ended.Add(-duration)
	status := sessions.StatusOK
	switch p := rng.Intn(100); {
	case p >= 97:
		status = sessions.StatusPartial
	case p >= 90:
		status = sessions.StatusError
	}
	kinds := map[string]int{}
	for _, k := range demoKinds {
		if rng.Intn(3) == 0 {
			kinds[k] = 1 + rng.Intn(3)
		}
	}
	return sessions.Session{
		ID:               sessions.NewSessionID(started),
		AccountID:        demoAccount,
		AgentID:          agent.ID,
		StartedAt:        started,
		EndedAt:          started.Add(duration),
		Status:           status,
		RedactionsByKind: kinds,
		UpstreamModel:    demoModels[rng.Intn(len(demoModels))],
	}
}

// recordEvery records a demo call that has just ended at every interval until ctx ends, so that
// the live tail (GET /api/v1/sessions/stream) moves while someone watches it. A failed write is
// logged, and the next one tried at the next interval.
func recordEvery(ctx context.Context, st sessions.Store, interval time.Duration, logger *slog.Logger) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s := demoCall(rng, now)
			if err := st.PutSessions(ctx, s); err != nil && ctx.Err() == nil {
				logger.Error("recording a demo call", "session", s.ID, "err", err)
			}
		}
	}
}
