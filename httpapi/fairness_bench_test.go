package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/internal/benchdata"
)

// BenchmarkFairness measures what one account's heavy use costs another's, over loopback with
// the default Config (MaxAccountCalls 4), on SQLite and, when SESSIONS_TEST_POSTGRES_URL is set,
// PostgreSQL (vacuumed and analyzed after the load). Account A holds the benchmark data set
// (benchdata: 100,000 sessions, SESSIONS_BENCH_SIZE=1000000 for a million); account B one agent
// with 10,000 sessions. Four clients of B ask for first pages of 25 of B's agent over 30 days,
// b.N requests in all: alone ("alone"), then while 32 clients of A ask without pause for the
// filter that matches nothing, min_redactions=1000000000 over 30 days, the request of issue 16
// ("beside-32-rare"). It reports B's latency percentiles (p50-ms, p99-ms), B's responses other
// than 200 (b-not-ok: the target is none), and A's requests per second answered 200 and 429.
//
//	go test -run '^$' -bench Fairness -benchtime 2000x ./httpapi
func BenchmarkFairness(b *testing.B) {
	n, err := benchdata.Size()
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range benchStores {
		if st.name == "memory" {
			continue // the figures are of the SQL stores, whose connections a page holds
		}
		b.Run(st.name, func(b *testing.B) {
			store, prepare := st.open(b)
			defer store.Close()
			benchdata.Load(b, store, n, 10_000)
			other := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct_other", Name: "Reception"}
			if err := store.PutAgent(context.Background(), other); err != nil {
				b.Fatal(err)
			}
			batch := make([]sessions.Session, 0, 10_000)
			for i := range cap(batch) {
				at := benchdata.End.Add(-time.Duration(i) * time.Minute)
				batch = append(batch, sessions.Session{ID: sessions.NewSessionID(at), AccountID: other.AccountID, AgentID: other.ID,
					StartedAt: at, EndedAt: at.Add(time.Minute), Status: sessions.StatusOK, RedactionsByKind: map[string]int{"NAME": i % 3}})
			}
			if err := store.PutSessions(context.Background(), batch...); err != nil {
				b.Fatal(err)
			}
			if prepare != nil {
				if err := prepare(); err != nil {
					b.Fatal(err)
				}
			}
			api, err := httpapi.New(httpapi.Config{
				Store:            store,
				Authenticate:     func(r *http.Request) (string, error) { return r.Header.Get("X-Account"), nil },
				Now:              func() time.Time { return benchdata.End },
				CursorKey:        []byte("benchmark-cursor-key-of-32-bytes"),
				DisableAccessLog: true,
			})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(api)
			defer srv.Close()
			ordinary := srv.URL + "/api/v1/agents/" + other.ID + "/sessions?since=30d&limit=25"
			rare := srv.URL + "/api/v1/sessions?since=30d&limit=1&min_redactions=1000000000"

			for _, phase := range []string{"alone", "beside-32-rare"} {
				b.Run(phase, func(b *testing.B) {
					var stop atomic.Bool
					var rareOK, rareLimited atomic.Int64
					var wg sync.WaitGroup
					if phase != "alone" {
						client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
						defer client.CloseIdleConnections()
						for range 32 {
							wg.Add(1)
							go func() {
								defer wg.Done()
								for !stop.Load() {
									switch get(b, client, rare, benchdata.Account) {
									case http.StatusOK:
										rareOK.Add(1)
									case http.StatusTooManyRequests:
										rareLimited.Add(1)
									}
								}
							}()
						}
						time.Sleep(500 * time.Millisecond) // A's load under way
					}
					rareOK.Store(0)
					rareLimited.Store(0)
					latencies, notOK := loadLoop(b, 4, func(client *http.Client, _ int) int { return get(b, client, ordinary, other.AccountID) })
					elapsed := b.Elapsed().Seconds()
					stop.Store(true)
					wg.Wait()
					b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(notOK), "b-not-ok")
					b.ReportMetric(float64(rareOK.Load())/elapsed, "a-200/s")
					b.ReportMetric(float64(rareLimited.Load())/elapsed, "a-429/s")
				})
			}
		})
	}
}

// loadLoop runs b.N calls of do (the i-th with i) from workers goroutines that share one client,
// timed between ResetTimer and StopTimer, and returns the calls' latencies, sorted, and how many
// of them did not return 200.
func loadLoop(b *testing.B, workers int, do func(client *http.Client, i int) int) ([]time.Duration, int) {
	var next, notOK atomic.Int64
	latencies := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
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
				start := time.Now()
				if do(client, int(i)) != http.StatusOK {
					notOK.Add(1)
				}
				latencies[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(latencies)
	return latencies, int(notOK.Load())
}

// get sends GET url as account, reads the whole response, and returns its status; 0 when the
// request failed.
func get(b *testing.B, client *http.Client, url, account string) int {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		b.Error(err)
		return 0
	}
	req.Header.Set("X-Account", account)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(fmt.Errorf("GET %s: %w", url, err))
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
