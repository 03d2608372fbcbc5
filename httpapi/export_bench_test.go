package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/store/memory"
	"github.com/masker-dev/sessions/store/postgres"
	"github.com/masker-dev/sessions/store/sqlite"
)

// BenchmarkExport exports every session of the benchmark data set (benchdata: 100,000 sessions,
// SESSIONS_BENCH_SIZE=1000000 for a million) over loopback, as CSV and as NDJSON, from the memory
// store, SQLite, and PostgreSQL when SESSIONS_TEST_POSTGRES_URL is set (vacuumed and analyzed
// after the load). Each iteration is one whole export read by a client: through the store's
// sessions.Scanner (csv, ndjson), and, for comparison in the same run, through pages of MaxLimit
// sessions as from a store without it (csv-pages). It reports sessions/s; cpu-us/session, the
// CPU time of the process (server and client) per session, steadier than sessions/s on a shared
// machine; heap-MB, the largest Go heap (objects live and not yet collected, client included,
// the memory store's sessions included) while the exports streamed, sampled every 5 ms; and
// live-MB, how much the live heap measured by the collector grew above the loaded store: what an
// export keeps alive, which stays flat however many sessions stream.
func BenchmarkExport(b *testing.B) {
	n, err := benchdata.Size()
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			store, prepare := st.open(b)
			defer store.Close()
			benchdata.Load(b, store, n, 10_000)
			if prepare != nil {
				if err := prepare(); err != nil {
					b.Fatal(err)
				}
			}
			srvs := map[string]string{} // the server's URL, by path
			for _, path := range []struct {
				name  string
				store sessions.Store
			}{
				{"scan", store},
				{"pages", pagesOnly{store}},
			} {
				api, err := httpapi.New(httpapi.Config{
					Store:            path.store,
					Authenticate:     func(*http.Request) (string, error) { return benchdata.Account, nil },
					Now:              func() time.Time { return benchdata.End },
					CursorKey:        []byte("benchmark-cursor-key-of-32-bytes"),
					DisableAccessLog: true,
				})
				if err != nil {
					b.Fatal(err)
				}
				srv := httptest.NewServer(api)
				defer srv.Close()
				srvs[path.name] = srv.URL
			}
			for _, c := range []struct{ name, path, format string }{
				{"csv", "scan", "csv"},
				{"ndjson", "scan", "ndjson"},
				{"csv-pages", "pages", "csv"},
			} {
				b.Run(c.name, func(b *testing.B) {
					runExport(b, srvs[c.path]+"/api/v1/sessions/export?since=91d&format="+c.format, n)
				})
			}
		})
	}
}

// benchStores are the stores of the benchmarks of this package that serve a loaded data set:
// memory, SQLite, and PostgreSQL when SESSIONS_TEST_POSTGRES_URL is set (skipped otherwise). open
// returns an empty store, and prepare, when not nil, to run after the load: for PostgreSQL,
// statistics for the planner and all-visible pages for index-only scans, as autovacuum would give
// them after a while (without statistics, the planner takes the keyset range for a few rows and
// sorts it all for every page).
var benchStores = []struct {
	name string
	open func(b *testing.B) (store sessions.Store, prepare func() error)
}{
	{"memory", func(b *testing.B) (sessions.Store, func() error) { return memory.New(), nil }},
	{"sqlite", func(b *testing.B) (sessions.Store, func() error) {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s, nil
	}},
	{"postgres", func(b *testing.B) (sessions.Store, func() error) {
		pool, _ := pgtest.NewSchema(b) // skips without SESSIONS_TEST_POSTGRES_URL
		s, err := postgres.New(context.Background(), pool)
		if err != nil {
			b.Fatal(err)
		}
		return s, func() error {
			_, err := pool.Exec(context.Background(), "VACUUM (ANALYZE) agents, sessions")
			return err
		}
	}},
}

// pagesOnly hides the sessions.Scanner of a store: an export from it walks pages of MaxLimit
// sessions, as from a store without the capability.
type pagesOnly struct{ sessions.Store }

// runExport sends b.N requests for url, one at a time, each read to its end, and reports the
// figures of BenchmarkExport.
func runExport(b *testing.B, url string, want int) {
	runtime.GC()
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(samples)
	baseLive := samples[1].Value.Uint64()
	var peakHeap, peakLive atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		s := slices.Clone(samples)
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				metrics.Read(s) // does not stop the world
				if v := s[0].Value.Uint64(); v > peakHeap.Load() {
					peakHeap.Store(v)
				}
				if v := s[1].Value.Uint64(); v > peakLive.Load() {
					peakLive.Store(v)
				}
			}
		}
	}()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	buf := make([]byte, 64<<10)
	total := 0
	b.ResetTimer()
	start := time.Now()
	cpuStart, cpuOK := processCPU()
	for b.Loop() {
		res, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		lines := 0
		r := bufio.NewReaderSize(res.Body, 64<<10)
		for {
			k, err := r.Read(buf)
			lines += bytes.Count(buf[:k], []byte{'\n'})
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		if res.Header.Get("Content-Type") == "text/csv; charset=utf-8" {
			lines-- // the header row
		}
		if lines != want {
			b.Fatalf("%d sessions exported, want %d", lines, want)
		}
		total += lines
	}
	elapsed := time.Since(start)
	cpuEnd, _ := processCPU()
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "sessions/s")
	if cpuOK {
		b.ReportMetric(float64((cpuEnd-cpuStart).Microseconds())/float64(total), "cpu-us/session")
	}
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "heap-MB")
	b.ReportMetric(float64(max(int64(peakLive.Load())-int64(baseLive), 0))/(1<<20), "live-MB")
}
