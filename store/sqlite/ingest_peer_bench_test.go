package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// plainTablesSQL makes, beside the store's tables in its file, the table that a user of
// database/sql would write sessions into without this library, twice: plain_fk with the foreign
// key to the store's agents and plain without it. Each has the primary key and the two indexes
// of the plain keyset queries (the agent's list and the account's list), and none of the store's
// features: no feed, no groups indexes, no rollups.
const plainTablesSQL = `
CREATE TABLE plain_fk (
	id TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	started_at INTEGER NOT NULL,
	ended_at INTEGER NOT NULL,
	status TEXT NOT NULL,
	redactions_by_kind TEXT NOT NULL,
	redaction_count INTEGER NOT NULL,
	upstream_model TEXT NOT NULL,
	FOREIGN KEY (account_id, agent_id) REFERENCES agents (account_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX plain_fk_agent ON plain_fk (account_id, agent_id, started_at DESC, id DESC);
CREATE INDEX plain_fk_account ON plain_fk (account_id, started_at DESC, id DESC);
CREATE TABLE plain (
	id TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	started_at INTEGER NOT NULL,
	ended_at INTEGER NOT NULL,
	status TEXT NOT NULL,
	redactions_by_kind TEXT NOT NULL,
	redaction_count INTEGER NOT NULL,
	upstream_model TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX plain_agent ON plain (account_id, agent_id, started_at DESC, id DESC);
CREATE INDEX plain_account ON plain (account_id, started_at DESC, id DESC);`

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
	agents := benchdata.AgentList()
	for _, a := range agents {
		if err := s.PutAgent(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.write.ExecContext(ctx, plainTablesSQL); err != nil {
		b.Fatal(err)
	}
	const size = 1000
	start := benchdata.End.Add(time.Hour)
	written := 0
	var elapsed [3]time.Duration // library, plain_fk, plain
	for i := 0; b.Loop(); i++ {
		batch := make([]sessions.Session, size)
		for j := range batch {
			t := start.Add(time.Duration(written+j) * time.Millisecond)
			batch[j] = sessions.Session{
				ID: sessions.NewSessionID(t), AccountID: benchdata.Account, AgentID: agents[(written+j)%len(agents)].ID,
				StartedAt: t, EndedAt: t.Add(time.Minute), Status: sessions.StatusOK,
				RedactionsByKind: map[string]int{"NAME": 1, "PHONE": 2},
				UpstreamModel:    "gpt-4o-mini",
			}
		}
		written += size
		write := []func() error{
			func() error { return s.PutSessions(ctx, batch...) },
			func() error { return insertPlain(ctx, s, "plain_fk", batch) },
			func() error { return insertPlain(ctx, s, "plain", batch) },
		}
		for k := range write {
			c := (i + k) % len(write)
			begin := time.Now()
			if err := write[c](); err != nil {
				b.Fatal(err)
			}
			elapsed[c] += time.Since(begin)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(elapsed[0].Microseconds())/n, "library-us/op")
	b.ReportMetric(float64(elapsed[1].Microseconds())/n, "plain_fk-us/op")
	b.ReportMetric(float64(elapsed[2].Microseconds())/n, "plain-us/op")
	b.ReportMetric(float64(elapsed[1])/float64(elapsed[0]), "library/plain_fk")
	b.ReportMetric(float64(elapsed[2])/float64(elapsed[0]), "library/plain")
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
