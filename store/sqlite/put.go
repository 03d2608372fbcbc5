package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/masker-dev/sessions"
)

// upsertSQL writes one session. The upsert rules are enforced in SQL:
//   - a session ID of the same account and agent is replaced;
//   - a session ID of another account or agent is left alone by the WHERE of DO UPDATE, so the
//     statement changes no row, which PutSessions reports as sessions.ErrConflict;
//   - a session whose agent is not in its account breaks the foreign key
//     (account_id, agent_id) -> agents (account_id, id): sessions.ErrAgentNotFound.
const upsertSQL = `INSERT INTO sessions
	(id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, redaction_count, upstream_model)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET
		started_at = excluded.started_at,
		ended_at = excluded.ended_at,
		status = excluded.status,
		redactions_by_kind = excluded.redactions_by_kind,
		redaction_count = excluded.redaction_count,
		upstream_model = excluded.upstream_model
	WHERE sessions.account_id = excluded.account_id AND sessions.agent_id = excluded.agent_id`

// PutSessions writes every session, or none of them, in one immediate transaction with one
// prepared statement. A session ID is an upsert key within its account and agent: writing it
// again replaces the session. AgentName is ignored. It returns a *sessions.ValidationError
// naming the first invalid session, sessions.ErrAgentNotFound when a session's agent was not put
// in the session's account, sessions.ErrConflict when a session ID belongs to another account or
// agent, and the context and database errors of the package. When it returns nil, the sessions
// are on disk (see the package documentation on durability).
func (s *Store) PutSessions(ctx context.Context, in ...sessions.Session) error {
	ss, err := sessions.PrepareBatch(in)
	if err != nil {
		return err
	}
	if err := sessions.ContextError(ctx); err != nil {
		return err
	}
	if len(ss) == 0 {
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapError(ctx, err)
	}
	defer tx.Rollback() // after Commit, a no-op
	stmt, err := tx.PrepareContext(ctx, upsertSQL)
	if err != nil {
		return mapError(ctx, err)
	}
	defer stmt.Close()
	for _, x := range ss {
		kinds, err := json.Marshal(x.RedactionsByKind) // keys sorted: the same text for the same map
		if err != nil {
			return fmt.Errorf("sqlite: session %s: %w", x.ID, err)
		}
		res, err := stmt.ExecContext(ctx, x.ID, x.AccountID, x.AgentID,
			x.StartedAt.UnixMilli(), x.EndedAt.UnixMilli(), string(x.Status),
			string(kinds), x.RedactionCount(), x.UpstreamModel)
		if err != nil {
			return fmt.Errorf("session %s: %w", x.ID, mapError(ctx, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return mapError(ctx, err)
		}
		if n == 0 {
			return fmt.Errorf("%w: session %s", sessions.ErrConflict, x.ID)
		}
	}
	return mapError(ctx, tx.Commit())
}
