package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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
			latencies, notOK := loadLoop(b, workers, func(client *http.Client, i int) int {
				return get(b, client, srv.URL+"/api/v1/agents/"+agents[i%len(agents)].ID+"/sessions?since=90d", benchdata.Account)
			})
			if notOK > 0 {
				b.Errorf("%d of %d requests did not return 200", notOK, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
