package storetest_test

import (
	"context"

	"github.com/masker-dev/sessions"
)

func (s *bruteStore) SummarizeSessions(ctx context.Context, f sessions.Filter) (sessions.Summary, error) {
	f, err := sessions.SummaryFilter(f)
	if err != nil {
		return sessions.Summary{}, err
	}
	if err := s.ctxErr(ctx); err != nil {
		return sessions.Summary{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := sessions.NewSummary()
	for _, x := range s.sessions {
		match := f.Match(x)
		switch s.bug {
		case "summary Until inclusive":
			match = match || (f.Match(sessions.Session{AccountID: x.AccountID, AgentID: x.AgentID, Status: x.Status, RedactionsByKind: x.RedactionsByKind, StartedAt: f.Since}) && x.StartedAt.Equal(f.Until))
		case "summary capped redactions":
			y := x
			if y.RedactionCount() > 16 {
				y.RedactionsByKind = map[string]int{"CAP": 16}
			}
			match = f.Match(y)
		}
		if match {
			m.Add(x)
		}
	}
	return m, nil
}
