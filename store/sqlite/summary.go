package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/rollup"
)

var _ sessions.Summarizer = (*Store)(nil)

// The queries of SummarizeSessions. The rollups (summary_totals, described in
// migrations/0005_summary_totals.sql) are read by their primary key (account_id, agent_id, hour,
// status): agent_id is the agent, or the empty string for the account, so that both summaries are
// a range of hours of one key prefix, at most 24 x 3 rows a day. The status condition is decided
// from the key, row by row. (Comparing the status parameter with the empty string keeps one
// statement for both the filtered and unfiltered status.) The statement sums the rows into one
// (rollup.Sums): the sessions by status, through FILTER clauses over the three statuses of the
// sessions table's CHECK constraint (rollup.Statuses, in that order), the redactions, the duration
// in milliseconds, and the kinds of every row as one text, whose objects are summed in Go
// (kindsjson.Sums.AddObjects). A row per rollup row took 1.7 times as long, in the driver's work
// per row (BENCHMARKS.md, "Summary rollups"). The text grows with the hours of the window (about
// 50 bytes per hour and status), not with its sessions.
//
// The raw rows of the window's edges, or of the whole window for a MinRedactions, are read
// through the list indexes row by row, since their number grows with the sessions, and summed
// (rollup.Sums) as sessions.Summary.Add folds sessions, without a map per session; those of the
// parts of an edge hour outside the window, when the window holds most of that hour and its
// rollups are read (rollup.Plan.Minus), are taken out again.
const (
	summaryTotalsSQL = `SELECT coalesce(sum(sessions) FILTER (WHERE status = 'ok'), 0),
		coalesce(sum(sessions) FILTER (WHERE status = 'error'), 0),
		coalesce(sum(sessions) FILTER (WHERE status = 'partial'), 0),
		coalesce(sum(redaction_total), 0), coalesce(sum(duration_ms), 0), group_concat(kinds, '')
	FROM summary_totals WHERE account_id = ? AND agent_id = ? AND hour >= ? AND hour < ? AND (? = '' OR status = ?)`
	rawAgentSQL = `SELECT status, started_at, ended_at, redaction_count, redactions_by_kind FROM sessions INDEXED BY sessions_agent_list
	WHERE account_id = ? AND agent_id = ? AND started_at >= ? AND started_at < ? AND (? = '' OR status = ?) AND redaction_count >= ?`
	rawAccountSQL = `SELECT status, started_at, ended_at, redaction_count, redactions_by_kind FROM sessions INDEXED BY sessions_account_list
	WHERE account_id = ? AND ? = '' AND started_at >= ? AND started_at < ? AND (? = '' OR status = ?) AND redaction_count >= ?`
	// rawSumsSQL is the sums of the sessions of rawAgentSQL or rawAccountSQL in one row, as
	// summaryTotalsSQL sums the rollups (its placeholders: the index, and the agent's condition).
	rawSumsSQL = `SELECT coalesce(sum(status = 'ok'), 0), coalesce(sum(status = 'error'), 0),
		coalesce(sum(status = 'partial'), 0), coalesce(sum(redaction_count), 0),
		coalesce(sum(ended_at - started_at), 0), group_concat(redactions_by_kind, '')
	FROM sessions INDEXED BY %s
	WHERE account_id = ? AND %s AND started_at >= ? AND started_at < ? AND (? = '' OR status = ?) AND redaction_count >= ?`
)

// The statements of rawSumsSQL for an agent and for the account.
var (
	rawSumsAgentSQL   = fmt.Sprintf(rawSumsSQL, "sessions_agent_list", "agent_id = ?")
	rawSumsAccountSQL = fmt.Sprintf(rawSumsSQL, "sessions_account_list", "? = ''")
)

