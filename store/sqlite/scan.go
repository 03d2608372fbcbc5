package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/agentnames"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

var _ sessions.Scanner = (*Store)(nil)

// scanSelect is the head of a scan's batch query: the columns of listSelect without the version
// of the agents' names. When the list read each row's name with a correlated subquery (two
// B-tree seeks per row: the agents' TEXT primary key, then the row), that subquery was 30 to 45%
// of a batch's time on the 100,000 sessions of the benchmark data set, and looking the names up
// once per batch, for its distinct agents (about 400 of 1,000 agents in a batch of 1,000), still
// 25 to 35%. A scan looks each agent up once instead, when it first meets it (agentNames).
const scanSelect = `SELECT id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model
FROM sessions`

// scanQuery returns the query of one batch of a scan of f, which must be valid and normalized,
// and its arguments: up to f.Limit+1 sessions from f's position, in list order. It is listQuery
// with scanSelect for its head, from the same fixed fragments: the same index, named with
// INDEXED BY, the same seek and the same filters from the index entries.
func scanQuery(f sessions.Filter) (string, []any) {
	var q strings.Builder
	q.WriteString(scanSelect)
	args := appendKeyset(&q, f)
	if f.Status != "" {
		q.WriteString(listStatus)
		args = append(args, string(f.Status))
	}
	if f.MinRedactions > 0 {
		q.WriteString(listMinRed)
		args = append(args, f.MinRedactions)
	}
	q.WriteString(listOrder)
	args = append(args, f.Limit+1)
	return q.String(), args
}

// ScanSessions calls fn with every session that f selects, in list order, as
// [sessions.Scanner] documents. It reads batches of [sessions.ScanBatch] sessions from the
// read pool, each one keyset query (its own read transaction, which ends with the batch, so
// that a slow reader of the scan never holds back the WAL's checkpoints), plus one query for
// the names of the agents that the batch is the first to meet ([agentnames.Scan]). It is safe
// for concurrent use.
func (s *Store) ScanSessions(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
	return agentnames.Scan(ctx, f, s.scanBatch, s.agentNames, fn)
}

// scanBatch reads the sessions of one batch of a scan of f, which is valid and normalized: up to
// f.Limit+1, without their agents' names.
func (s *Store) scanBatch(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	query, args := scanQuery(f)
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	defer rows.Close()
	ss := make([]sessions.Session, 0, f.Limit+1)
	// The driver's bytes, valid until the next call of Next. Agents, models and statuses repeat
	// within a batch: each distinct value becomes a string once.
	var agentID, status, kinds, model sql.RawBytes
	seen := map[string]string{}
	str := func(b []byte) string {
		if v, ok := seen[string(b)]; ok {
			return v
		}
		v := string(b)
		seen[v] = v
		return v
	}
	for rows.Next() {
		x := sessions.Session{AccountID: f.AccountID}
		var started, ended int64
		if err := rows.Scan(&x.ID, &agentID, &started, &ended, &status, &kinds, &model); err != nil {
			return nil, mapError(ctx, err)
		}
		x.AgentID, x.UpstreamModel = str(agentID), str(model)
		x.Status = sessions.Status(str(status))
		x.StartedAt = time.UnixMilli(started).UTC()
		x.EndedAt = time.UnixMilli(ended).UTC()
		var err error
		if x.RedactionsByKind, err = kindsjson.Parse(kinds); err != nil {
			return nil, fmt.Errorf("sqlite: session %s: %w", x.ID, err)
		}
		ss = append(ss, x)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(ctx, err)
	}
	return ss, nil
}
