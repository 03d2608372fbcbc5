package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

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

// BenchmarkSQLiteSummaryEdgeRead measures the two reads of a summary's raw rows on ranges of
// 25 to 17,400 sessions of one agent and of its account, alternating in one loop: readRawSums,
// one statement that sums them into a row (what SummarizeSessions uses for ranges of an hour or
// less: the window's edges), against readRawRows, which scans them row by row (the whole window
// of a MinRedactions). It reports each one's time per row and their ratio.
//
//	go test -run '^$' -bench SQLiteSummaryEdgeRead -benchtime 30x -count 2 ./store/sqlite
func BenchmarkSQLiteSummaryEdgeRead(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "a"}
	if err := s.PutAgent(ctx, agent); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const written, every = 17_400, 100 * time.Millisecond // 29 minutes
	var batch []sessions.Session
	for i := range written {
		at := start.Add(time.Duration(i) * every)
		batch = append(batch, sessions.Session{ID: sessions.NewSessionID(at), AccountID: "acme", AgentID: agent.ID,
			StartedAt: at, EndedAt: at.Add(time.Minute), Status: rollup.Statuses[i%3],
			RedactionsByKind: map[string]int{"NAME": 1 + i%3, "PHONE": i % 2, "DOB": i % 4}})
		if len(batch) == 1000 || i == written-1 {
			if err := s.PutSessions(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	read := func(f sessions.Filter, r rollup.Range, raw func(context.Context, *sql.Tx, sessions.Filter, rollup.Range) (*rollup.Sums, error)) error {
		tx, err := s.read.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		x, err := raw(ctx, tx, f, r)
		if n := r.Until.Sub(r.Since) / every; err == nil && x.ByStatus[0]+x.ByStatus[1]+x.ByStatus[2] != int64(n) {
			return fmt.Errorf("%d sessions, want %d", x.ByStatus[0]+x.ByStatus[1]+x.ByStatus[2], n)
		}
		return err
	}
	for _, n := range []int{25, 125, 1000, 5000, written} {
		for _, scope := range []string{"agent", "account"} {
			f := sessions.Filter{AccountID: "acme"}
			if scope == "agent" {
				f.AgentID = agent.ID
			}
			r := rollup.Range{Since: start, Until: start.Add(time.Duration(n) * every)}
			b.Run(fmt.Sprintf("%s/rows=%d", scope, n), func(b *testing.B) {
				benchdata.RunPaired(b, func() error { return read(f, r, readRawSums) },
					func() error { return read(f, r, readRawRows) })
			})
		}
	}
}
