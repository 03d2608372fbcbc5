package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/masker-dev/sessions/internal/benchdata"
)

// benchFileEnv names a database file that keeps the benchmark data set between runs: a
// benchmark that finds it there reads it, and one that does not loads it there and leaves it,
// so that only the first run at a size pays for the load (minutes at 1,000,000 sessions on a
// busy machine). Without it, the data set is loaded into a temporary file that TestMain
// removes. A file holding another number of sessions than benchdata.Size() fails the benchmark.
//
//	SESSIONS_BENCH_DB=/var/tmp/sessions-1m.db SESSIONS_BENCH_SIZE=1000000 go test -run '^$' -bench SQLiteSummary ./store/sqlite
const benchFileEnv = "SESSIONS_BENCH_DB"

// openBenchFile returns a store holding the data set of n sessions: the file of benchFileEnv,
// loaded unless it exists, or a new temporary file.
func openBenchFile(b *testing.B, n int) *Store {
	b.Helper()
	ctx := context.Background()
	path := os.Getenv(benchFileEnv)
	if path == "" {
		dir, err := os.MkdirTemp("", "sessions-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		path = filepath.Join(dir, "bench.db")
	}
	_, err := os.Stat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.Fatal(err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	if exists {
		var stored int
		if err := s.read.QueryRow("SELECT count(*) FROM sessions").Scan(&stored); err != nil {
			b.Fatal(err)
		}
		if stored != n && stored != n+benchdata.BusySize(b) { // with the busy agent's, once written
			b.Fatalf("%s=%s holds %d sessions, not the %d of the data set: remove it or set SESSIONS_BENCH_SIZE", benchFileEnv, path, stored, n)
		}
		return s
	}
	begin := time.Now()
	benchdata.Load(b, s, n, 10_000)
	if _, err := s.write.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	// On stderr: the log of a benchmark shows only with -v.
	fmt.Fprintf(os.Stderr, "benchmark file %s: loaded %d sessions in %v\n", path, n, time.Since(begin).Round(time.Millisecond))
	return s
}
