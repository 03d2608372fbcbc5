package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
)

var (
	benchOnce  sync.Once
	benchStore *Store
	benchDir   string // the directory of benchStore's file, removed by TestMain
)

// TestMain removes the benchmark database, if a benchmark made one, after the run: at 10M
// sessions it takes gigabytes.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchStore != nil {
		benchStore.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// loadedStore returns a store holding the benchmark data set (benchdata.Size() sessions), loaded
// once per process (see openBenchFile).
func loadedStore(b *testing.B) *Store {
	b.Helper()
	benchOnce.Do(func() {
		n, err := benchdata.Size()
		if err != nil {
			b.Fatal(err)
		}
		benchStore = openBenchFile(b, n)
	})
	if benchStore == nil {
		b.Fatal("loading the benchmark data set failed")
	}
	return benchStore
}

// BenchmarkSQLiteList measures ListSessions on each query of benchdata.Cases.
//
//	go test -run '^$' -bench SQLiteList ./store/sqlite
func BenchmarkSQLiteList(b *testing.B) {
	benchdata.RunList(b, loadedStore(b))
}

// BenchmarkSQLiteDepth measures pages 1 to 1,000 of the account-wide list with the store's
// keyset query, and beside it with LIMIT/OFFSET on the same table and index, the way most
// hand-written endpoints page. The OFFSET query is benchmark code only.
func BenchmarkSQLiteDepth(b *testing.B) {
	s := loadedStore(b)
	benchdata.RunKeysetDepth(b, s)
	const offsetQuery = listSelect + listAccountScope + " ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"
	for _, page := range benchdata.DepthPages {
		b.Run(fmt.Sprintf("offset/page=%d", page), func(b *testing.B) {
			for b.Loop() {
				rows, err := s.read.Query(offsetQuery, benchdata.Account, benchdata.DepthLimit, (page-1)*benchdata.DepthLimit)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				if err := rows.Close(); err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatalf("page %d is empty", page)
				}
			}
		})
	}
}

// BenchmarkSQLiteBare compares ListSessions with its own SQL run raw through database/sql and
// scanned into plain variables: the ratio is the library's overhead (validation, JSON of the
// kinds, building Sessions and the Page); "paired/<case>" runs the two alternately and reports
// the ratio library/bare.
func BenchmarkSQLiteBare(b *testing.B) {
	s := loadedStore(b)
	ctx := context.Background()
	busy := benchdata.AgentList()[0].ID
	agent := sessions.Filter{AccountID: benchdata.Account, AgentID: busy, Limit: 100}
	positions := benchdata.Positions(b, s, agent)
	deep := agent
	deep.After = benchdata.PageCursor(positions, 100, 1000)
	for _, c := range []struct {
		name string
		f    sessions.Filter
	}{
		{"agent/first", agent},
		{"agent/deep", deep},
		{"account/first", sessions.Filter{AccountID: benchdata.Account, Limit: 100}},
	} {
		b.Run("library/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.ListSessions(ctx, c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
		query, args := listQuery(c.f.Normalize())
		bare := func() error {
			rows, err := s.read.QueryContext(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			var id, agentID, status, kinds, model string
			var name *string
			var started, ended int64
			for rows.Next() {
				if err := rows.Scan(&id, &agentID, &started, &ended, &status, &kinds, &model, &name); err != nil {
					return err
				}
			}
			return rows.Err()
		}
		b.Run("bare/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if err := bare(); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The two, alternately in one loop, so that both see the same load of a shared machine.
		b.Run("paired/"+c.name, func(b *testing.B) {
			benchdata.RunPaired(b, func() error {
				_, err := s.ListSessions(ctx, c.f)
				return err
			}, bare)
		})
	}
}

// BenchmarkSQLiteIngest measures PutSessions in batches of 1, 100, 1,000 and 10,000 into the
// loaded data set, with agents taken in turn (benchdata.RunIngest): a batch of 1,000 has a
// session of every agent, so it changes a page of the agent-list index for each of the 1,000
// agents, the worst case for this store. "zipf/batch=1000" takes each session's agent from the
// data set's own skewed load instead (a few busy agents, a long quiet tail), as traffic arrives
// in production: about 280 agents per batch of 1,000.
//
//	go test -run '^$' -bench 'SQLiteIngest/(batch=1000$|zipf)' -benchtime 3s ./store/sqlite
func BenchmarkSQLiteIngest(b *testing.B) {
	s := loadedStore(b)
	benchdata.RunIngest(b, s, 1, 100, 1000, 10_000)
	b.Run("zipf/batch=1000", func(b *testing.B) { ingestZipf(b, s, 1000) })
}

// ingestZipf measures PutSessions in batches of size new sessions, started after the data set
// and after each other, whose agents follow the data set's zipf load. It reports sessions/s.
func ingestZipf(b *testing.B, s *Store, size int) {
	ctx := context.Background()
	agents := benchdata.AgentList()
	rng := rand.New(rand.NewPCG(benchdata.Seed, 3))
	zipf := rand.NewZipf(rng, 1.1, 1, benchdata.Agents-1)
	start := benchdata.End.Add(24 * time.Hour) // after RunIngest's sessions
	batch := make([]sessions.Session, size)
	written := 0
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			t := start.Add(time.Duration(written+i) * time.Millisecond)
			batch[i] = sessions.Session{
				ID: sessions.NewSessionID(t), AccountID: benchdata.Account, AgentID: agents[zipf.Uint64()].ID,
				StartedAt: t, EndedAt: t.Add(time.Minute), Status: sessions.StatusOK,
				RedactionsByKind: map[string]int{"NAME": 1, "PHONE": 2},
				UpstreamModel:    "gpt-4o-mini",
			}
		}
		b.StartTimer()
		if err := s.PutSessions(ctx, batch...); err != nil {
			b.Fatal(err)
		}
		written += size
	}
	b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "sessions/s")
}