// SummarizeSessions returns the summary of the sessions that f selects (Limit and After are
// ignored), read in one read transaction, so from one state of the database. Whole hours of the
// window come from the rollups, which PutSessions and PurgeSessions keep in their own statements;
// the partial hours at the window's edges come from the sessions (at most half an hour of them at
// each edge: a larger part comes from the hour's rollups less the sessions of the hour outside the
// window). A MinRedactions above 0 is read entirely from the sessions, through the list index of
// the agent or the account: its cost grows with the sessions of the window, as a list's does.
//
// It returns a *sessions.ValidationError for an invalid filter, the empty summary for an agent
// that does not exist, and the context and database errors of the package. It is safe for
// concurrent use.
func (s *Store) SummarizeSessions(ctx context.Context, f sessions.Filter) (sessions.Summary, error) {
	f, err := sessions.SummaryFilter(f)
	if err != nil {
		return sessions.Summary{}, err
	}
	if err := sessions.ContextError(ctx); err != nil {
		return sessions.Summary{}, err
	}
	plan := rollup.PlanFor(f)
	tx, err := s.read.BeginTx(ctx, nil) // deferred: a WAL read snapshot from its first read
	if err != nil {
		return sessions.Summary{}, mapError(ctx, err)
	}
	defer tx.Rollback()
	return rollup.Summarize(plan,
		func(r rollup.Range) (*rollup.Sums, error) { return readRollups(ctx, tx, f, r) },
		func(r rollup.Range) (*rollup.Sums, error) { return readRaw(ctx, tx, f, r) })
}

// readRollups returns the sums of the rollups of f in the hours r.
func readRollups(ctx context.Context, tx *sql.Tx, f sessions.Filter, r rollup.Range) (*rollup.Sums, error) {
	return readSums(ctx, tx, summaryTotalsSQL, f.AccountID, f.AgentID, r.Since.UnixMilli(), r.Until.UnixMilli(),
		string(f.Status), string(f.Status))
}

// readSums runs query, a statement that sums rows into one (summaryTotalsSQL, rawSumsSQL), with
// args, and returns its sums.
func readSums(ctx context.Context, tx *sql.Tx, query string, args ...any) (*rollup.Sums, error) {
	var x rollup.Sums
	var kinds []byte
	err := tx.QueryRowContext(ctx, query, args...).Scan(&x.ByStatus[0], &x.ByStatus[1], &x.ByStatus[2],
		&x.Redactions, &x.DurationMillis, &kinds)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	if err := x.Kinds.AddObjects(kinds); err != nil {
		return nil, fmt.Errorf("sqlite: summary: %w", err)
	}
	return &x, nil
}

// readRaw returns the sums of the sessions of f that started in r: summed by the statement, as
// the rollups are, when r is an hour or less (the edges of a window, and the parts of an edge
// hour taken out of its rollups), so that the text of their kinds stays as small as an hour of
// the key's sessions; row by row otherwise (the whole window of a MinRedactions), so that the
// memory of a summary does not grow with its window.
func readRaw(ctx context.Context, tx *sql.Tx, f sessions.Filter, r rollup.Range) (*rollup.Sums, error) {
	if r.Until.Sub(r.Since) <= time.Hour {
		return readRawSums(ctx, tx, f, r)
	}
	return readRawRows(ctx, tx, f, r)
}

// readRawSums returns the sums of the sessions of f that started in r, summed by one statement
// (rawSumsSQL) into one row.
func readRawSums(ctx context.Context, tx *sql.Tx, f sessions.Filter, r rollup.Range) (*rollup.Sums, error) {
	query := rawSumsAccountSQL
	if f.AgentID != "" {
		query = rawSumsAgentSQL
	}
	return readSums(ctx, tx, query, f.AccountID, f.AgentID, r.Since.UnixMilli(), r.Until.UnixMilli(),
		string(f.Status), string(f.Status), f.MinRedactions)
}

// readRawRows returns the sums of the sessions of f that started in r, read row by row.
func readRawRows(ctx context.Context, tx *sql.Tx, f sessions.Filter, r rollup.Range) (*rollup.Sums, error) {
	query := rawAccountSQL
	if f.AgentID != "" {
		query = rawAgentSQL
	}
	rows, err := tx.QueryContext(ctx, query, f.AccountID, f.AgentID, r.Since.UnixMilli(), r.Until.UnixMilli(),
		string(f.Status), string(f.Status), f.MinRedactions)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	defer rows.Close()
	var x rollup.Sums
	var kinds sql.RawBytes
	for rows.Next() {
		var status sessions.Status
		var started, ended, redactions int64
		if err := rows.Scan(&status, &started, &ended, &redactions, &kinds); err != nil {
			return nil, mapError(ctx, err)
		}
		if err := x.AddSession(status, ended-started, redactions, kinds); err != nil {
			return nil, fmt.Errorf("sqlite: summary: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(ctx, err)
	}
	return &x, nil
}
