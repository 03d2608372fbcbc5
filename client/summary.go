package client

import (
	"context"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/rollup"
)

// Summary is the summary of a window: the totals of package sessions, with the window that the
// server resolved.
type Summary struct {
	sessions.Summary
	Since time.Time // the resolved lower bound (a relative since, resolved by the server)
	Until time.Time // the resolved upper bound; zero when there is none
}

// Summary returns the totals of the sessions that q selects: how many, by status, how many
// redactions, by kind, and their total duration. It returns an error matching
// sessions.ErrAgentNotFound for an unknown agent. With q.AgentID set it reads the agent's route,
// /api/v1/agents/{agent_id}/sessions/summary, and /api/v1/sessions/summary otherwise; they
// answer alike.
func (c *Client) Summary(ctx context.Context, q Query) (Summary, error) {
	var body struct {
		Summary *struct {
			Since            time.Time                 `json:"since"`
			Until            *time.Time                `json:"until"`
			Sessions         int64                     `json:"sessions"`
			ByStatus         map[sessions.Status]int64 `json:"by_status"`
			RedactionCount   int64                     `json:"redaction_count"`
			RedactionsByKind map[string]int64          `json:"redactions_by_kind"`
			DurationMS       int64                     `json:"duration_ms"`
		} `json:"summary"`
	}
	path, v, err := q.route("/summary", true)
	if err != nil {
		return Summary{}, err
	}
	if err := c.getJSON(ctx, path, v, &body); err != nil {
		return Summary{}, err
	}
	m := body.Summary
	if m == nil {
		return Summary{}, &connError{errMalformed}
	}
	out := Summary{Summary: sessions.NewSummary(), Since: m.Since.UTC()}
	if m.Until != nil {
		out.Until = m.Until.UTC()
	}
	out.Sessions, out.RedactionCount = m.Sessions, m.RedactionCount
	out.Duration = rollup.Duration(m.DurationMS) // stops at the longest time.Duration, as the server's
	for st, n := range m.ByStatus {
		out.ByStatus[st] = n
	}
	for kind, n := range m.RedactionsByKind {
		if n != 0 {
			out.RedactionsByKind[kind] = n
		}
	}
	return out, nil
}
