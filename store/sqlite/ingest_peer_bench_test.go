package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// plainTableSQL makes, beside the store's tables in its file, the table that a user of
// database/sql would write sessions into without this library: the primary key and the two
// indexes of the plain keyset queries (the agent's list and the account's list), and none of the
// store's features (no feed, no groups indexes, no rollups). %[1]s is the table's name (a
// constant of the benchmark), %[2]s its foreign key to the store's agents, or nothing.
const plainTableSQL = `
CREATE TABLE %[1]s (
	id TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	started_at INTEGER NOT NULL,
	ended_at INTEGER NOT NULL,
	status TEXT NOT NULL,
	redactions_by_kind TEXT NOT NULL,
	redaction_count INTEGER NOT NULL,
	upstream_model TEXT NOT NULL%[2]s
) STRICT, WITHOUT ROWID;
CREATE INDEX %[1]s_agent ON %[1]s (account_id, agent_id, started_at DESC, id DESC);
CREATE INDEX %[1]s_account ON %[1]s (account_id, started_at DESC, id DESC);`

// BenchmarkSQLiteIngestPeer measures PutSessions against what a user of database/sql would run
// without the library: in one transaction, a prepared INSERT per session into a plain table with
// the primary key and the two list indexes, with the foreign key to agents (plain_fk) and
// without it (plain), in the store's own file, so through the same connection settings
// (synchronous FULL, WAL). Each operation writes one batch of 1,000 new sessions (one per agent
// of the data set in turn, live times, as benchdata.RunIngest writes them) through each of the
// three, in an order that turns with every operation. It reports each one's microseconds per
// batch and the library's rate as a fraction of each plain insert's (library/plain_fk,
// library/plain).
//
//	go test -run '^$' -bench SQLiteIngestPeer -benchtime 100x -count 3 ./store/sqlite
func BenchmarkSQLiteIngestPeer(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	benchdata.PutAgents(b, s)
	agents := benchdata.AgentList()
	for table, foreignKey := range map[string]string{
		"plain_fk": ",\n\tFOREIGN KEY (account_id, agent_id) REFERENCES agents (account_id, id)",
		"plain":    "",
	} {
		if _, err := s.write.ExecContext(ctx, fmt.Sprintf(plainTableSQL, table, foreignKey)); err != nil {
			b.Fatal(err)
		}
	}
	var batch []sessions.Session
	written := 0
	total := benchdata.RunTurns(b, func() {
		batch = benchdata.IngestBatch(batch, agents, written, 1000)
		written += len(batch)
	}, func() error { return s.PutSessions(ctx, batch...) },
		func() error { return insertPlain(ctx, s, "plain_fk", batch) },
		func() error { return insertPlain(ctx, s, "plain", batch) })
	benchdata.ReportPeers(b, total, "plain_fk", "plain")
}

// insertPlain inserts ss into the plain table named table (a constant of the benchmark) as a
// user of database/sql would: one transaction, one prepared INSERT run per session.
func insertPlain(ctx context.Context, s *Store, table string, ss []sessions.Session) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (id, account_id, agent_id, started_at, ended_at,
		status, redactions_by_kind, redaction_count, upstream_model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, x := range ss {
		_, err := stmt.ExecContext(ctx, x.ID, x.AccountID, x.AgentID, x.StartedAt.UnixMilli(), x.EndedAt.UnixMilli(),
			string(x.Status), string(kindsjson.Append(nil, x.RedactionsByKind)), x.RedactionCount(), x.UpstreamModel)
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}
