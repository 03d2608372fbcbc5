package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/masker-dev/sessions"
)

// upsertSQL writes the sessions of its one parameter: a JSON array with one array per session,
// made by appendSession. The upsert rules are enforced in SQL:
//   - a session ID of the same account and agent is replaced;
//   - a session ID of another account or agent is left alone by the WHERE of DO UPDATE, so that
//     row counts as no change, which PutSessions reports as sessions.ErrConflict;
//   - a session whose agent is not in its account breaks the foreign key
//     (account_id, agent_id) -> agents (account_id, id): sessions.ErrAgentNotFound.
//
// A whole chunk of sessions goes in one parameter because the driver prepares a statement again
// each time it runs it: one short statement per chunk is parsed once, where a statement per
// session spent half of an ingest in the parser, and a statement with a VALUES row per session
// spent it allocating and freeing its long program. ("WHERE true" is the documented way to
// tell the parser that ON CONFLICT belongs to the INSERT and not to a join of the SELECT.)
const upsertSQL = `INSERT INTO sessions
	(id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, redaction_count, upstream_model)
	SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->6, value->>7, value->>8
	FROM json_each(?) WHERE true
	ON CONFLICT (id) DO UPDATE SET
		started_at = excluded.started_at,
		ended_at = excluded.ended_at,
		status = excluded.status,
		redactions_by_kind = excluded.redactions_by_kind,
		redaction_count = excluded.redaction_count,
		upstream_model = excluded.upstream_model
	WHERE sessions.account_id = excluded.account_id AND sessions.agent_id = excluded.agent_id`

// upsertChunk is the most sessions of one statement, which bounds the size of its parameter.
const upsertChunk = 1000

// appendSession appends x, which sessions.PrepareBatch validated, as the JSON array that
// upsertSQL reads. It writes the JSON by hand: encoding/json with reflection was a tenth of the
// time of a batch.
func appendSession(b []byte, x sessions.Session) []byte {
	b = append(b, '[')
	for _, s := range []string{x.ID, x.AccountID, x.AgentID} {
		b = append(appendJSONString(b, s), ',')
	}
	b = strconv.AppendInt(b, x.StartedAt.UnixMilli(), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, x.EndedAt.UnixMilli(), 10)
	b = append(appendJSONString(append(b, ','), string(x.Status)), ',', '{')
	first := true
	for kind, n := range x.RedactionsByKind {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(appendJSONString(b, kind), ':')
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, '}', ',')
	b = strconv.AppendInt(b, int64(x.RedactionCount()), 10)
	return append(appendJSONString(append(b, ','), x.UpstreamModel), ']')
}

// appendJSONString appends s, valid UTF-8, as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// PutSessions writes every session, or none of them, in one immediate transaction, with a
// prepared statement that takes up to 1,000 sessions at a time. A session ID is an upsert key
// within its account and agent: writing it again replaces the session. AgentName is ignored. It returns a *sessions.ValidationError
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
	var batch []byte
	for len(ss) > 0 {
		chunk := ss[:min(upsertChunk, len(ss))]
		ss = ss[len(chunk):]
		batch = append(batch[:0], '[')
		for i, x := range chunk {
			if i > 0 {
				batch = append(batch, ',')
			}
			batch = appendSession(batch, x)
		}
		batch = append(batch, ']')
		res, err := stmt.ExecContext(ctx, string(batch))
		if err != nil {
			return mapError(ctx, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return mapError(ctx, err)
		}
		if n != int64(len(chunk)) {
			return conflict(ctx, tx, chunk)
		}
	}
	return mapError(ctx, tx.Commit())
}

// conflict returns the sessions.ErrConflict of a chunk that changed fewer rows than it has
// sessions, naming the first session whose ID belongs to another account or agent.
func conflict(ctx context.Context, tx *sql.Tx, chunk []sessions.Session) error {
	for _, x := range chunk {
		var owned bool
		err := tx.QueryRowContext(ctx, "SELECT account_id <> ? OR agent_id <> ? FROM sessions WHERE id = ?",
			x.AccountID, x.AgentID, x.ID).Scan(&owned)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapError(ctx, err)
		}
		if owned {
			return fmt.Errorf("%w: session %s", sessions.ErrConflict, x.ID)
		}
	}
	return sessions.ErrConflict
}
