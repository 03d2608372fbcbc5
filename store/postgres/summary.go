package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/rollup"
)

var _ sessions.Summarizer = (*Store)(nil)

// The queries of SummarizeSessions. The rollups (summary_totals, described in
// migrations/0005_summary_totals.sql) are read by their primary key (account_id, agent_id, hour,
// status): agent_id is the agent, or the empty string for the account, so that both summaries are
// a range of hours of one key prefix, at most 24 x 3 rows a day; the status is decided from the
// index entries. (Comparing $5 with the empty string keeps one statement for the filtered and the
// unfiltered status.) The rows are summed in Go (rollup.Sums). (Summing them in the statement, as
// the SQLite store does, was slower here: BENCHMARKS.md, "Summary rollups".)
//
// The raw rows of the window's edges, or of the whole window for a MinRedactions, are read
// through the list indexes and summed in Go (rollup.Sums) as sessions.Summary.Add folds sessions,
// without a map per session; those of the parts of an edge hour outside the window, when the
// window holds most of that hour and its rollups are read (rollup.Plan.Minus), are taken out
// again.
const (
	summaryTotalsSQL = `SELECT status, sessions, redaction_total, duration_ms, kinds FROM summary_totals
	WHERE account_id = $1 AND agent_id = $2 AND hour >= $3 AND hour < $4 AND ($5 = '' OR status = $5)`
	rawAgentSQL = `SELECT status, started_at, ended_at, redaction_count, redactions_by_kind FROM sessions
	WHERE account_id = $1 AND agent_id = $2 AND started_at >= $3 AND started_at < $4
		AND ($5 = '' OR status = $5) AND redaction_count >= $6`
	rawAccountSQL = `SELECT status, started_at, ended_at, redaction_count, redactions_by_kind FROM sessions
	WHERE account_id = $1 AND $2 = '' AND started_at >= $3 AND started_at < $4
		AND ($5 = '' OR status = $5) AND redaction_count >= $6`
)

// SummarizeSessions returns the summary of the sessions that f selects (Limit and After are
// ignored), read in one REPEATABLE READ, read-only transaction, so from one snapshot. Like
// ListSessions, it reads from the pool of WithReadPool when there is one. Whole hours of the window
// come from the rollups, which triggers keep in the statements of PutSessions and PurgeSessions;
// the partial hours at the window's edges come from the sessions (at most half an hour of them at
// each edge: a larger part comes from the hour's rollups less the sessions of the hour outside the
// window). A MinRedactions above 0 is read entirely from the sessions: its cost grows with the
// sessions of the window, as a list's does.
//
// It returns a *sessions.ValidationError for an invalid filter, the empty summary for an agent
// that does not exist, and the context and connection errors of the package. It is safe for
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
	var m sessions.Summary
	err = s.retry(ctx, s.read, func() error {
		opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
		return pgx.BeginTxFunc(ctx, s.read, opts, func(tx pgx.Tx) error {
			var err error
			m, err = rollup.Summarize(plan,
				func(r rollup.Range) (*rollup.Sums, error) { return readRollups(ctx, tx, f, r) },
				func(r rollup.Range) (*rollup.Sums, error) { return readRaw(ctx, tx, f, r) })
			return err
		})
	})
	if err != nil {
		return sessions.Summary{}, err
	}
	return m, nil
}

// readRollups returns the sums of the rollups of f in the hours r.
func readRollups(ctx context.Context, tx pgx.Tx, f sessions.Filter, r rollup.Range) (*rollup.Sums, error) {
	rows, err := tx.Query(ctx, summaryTotalsSQL, f.AccountID, f.AgentID, r.Since, r.Until, string(f.Status))
	if err != nil {
		return nil, err
	}
	var x rollup.Sums
	var status sessions.Status
	var n, redactions, durationMillis int64
	var kinds rawKinds
	_, err = pgx.ForEachRow(rows, []any{&status, &n, &redactions, &durationMillis, &kinds}, func() error {
		return summaryError(x.AddRollup(status, n, redactions, durationMillis, kinds))
	})
	if err != nil {
		return nil, err
	}
	return &x, nil
}

// readRaw returns the sums of the sessions of f that started in r.
func readRaw(ctx context.Context, tx pgx.Tx, f sessions.Filter, r rollup.Range) (*rollup.Sums, error) {
	query := rawAccountSQL
	if f.AgentID != "" {
		query = rawAgentSQL
	}
	rows, err := tx.Query(ctx, query, f.AccountID, f.AgentID, r.Since, r.Until, string(f.Status), f.MinRedactions)
	if err != nil {
		return nil, err
	}
	var x rollup.Sums
	var status sessions.Status
	var started, ended time.Time
	var redactions int64
	var kinds rawKinds
	_, err = pgx.ForEachRow(rows, []any{&status, &started, &ended, &redactions, &kinds}, func() error {
		return summaryError(x.AddSession(status, ended.UnixMilli()-started.UnixMilli(), redactions, kinds))
	})
	if err != nil {
		return nil, err
	}
	return &x, nil
}

// summaryError returns err, an error of the data that a summary read (a status or kinds it cannot
// sum), with the package's prefix; nil for nil. The errors of the connection are returned as they
// are, for retry and the package's mapping.
func summaryError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: summary: %w", err)
}

// rawKinds holds the text of a row's kinds, valid until the next row (pgtype.BytesScanner).
type rawKinds []byte

// ScanBytes implements pgtype.BytesScanner.
func (k *rawKinds) ScanBytes(src []byte) error {
	*k = src
	return nil
}
