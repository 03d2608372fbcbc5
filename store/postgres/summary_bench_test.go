package postgres

import (
	"context"
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/rollup"
)

// bareSummarySQL is the plain aggregate query over the raw rows that the summary benchmark
// compares SummarizeSessions with (benchmark code only): counts and sums, without the kinds.
// An empty $2 selects every agent.
const bareSummarySQL = `SELECT count(*), coalesce(sum(redaction_count), 0)::bigint,
	coalesce(sum(extract(epoch FROM ended_at - started_at) * 1000), 0)::bigint
FROM sessions WHERE account_id = $1 AND ($2 = '' OR agent_id = $2) AND started_at >= $3`

// BenchmarkPostgresSummary measures SummarizeSessions over the last 30 days of the data set,
// for the busiest agent and for the account, alternating with the plain aggregate query.
//
//	SESSIONS_TEST_POSTGRES_URL=... go test -run '^$' -bench PostgresSummary ./store/postgres
func BenchmarkPostgresSummary(b *testing.B) {
	s := benchStore(b)
	benchdata.RunSummary(b, s, func(f sessions.Filter) error {
		var n, redactions, duration int64
		return s.pool.QueryRow(context.Background(), bareSummarySQL, f.AccountID, f.AgentID, f.Since).
			Scan(&n, &redactions, &duration)
	}, func(f sessions.Filter) (int64, error) {
		h := rollup.PlanFor(f).Hours
		var n int64
		err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM summary_totals
			WHERE account_id = $1 AND agent_id = $2 AND hour >= $3 AND hour < $4`,
			f.AccountID, f.AgentID, h.Since, h.Until).Scan(&n)
		return n, err
	})
}

// BenchmarkPostgresIngestRollups measures PutSessions with the summary rollups against the
// same store without them (its triggers dropped), alternating batches of the same sessions,
// into two fresh schemas.
//
//	SESSIONS_TEST_POSTGRES_URL=... go test -run '^$' -bench PostgresIngestRollups -benchtime 200x ./store/postgres
func BenchmarkPostgresIngestRollups(b *testing.B) {
	benchIngestWithout(b, `DROP TRIGGER sessions_summary_insert ON sessions;
		DROP TRIGGER sessions_summary_update ON sessions; DROP TRIGGER sessions_summary_delete ON sessions`)
}

// BenchmarkPostgresIngestGroups measures PutSessions with the groups indexes of rare filters
// (migration 0004) against the same store without them, as BenchmarkPostgresIngestRollups does
// for the rollups.
//
//	SESSIONS_TEST_POSTGRES_URL=... go test -run '^$' -bench PostgresIngestGroups -benchtime 50x -count 3 ./store/postgres
func BenchmarkPostgresIngestGroups(b *testing.B) {
	benchIngestWithout(b, `DROP INDEX sessions_agent_groups; DROP INDEX sessions_account_groups`)
}

// benchIngestWithout runs benchdata.RunIngestPaired, batches of 100, 1,000 and 10,000 (the batch
// of the ingest target), on two fresh stores that hold the agents of the data set: the store as
// it is, and one where drop, the SQL that removes a feature, ran first.
func benchIngestWithout(b *testing.B, drop string) {
	ctx := context.Background()
	with, without := newTestStore(b), newTestStore(b)
	benchdata.PutAgents(b, with)
	benchdata.PutAgents(b, without)
	if _, err := without.pool.Exec(ctx, drop); err != nil {
		b.Fatal(err)
	}
	benchdata.RunIngestPaired(b, with, without, 100, 1000, 10_000)
}

// BenchmarkPostgresSummaryRawRows measures what a summary pays for each raw row it reads
// (benchdata.RunSummaryRawRows), on a new store.
func BenchmarkPostgresSummaryRawRows(b *testing.B) {
	benchdata.RunSummaryRawRows(b, newTestStore(b))
}
