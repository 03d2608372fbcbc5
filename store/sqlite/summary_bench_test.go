package sqlite

import (
	"context"
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/rollup"
)

// bareSummarySQL is the plain aggregate query over the raw rows that the summary benchmark
// compares SummarizeSessions with (benchmark code only): counts and sums, without the kinds,
// through the list index of the agent or the account.
const (
	bareAgentSummarySQL = `SELECT count(*), sum(redaction_count), sum(ended_at - started_at) FROM sessions
	WHERE account_id = ? AND agent_id = ? AND started_at >= ?`
	bareAccountSummarySQL = `SELECT count(*), sum(redaction_count), sum(ended_at - started_at) FROM sessions
	WHERE account_id = ? AND started_at >= ?`
)

// BenchmarkSQLiteSummary measures SummarizeSessions over the last 30 days of the data set, for
// the busiest agent and for the account, alternating with the plain aggregate query.
//
//	go test -run '^$' -bench SQLiteSummary ./store/sqlite
func BenchmarkSQLiteSummary(b *testing.B) {
	s := loadedStore(b)
	benchdata.RunSummary(b, s, func(f sessions.Filter) error {
		var n, redactions, duration int64
		// One query per call: a *sql.Row holds its connection until Scan.
		query, args := bareAccountSummarySQL, []any{f.AccountID, f.Since.UnixMilli()}
		if f.AgentID != "" {
			query, args = bareAgentSummarySQL, []any{f.AccountID, f.AgentID, f.Since.UnixMilli()}
		}
		return s.read.QueryRowContext(context.Background(), query, args...).Scan(&n, &redactions, &duration)
	}, func(f sessions.Filter) (int64, error) {
		h := rollup.PlanFor(f).Hours
		var n int64
		err := s.read.QueryRow(`SELECT count(*) FROM summary_totals WHERE account_id = ? AND agent_id = ? AND hour >= ? AND hour < ?`,
			f.AccountID, f.AgentID, h.Since.UnixMilli(), h.Until.UnixMilli()).Scan(&n)
		return n, err
	})
}

// BenchmarkSQLiteIngestRollups measures PutSessions with the summary rollups against the same
// store without them (its triggers dropped), alternating batches of the same sessions, into
// two fresh files.
//
//	go test -run '^$' -bench SQLiteIngestRollups -benchtime 200x ./store/sqlite
func BenchmarkSQLiteIngestRollups(b *testing.B) {
	benchIngestWithout(b, `DROP TRIGGER sessions_summary_insert;
		DROP TRIGGER sessions_summary_update; DROP TRIGGER sessions_summary_delete`)
}

// BenchmarkSQLiteIngestGroups measures PutSessions with the groups indexes of rare filters
// (migration 0004) against the same store without them, as BenchmarkSQLiteIngestRollups does
// for the rollups.
//
//	go test -run '^$' -bench SQLiteIngestGroups -benchtime 100x -count 3 ./store/sqlite
func BenchmarkSQLiteIngestGroups(b *testing.B) {
	benchIngestWithout(b, `DROP INDEX sessions_agent_groups; DROP INDEX sessions_account_groups`)
}

// benchIngestWithout runs benchdata.RunIngestPaired, batches of 100 and 1,000, on two fresh
// stores that hold the agents of the data set: the store as it is, and one where drop, the SQL
// that removes a feature, ran first.
func benchIngestWithout(b *testing.B, drop string) {
	ctx := context.Background()
	with, without := newTestStore(b), newTestStore(b)
	benchdata.PutAgents(b, with)
	benchdata.PutAgents(b, without)
	if _, err := without.write.ExecContext(ctx, drop); err != nil {
		b.Fatal(err)
	}
	benchdata.RunIngestPaired(b, with, without, 100, 1000)
}

// BenchmarkSQLiteSummaryRawRows measures what a summary pays for each raw row it reads
// (benchdata.RunSummaryRawRows), on a new store.
func BenchmarkSQLiteSummaryRawRows(b *testing.B) {
	benchdata.RunSummaryRawRows(b, newTestStore(b))
}
