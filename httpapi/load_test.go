package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/store/memory"
)

// BenchmarkHTTPLoad serves the benchmark data set from the memory store over loopback, and
// sends b.N requests for first pages of 25 (spread over the 100 busiest agents) from a load loop
// of bounded concurrency, reporting requests per second and latency percentiles. Each request
// is a whole round trip through net/http: client, connection, handler, JSON.
func BenchmarkHTTPLoad(b *testing.B) {
	n, err := benchdata.Size()
	if err != nil {
		b.Fatal(err)
	}
	store := memory.New()
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
	agents := benchdata.AgentList()[:100]

	for _, workers := range []int{4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
			defer client.CloseIdleConnections()
			var next atomic.Int64
			latencies := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.ResetTimer()
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						url := srv.URL + "/api/v1/agents/" + agents[i%int64(len(agents))].ID + "/sessions?since=90d"
						start := time.Now()
						resp, err := client.Get(url)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						latencies[i] = time.Since(start)
						if resp.StatusCode != http.StatusOK {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
