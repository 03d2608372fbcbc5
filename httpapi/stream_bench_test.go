package httpapi

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// benchStream opens a stream of account A on srv for a benchmark and reads its opening. It
// returns a function that reads up to the next event's data line.
func benchStream(b *testing.B, srv *httptest.Server, cookie string) (next func() string) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/sessions/stream", nil)
	req.Header.Set("Cookie", cookie)
	res, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b.Fatalf("status %d", res.StatusCode)
	}
	b.Cleanup(func() { res.Body.Close() })
	r := bufio.NewReader(res.Body)
	read := func() string {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return ""
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				return data
			}
		}
	}
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "retry:") {
		b.Fatalf("opening %q", line)
	}
	return read
}

// quantile returns the q quantile of sorted durations, in milliseconds.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(q*float64(len(sorted)-1))]) / float64(time.Millisecond)
}

// BenchmarkStreamLatency measures the time from PutSessions returning to the event reaching an
// SSE client over loopback, on the memory store: one write at a time, p50 and p99.
func BenchmarkStreamLatency(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	srv := httptest.NewServer(e.h)
	b.Cleanup(srv.Close)
	next := benchStream(b, srv, e.cookieA)
	lat := make([]time.Duration, 0, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := session(accountA, e.agentA1, time.Duration(i+1)*time.Millisecond)
		if err := e.store.PutSessions(ctx, s); err != nil {
			b.Fatal(err)
		}
		put := time.Now()
		if data := next(); !strings.Contains(data, s.ID) {
			b.Fatalf("event %q, want %s", data, s.ID)
		}
		lat = append(lat, time.Since(put))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(quantile(lat, 0.5), "p50-ms")
	b.ReportMetric(quantile(lat, 0.99), "p99-ms")
}

// BenchmarkStreamFanout opens many streams of one account and writes sessions at a fixed rate,
// then reports the lag from PutSessions returning to each event (p50, p99, and p99 of the last
// tenth of the run, which grows if the streams fall behind), the CPU the process used per second
// of the run, and the heap per open stream. By default 20 streams, 500 sessions/s, 2 s;
// SESSIONS_BENCH_STREAMS and SESSIONS_BENCH_SECONDS change it (the target: 200 and 60).
// Each iteration is one whole run: run it with -benchtime=1x.
func BenchmarkStreamFanout(b *testing.B) {
	streams, seconds, rate := envInt(b, "SESSIONS_BENCH_STREAMS", 20), envInt(b, "SESSIONS_BENCH_SECONDS", 2), 500
	for range b.N {
		e := newEnv(b, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler); c.MaxStreamsPerAccount = streams })
		srv := httptest.NewServer(e.h)
		total := rate * seconds
		written := make([]time.Time, total) // when each PutSessions returned
		var mu sync.Mutex
		ids := map[string]int{}

		heapBefore := heapInUse()
		nexts := make([]func() string, streams)
		for i := range nexts {
			nexts[i] = benchStream(b, srv, e.cookieA)
		}
		perStream := float64(heapInUse()-heapBefore) / float64(streams)

		lags := make([][]time.Duration, streams)
		var wg sync.WaitGroup
		for i, next := range nexts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range total {
					data := next()
					at := time.Now()
					id := data[strings.Index(data, `"id":"`)+6:][:len(sessions.SessionIDPrefix)+26]
					mu.Lock()
					put := written[ids[id]]
					mu.Unlock()
					lag := time.Duration(0) // the event came before PutSessions returned
					if !put.IsZero() && at.After(put) {
						lag = at.Sub(put)
					}
					lags[i] = append(lags[i], lag)
				}
			}()
		}
		cpuBefore := cpuTime()
		start := time.Now()
		tick := time.NewTicker(time.Second / time.Duration(rate))
		for n := range total {
			<-tick.C
			s := session(accountA, e.agentA1, time.Duration(n+1)*time.Millisecond)
			mu.Lock()
			ids[s.ID] = n
			mu.Unlock()
			if err := e.store.PutSessions(context.Background(), s); err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			written[n] = time.Now()
			mu.Unlock()
		}
		tick.Stop()
		wg.Wait()
		wall := time.Since(start)
		cpu := cpuTime() - cpuBefore
		srv.CloseClientConnections()
		srv.Close()

		var all, late []time.Duration
		for _, l := range lags {
			all = append(all, l...)
			late = append(late, l[len(l)*9/10:]...)
		}
		slices.Sort(all)
		slices.Sort(late)
		b.ReportMetric(quantile(all, 0.5), "lag-p50-ms")
		b.ReportMetric(quantile(all, 0.99), "lag-p99-ms")
		b.ReportMetric(quantile(late, 0.99), "last-tenth-p99-ms")
		b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu-cores")
		b.ReportMetric(perStream/1024, "heap-KiB/stream")
	}
}

// envInt returns the positive integer in the environment variable name, or def.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// heapInUse returns the bytes of the heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
