package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// upsertSQL writes the sessions of its one parameter: a JSON array with one array per session,
// made by appendSession. The upsert rules are enforced in SQL:
//   - a session ID of the same account and agent is replaced;
//   - a session ID of another account or agent makes the whole statement fail: DO UPDATE sets
//     its started_at to NULL, which the NOT NULL constraint refuses (SQLite has RAISE only in
//     triggers), and PutSessions reports sessions.ErrConflict (see isOwnerConflict);
//   - a session whose agent is not in its account breaks the foreign key
//     (account_id, agent_id) -> agents (account_id, id): sessions.ErrAgentNotFound.
//
// So a statement never succeeds in part, and a batch that fits in one statement needs no
// transaction around it. That matters: in a transaction, a statement that can fail halfway (an
// upsert, a foreign key) keeps a statement journal, a copy of every page before it changes it,
// which cost a fifth of an ingest of 1,000 sessions over 1,000 agents (one index page each).
//
// A whole batch goes in one parameter, so that the text of the statement is the same for every
// batch: PutSessions prepares it once per connection (see stmtCache) and runs it again, without
// compiling it and the triggers of the sessions table each time. (A statement per session spent
// half of an ingest in the parser, before the driver kept prepared statements; a statement with a
// VALUES row per session spent it allocating and freeing its long program.) ("WHERE true" is the
// documented way to tell the parser that ON CONFLICT belongs to the INSERT and not to a join of
// the SELECT.) jsonb_each converts the parameter to SQLite's binary JSON once, so that the nine
// extractions of each session read its array without parsing text again (-> still returns the
// kinds as JSON text, which the STRICT column requires): 8-12% more sessions a second than
// json_each in batches of 1,000 over 20 agents, less where index writes dominate (BENCHMARKS.md,
// "SQLite ingest").
//
// Each session written, inserted or replaced, takes a new feed position (migration 0002): the
// counter feed.position plus its place in the batch (json_each's key). The triggers of the
// migration move the counter past every position the statement sets, so the next statement
// starts after them; should SQLite read the counter again for each row, positions would still
// grow, only faster.
const upsertSQL = `INSERT INTO sessions
	(id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, redaction_count, upstream_model,
	 feed_position)
	SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->6, value->>7, value->>8,
		(SELECT position FROM feed WHERE id = 1) + key + 1
	FROM jsonb_each(?) WHERE true
	ON CONFLICT (id) DO UPDATE SET
		started_at = CASE WHEN sessions.account_id = excluded.account_id AND sessions.agent_id = excluded.agent_id
			THEN excluded.started_at END,
		ended_at = excluded.ended_at,
		status = excluded.status,
		redactions_by_kind = excluded.redactions_by_kind,
		redaction_count = excluded.redaction_count,
		upstream_model = excluded.upstream_model,
		feed_position = excluded.feed_position`

// defaultPutChunk is the most sessions of one upsert statement: about 1.7 MB of JSON. A call
// with more is written in a transaction of several statements, which is slower (see upsertSQL)
// but bounds the size of the parameter.
const defaultPutChunk = 10_000

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
	b = append(appendJSONString(append(b, ','), string(x.Status)), ',')
	b = append(kindsjson.Append(b, x.RedactionsByKind), ',')
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

// PutSessions writes every session, or none of them: up to 10,000 sessions in one statement,
// which SQLite runs as its own transaction, and more in one immediate transaction of statements
// of 10,000. A session ID is an upsert key within its account and agent: writing it again
// replaces the session. AgentName is ignored. It returns a *sessions.ValidationError naming the
// first invalid session, sessions.ErrAgentNotFound when a session's agent was not put in the
// session's account, sessions.ErrConflict when a session ID belongs to another account or agent,
// and the context and database errors of the package. When it returns nil, the sessions are on
// disk (see the package documentation on durability).
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
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	upsert, err := s.preparedWrite(ctx, upsertSQL)
	if err != nil {
		return mapError(ctx, err)
	}
	if len(ss) <= s.putChunk {
		_, err := upsert.ExecContext(ctx, batchJSON(nil, ss))
		if err == nil {
			s.wakeTails()
		}
		return putError(ctx, s.write, ss, err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapError(ctx, err)
	}
	defer tx.Rollback() // after Commit, a no-op
	upsert = tx.StmtContext(ctx, upsert)
	var batch []byte
	for len(ss) > 0 {
		chunk := ss[:min(s.putChunk, len(ss))]
		ss = ss[len(chunk):]
		batch = batchJSON(batch[:0], chunk)
		if _, err := upsert.ExecContext(ctx, string(batch)); err != nil {
			return putError(ctx, tx, chunk, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return mapError(ctx, err)
	}
	s.wakeTails()
	return nil
}

// wakeTails tells the tails of this store that a write committed: it counts the write for their
// shared reads, then wakes them.
func (s *Store) wakeTails() {
	s.reads.Changed()
	s.feed.Wake()
}

// batchJSON appends the parameter of upsertSQL for ss to b.
func batchJSON(b []byte, ss []sessions.Session) []byte {
	b = append(b, '[')
	for i, x := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSession(b, x)
	}
	return append(b, ']')
}

// putError returns the error of PutSessions for err, the error of upsertSQL on chunk: an
// sessions.ErrConflict that names the session when err is the statement's conflict, and mapped
// errors otherwise. It returns nil for nil.
func putError(ctx context.Context, q querier, chunk []sessions.Session, err error) error {
	if err == nil {
		return nil
	}
	if isOwnerConflict(err) {
		return conflict(ctx, q, chunk)
	}
	return mapError(ctx, err)
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conflict returns the sessions.ErrConflict of a chunk whose upsert failed on a session ID of
// another account or agent, naming the first such session. (sessions.PrepareBatch has refused
// an ID given twice for different agents, so the clash is with a stored session.)
func conflict(ctx context.Context, q querier, chunk []sessions.Session) error {
	for _, x := range chunk {
		var owned bool
		err := q.QueryRowContext(ctx, "SELECT account_id <> ? OR agent_id <> ? FROM sessions WHERE id = ?",
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
