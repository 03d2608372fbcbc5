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
// store, SQLite, and PostgreSQL when SESSIONS_TEST_POSTGRES_URL is set. Each iteration is one
// whole export read by a client. It reports sessions/s; heap-MB, the largest Go heap (objects
// live and not yet collected, client included, the memory store's sessions included) while the
// exports streamed, sampled every 5 ms; and live-MB, how much the live heap measured by the
// collector grew above the loaded store: what an export keeps alive, which stays flat however
// many sessions stream.
func BenchmarkExport(b *testing.B) {
	n, err := benchdata.Size()
	if err != nil {
		b.Fatal(err)
	}
	stores := []struct {
		name string
		open func(b *testing.B) sessions.Store
	}{
		{"memory", func(b *testing.B) sessions.Store { return memory.New() }},
		{"sqlite", func(b *testing.B) sessions.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) sessions.Store {
			pool, _ := pgtest.NewSchema(b) // skips without SESSIONS_TEST_POSTGRES_URL
			s, err := postgres.New(context.Background(), pool)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			store := st.open(b)
			defer store.Close()
			benchdata.Load(b, store, n, 10_000)
			api, err := httpapi.New(httpapi.Config{
				Store:        store,
				Authenticate: func(*http.Request) (string, error) { return benchdata.Account, nil },
				Now:          func() time.Time { return benchdata.End },
				CursorKey:    []byte("benchmark-cursor-key-of-32-bytes"),
			})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(api)
			defer srv.Close()
			for _, format := range []string{"csv", "ndjson"} {
				b.Run(format, func(b *testing.B) {
					runExport(b, srv.URL+"/api/v1/sessions/export?since=91d&format="+format, n)
				})
			}
		})
	}
}

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
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "sessions/s")
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "heap-MB")
	b.ReportMetric(float64(max(int64(peakLive.Load())-int64(baseLive), 0))/(1<<20), "live-MB")
}
