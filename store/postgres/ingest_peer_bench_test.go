package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
)

// plainTablesSQL makes, beside the store's tables, the table that a user of pgx would write
// sessions into without this library, twice: plain_fk with the foreign key to the store's agents
// and plain without it. Each has the primary key and the two indexes of the plain keyset
// queries (the agent's list and the account's list), and none of the store's features: no feed,
// no groups indexes, no rollups.
const plainTablesSQL = `
CREATE TABLE plain_fk (
	id text COLLATE "C" PRIMARY KEY,
	account_id text COLLATE "C" NOT NULL,
	agent_id text COLLATE "C" NOT NULL,
	started_at timestamptz NOT NULL,
	ended_at timestamptz NOT NULL,
	status text NOT NULL,
	redactions_by_kind jsonb NOT NULL,
	redaction_count bigint NOT NULL,
	upstream_model text NOT NULL,
	FOREIGN KEY (account_id, agent_id) REFERENCES agents (account_id, id)
);
CREATE INDEX plain_fk_agent ON plain_fk (account_id, agent_id, started_at DESC, id DESC);
CREATE INDEX plain_fk_account ON plain_fk (account_id, started_at DESC, id DESC);
CREATE TABLE plain (LIKE plain_fk INCLUDING INDEXES);`

// plainColumns are the columns of a plain table, in the order of plainRow.
var plainColumns = []string{"id", "account_id", "agent_id", "started_at", "ended_at", "status",
	"redactions_by_kind", "redaction_count", "upstream_model"}

// plainRow is x as a row of pgx.CopyFrom into a plain table: the kinds go as a map, which pgx
// encodes as JSON.
func plainRow(x sessions.Session) []any {
	return []any{x.ID, x.AccountID, x.AgentID, x.StartedAt, x.EndedAt, string(x.Status),
		x.RedactionsByKind, int64(x.RedactionCount()), x.UpstreamModel}
}

// BenchmarkPostgresIngestPeer measures PutSessions against what a user of pgx would run without
// the library: pgx.CopyFrom of the same sessions into a plain table with the primary key and
// the two list indexes, with the foreign key to agents (plain_fk) and without it (plain). Each
// operation writes one batch of new sessions (one per agent of the data set in turn, live
// times, as benchdata.RunIngest writes them) through each of the three, in an order that turns
// with every operation, into one fresh schema. It reports each one's microseconds per batch and
// the library's rate as a fraction of each plain COPY's (library/plain_fk, library/plain):
// issue 16 measured 0.91 and 0.61-0.72 before the feed, the groups indexes and the rollups.
//
//	SESSIONS_TEST_POSTGRES_URL=... go test -run '^$' -bench PostgresIngestPeer -benchtime 20x -count 3 ./store/postgres
func BenchmarkPostgresIngestPeer(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	benchdata.PutAgents(b, s)
	agents := benchdata.AgentList()
	if _, err := s.pool.Exec(ctx, plainTablesSQL); err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			var batch []sessions.Session
			var rows [][]any
			written := 0
			total := benchdata.RunTurns(b, func() {
				batch = benchdata.IngestBatch(batch, agents, written, size)
				written += size
				rows = rows[:0]
				for _, x := range batch {
					rows = append(rows, plainRow(x))
				}
			}, func() error { return s.PutSessions(ctx, batch...) },
				func() error { return copyPlain(ctx, s, "plain_fk", rows) },
				func() error { return copyPlain(ctx, s, "plain", rows) })
			benchdata.ReportPeers(b, total, "plain_fk", "plain")
		})
	}
}

// copyPlain copies rows into the plain table named table: one COPY, its own transaction.
func copyPlain(ctx context.Context, s *Store, table string, rows [][]any) error {
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{table}, plainColumns, pgx.CopyFromRows(rows))
	return err
}
