package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/store/memory"
	"github.com/masker-dev/sessions/store/postgres"
	"github.com/masker-dev/sessions/store/sqlite"
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
	// ReadSlice, which copies nothing, fits every line in the reader's 4 KiB: only data lines are
	// copied, since the client's CPU counts in the figures.
	r := bufio.NewReader(res.Body)
	read := func() string {
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return ""
			}
			if data, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				return string(data)
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

// streamStores are the stores of the stream benchmarks: memory, SQLite in a temporary
// directory, and PostgreSQL in a schema of its own when SESSIONS_TEST_POSTGRES_URL is set
// (skipped otherwise). open returns an empty store, which serves the streams (newEnvOn closes
// it), and the store to write through: the same one, except on PostgreSQL, where it is a second
// Store on the same pool and schema, closed when the benchmark ends.
var streamStores = []struct {
	name string
	open func(b *testing.B) (store, writer sessions.Store)
}{
	{"memory", func(*testing.B) (sessions.Store, sessions.Store) {
		s := memory.New()
		return s, s
	}},
	{"sqlite", func(b *testing.B) (sessions.Store, sessions.Store) {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "stream.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s, s
	}},
	{"postgres", func(b *testing.B) (sessions.Store, sessions.Store) {
		pool, _ := pgtest.NewSchema(b) // skips without SESSIONS_TEST_POSTGRES_URL
		open := func() *postgres.Store {
			s, err := postgres.New(context.Background(), pool)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
		store, writer := open(), open()
		b.Cleanup(func() { writer.Close() }) // runs before the pool's Close, registered earlier
		return store, writer
	}},
}

// BenchmarkStreamLatency measures the time from PutSessions returning to the event's data line
// reaching an SSE client over loopback, one write at a time (b.N writes), and reports its p50
// and p99. The handler serves the stream from one store, written to by: on memory and SQLite,
// the same store, which wakes the stream in the process (on SQLite, the store's own writes wake
// its tails; another store on the file would be seen only by the tail's 1 s poll); on
// PostgreSQL, when SESSIONS_TEST_POSTGRES_URL is set, a second Store on the same schema, as
// another process would be, so that the wake-up goes through LISTEN/NOTIFY:
//
//	SESSIONS_TEST_POSTGRES_URL=... go test -run '^$' -bench BenchmarkStreamLatency -benchtime 500x ./httpapi
func BenchmarkStreamLatency(b *testing.B) {
	for _, st := range streamStores {
		b.Run(st.name, func(b *testing.B) {
			store, writer := st.open(b)
			streamLatency(b, store, writer)
		})
	}
}

// streamLatency is BenchmarkStreamLatency on store, which serves the stream and which it closes,
// with writer writing the sessions.
func streamLatency(b *testing.B, store, writer sessions.Store) {
	e := newEnvOn(b, store, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	srv := httptest.NewServer(e.h)
	b.Cleanup(srv.Close)
	next := benchStream(b, srv, e.cookieA)
	lat := make([]time.Duration, 0, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := session(accountA, e.agentA1, time.Duration(i+1)*time.Millisecond)
		if err := writer.PutSessions(ctx, s); err != nil {
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
// on the memory store, SQLite, and PostgreSQL when SESSIONS_TEST_POSTGRES_URL is set. It reports
// the lag from PutSessions returning to each event: p50 and p99 of the whole run, and of each
// 10 s slice of the writes (slice-00s-p99-ms is the p99 of the sessions written in the first
// 10 s of the schedule), which grows from slice to slice if the streams fall behind; the rate
// the writer kept (write-rate, sessions/s: below the target rate when it could not keep up);
// the CPU the process (server and clients) used per second of the run, and per event received
// (cpu-us/event, which depends less on how much of a shared machine the run gets); and the
// heap per open stream. By default 20 streams, 500 sessions/s in calls of one session, 2 s;
// SESSIONS_BENCH_STREAMS and SESSIONS_BENCH_SECONDS change it (the target: 200 and 60),
// and SESSIONS_BENCH_BATCH the sessions of each PutSessions call (the same 500 sessions/s in
// fewer calls: SQLite syncs each commit to disk, which bounds its calls per second). Each
// iteration is one whole run: run it with -benchtime=1x.
func BenchmarkStreamFanout(b *testing.B) {
	streams, seconds := envInt(b, "SESSIONS_BENCH_STREAMS", 20), envInt(b, "SESSIONS_BENCH_SECONDS", 2)
	batch := envInt(b, "SESSIONS_BENCH_BATCH", 1)
	for _, st := range streamStores {
		b.Run(st.name, func(b *testing.B) {
			for range b.N {
				store, _ := st.open(b)
				fanout(b, store, streams, seconds, batch)
			}
		})
	}
}

// fanoutRate is the rate at which BenchmarkStreamFanout writes, in sessions per second, and
// fanoutSlice the length of the schedule over which it reports each slice of the lag.
const (
	fanoutRate  = 500
	fanoutSlice = 10
)

// fanout is one run of BenchmarkStreamFanout on store, which it closes: streams streams, for
// seconds, batch sessions a call.
func fanout(b *testing.B, store sessions.Store, streams, seconds, batch int) {
	e := newEnvOn(b, store, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler); c.MaxStreamsPerAccount = streams })
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	total := fanoutRate * seconds
	// The sessions, made before the run, and the index of each by ID, read by every client
	// without a lock; written[n] is when PutSessions of session n returned, in Unix nanoseconds.
	ss := make([]sessions.Session, total)
	index := make(map[string]int, total)
	for n := range ss {
		ss[n] = session(accountA, e.agentA1, time.Duration(n+1)*time.Millisecond)
		index[ss[n].ID] = n
	}
	written := make([]atomic.Int64, total)

	heapBefore := heapInUse()
	nexts := make([]func() string, streams)
	for i := range nexts {
		nexts[i] = benchStream(b, srv, e.cookieA)
	}
	perStream := float64(heapInUse()-heapBefore) / float64(streams)

	lags := make([][]time.Duration, streams) // by stream, in the order of the writes
	var wg sync.WaitGroup
	for i, next := range nexts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lags[i] = make([]time.Duration, total)
			for range total {
				data := next()
				at := time.Now().UnixNano()
				id := data[strings.Index(data, `"id":"`)+6:][:len(sessions.SessionIDPrefix)+26]
				n, ok := index[id]
				if !ok {
					b.Errorf("event of an unknown session %s", id)
					return
				}
				if put := written[n].Load(); put != 0 && at > put { // 0: the event came first
					lags[i][n] = time.Duration(at - put)
				}
			}
		}()
	}
	cpuBefore := cpuTime()
	start := time.Now()
	for n := 0; n < total; n += batch {
		// On schedule, without skipping: a writer that falls behind writes at once, and the
		// rate it kept is reported.
		if d := time.Until(start.Add(time.Duration(n) * time.Second / fanoutRate)); d > 0 {
			time.Sleep(d)
		}
		call := ss[n:min(total, n+batch)]
		if err := e.store.PutSessions(context.Background(), call...); err != nil {
			b.Fatal(err)
		}
		at := time.Now().UnixNano()
		for k := range call {
			written[n+k].Store(at)
		}
	}
	writing := time.Since(start)
	wg.Wait()
	wall := time.Since(start)
	cpu := cpuTime() - cpuBefore
	srv.CloseClientConnections()

	var all []time.Duration
	bySlice := make([][]time.Duration, (seconds+fanoutSlice-1)/fanoutSlice)
	for _, l := range lags {
		all = append(all, l...)
		for k := range bySlice {
			bySlice[k] = append(bySlice[k], l[k*fanoutSlice*fanoutRate:min(len(l), (k+1)*fanoutSlice*fanoutRate)]...)
		}
	}
	slices.Sort(all)
	b.ReportMetric(quantile(all, 0.5), "lag-p50-ms")
	b.ReportMetric(quantile(all, 0.99), "lag-p99-ms")
	for k, l := range bySlice {
		slices.Sort(l)
		b.ReportMetric(quantile(l, 0.5), fmt.Sprintf("slice-%02ds-p50-ms", k*fanoutSlice))
		b.ReportMetric(quantile(l, 0.99), fmt.Sprintf("slice-%02ds-p99-ms", k*fanoutSlice))
	}
	b.ReportMetric(float64(total)/writing.Seconds(), "write-rate")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu-cores")
	b.ReportMetric(float64(cpu.Microseconds())/float64(total*streams), "cpu-us/event")
	b.ReportMetric(perStream/1024, "heap-KiB/stream")
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
