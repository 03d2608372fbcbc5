package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
)

var (
	benchOnce  sync.Once
	benchStore *Store
)

// loadedStore returns a store holding the benchmark data set (benchdata.Size() sessions), loaded
// once per process into a file under the system's temporary directory, which the process
// leaves behind for the system to clean.
func loadedStore(b *testing.B) *Store {
	b.Helper()
	benchOnce.Do(func() {
		n, err := benchdata.Size()
		if err != nil {
			b.Fatal(err)
		}
		dir, err := os.MkdirTemp("", "sessions-bench-")
		if err != nil {
			b.Fatal(err)
		}
		s, err := Open(context.Background(), filepath.Join(dir, "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		benchdata.Load(b, s, n, 1000)
		if _, err := s.write.Exec("ANALYZE"); err != nil {
			b.Fatal(err)
		}
		benchStore = s
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
// kinds, building Sessions and the Page).
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
		b.Run("bare/"+c.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := s.read.QueryContext(ctx, query, args...)
				if err != nil {
					b.Fatal(err)
				}
				var id, agentID, status, kinds, model string
				var name *string
				var started, ended int64
				for rows.Next() {
					if err := rows.Scan(&id, &agentID, &started, &ended, &status, &kinds, &model, &name); err != nil {
						b.Fatal(err)
					}
				}
				if err := rows.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSQLiteIngest measures PutSessions in batches of 1, 100, 1,000 and 10,000 into the
// loaded data set.
func BenchmarkSQLiteIngest(b *testing.B) {
	benchdata.RunIngest(b, loadedStore(b), 1, 100, 1000, 10_000)
}
