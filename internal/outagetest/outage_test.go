package outagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/internal/testscale"
	"github.com/masker-dev/sessions/store/postgres"
)

// The phases of the outage, in order.
const (
	phaseUp         int32 = iota // the server runs
	phaseStopping                // pg_ctl stop -m immediate is under way
	phaseDown                    // the server is stopped
	phaseRestarting              // pg_ctl start is under way
	phaseRestarted               // the server runs again
)

var phaseNames = []string{"up", "stopping", "down", "restarting", "restarted"}

// Bounds of the test.
const (
	account       = "acct_outage"
	readers       = 4
	writers       = 4
	apiTimeout    = 2 * time.Second // httpapi.Config.Timeout
	writeTimeout  = 3 * time.Second // the context of each PutSessions
	clientTimeout = 5 * time.Second // the HTTP client's; never reached by a 503
	maxOpTime     = 5 * time.Second // the longest any operation may take: its timeout and 2 s (-race, a busy machine), no hang
	recoveryLimit = 15 * time.Second
)

// op is one operation of a client, with the phases it started and ended in.
type op struct {
	write      bool
	start, end int32
	took       time.Duration
	ok         bool   // 200, or PutSessions returned nil
	problem    string // what was wrong with it, if anything
	at         time.Time
}

// recorder collects the operations of every client and the acknowledged session IDs.
type recorder struct {
	mu    sync.Mutex
	ops   []op
	acked map[string]bool
}

func (r *recorder) add(o op, acked ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, o)
	for _, id := range acked {
		r.acked[id] = true
	}
}

// TestPostgresOutage stops the PostgreSQL server of a store behind the HTTP API, under load from
// readers (over HTTP) and writers (PutSessions), and starts it again. It checks that:
//   - while the server is down, every list gets 503 unavailable with Retry-After and the error
//     envelope, and every PutSessions an error matching sessions.ErrUnavailable: never a 500,
//     another error, or an operation slower than the timeouts;
//   - after the restart, lists and writes succeed again on the same store and server, without
//     reopening anything;
//   - every session whose PutSessions returned nil, before, during or after the outage, is in
//     the store in the end.
func TestPostgresOutage(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	openCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	store, err := postgres.Open(openCtx, c.connString())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	agents := []string{sessions.NewAgentID(), sessions.NewAgentID()}
	for _, id := range agents {
		if err := store.PutAgent(ctx, sessions.Agent{ID: id, AccountID: account, Name: "outage"}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := httpapi.New(httpapi.Config{
		Store:        store,
		Authenticate: func(*http.Request) (string, error) { return account, nil },
		CursorKey:    make([]byte, httpapi.MinCursorKeyLen),
		Timeout:      apiTimeout,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	client.Timeout = clientTimeout

	var phase atomic.Int32
	rec := &recorder{acked: map[string]bool{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := srv.URL + "/api/v1/sessions?limit=50"
			if i%2 == 1 {
				target = srv.URL + "/api/v1/agents/" + agents[i%len(agents)] + "/sessions?limit=20&since=1h"
			}
			for !stopped(stop) {
				rec.add(read(client, target, &phase))
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for !stopped(stop) {
				o, ids := write(store, agents, rng, &phase)
				rec.add(o, ids...)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}

	// How long the clients run in the first phases. The small data sets halve them: the readers
	// and writers, 5 ms apart, still make dozens of operations in each, and checkOps fails a run
	// without a failed operation while the server was down or a success before.
	ms := func(small, large int) time.Duration {
		return time.Duration(testscale.Pick(small, large)) * time.Millisecond
	}
	time.Sleep(ms(500, 1000))
	phase.Store(phaseStopping)
	c.crash()
	phase.Store(phaseDown)
	time.Sleep(ms(750, 1500))
	phase.Store(phaseRestarting)
	c.start()
	phase.Store(phaseRestarted)
	restarted := time.Now()
	// Let the clients run until both kinds of operation have succeeded again, and a while more.
	deadline := time.Now().Add(recoveryLimit)
	for time.Now().Before(deadline) && !(recovered(rec, false, restarted) && recovered(rec, true, restarted)) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(ms(500, 1000))
	close(stop)
	wg.Wait()

	checkOps(t, rec, restarted)

	// Full service on the same store and server: every operation succeeds now.
	for i := range 10 {
		if o := read(client, srv.URL+"/api/v1/sessions?limit=100", &phase); !o.ok {
			t.Errorf("list %d after recovery: %s", i, o.problem)
		}
		o, ids := write(store, agents, rand.New(rand.NewPCG(99, uint64(i))), &phase)
		if !o.ok {
			t.Errorf("write %d after recovery: %s", i, o.problem)
		}
		rec.add(o, ids...)
	}

	// Every acknowledged write is there.
	got := map[string]bool{}
	f := sessions.Filter{AccountID: account, Limit: sessions.MaxLimit}
	for {
		p, err := store.ListSessions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Sessions {
			got[s.ID] = true
		}
		if p.Next == nil {
			break
		}
		f.After = p.Next
	}
	missing := 0
	for id := range rec.acked {
		if !got[id] {
			missing++
			if missing <= 10 {
				t.Errorf("acknowledged session %s is missing after the restart", id)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged sessions are missing", missing, len(rec.acked))
	}
	// The store may hold more: a write whose commit reached the server but whose answer did not
	// gives ErrUnavailable, and the caller retries it (an upsert) or not.
	t.Logf("%d acknowledged sessions, %d in the store", len(rec.acked), len(got))
}

func stopped(stop chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// read lists target over HTTP and checks the response: 200 with a page, or 503 unavailable with
// Retry-After and the envelope.
func read(client *http.Client, target string, phase *atomic.Int32) op {
	o := op{start: phase.Load(), at: time.Now()}
	t0 := time.Now()
	res, err := client.Get(target)
	o.took = time.Since(t0)
	o.end = phase.Load()
	if err != nil {
		o.problem = fmt.Sprintf("GET: %v (a hang past the client's timeout?)", err)
		return o
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	switch res.StatusCode {
	case http.StatusOK:
		var p struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Data == nil {
			o.problem = fmt.Sprintf("200 with a bad body: %s", body)
		}
		o.ok = o.problem == ""
	case http.StatusServiceUnavailable:
		var env struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Error.Code != "unavailable" {
			o.problem = fmt.Sprintf("503 without the unavailable envelope: %s", body)
		} else if res.Header.Get("Retry-After") == "" {
			o.problem = "503 without Retry-After"
		}
	default:
		o.problem = fmt.Sprintf("status %d: %s", res.StatusCode, body)
	}
	return o
}

// write puts a batch of one to three new sessions, and returns their IDs if PutSessions
// acknowledged them.
func write(store sessions.Store, agents []string, rng *rand.Rand, phase *atomic.Int32) (op, []string) {
	o := op{write: true, start: phase.Load(), at: time.Now()}
	var batch []sessions.Session
	var ids []string
	for range 1 + rng.IntN(3) {
		start := time.Now().Add(-time.Duration(rng.IntN(3600)) * time.Second).UTC().Truncate(time.Millisecond)
		s := sessions.Session{
			ID:               sessions.NewSessionID(start),
			AccountID:        account,
			AgentID:          agents[rng.IntN(len(agents))],
			StartedAt:        start,
			EndedAt:          start.Add(time.Duration(rng.IntN(5000)) * time.Millisecond),
			Status:           sessions.StatusOK,
			RedactionsByKind: map[string]int{"PHONE": rng.IntN(3)},
		}
		batch = append(batch, s)
		ids = append(ids, s.ID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	t0 := time.Now()
	err := store.PutSessions(ctx, batch...)
	o.took = time.Since(t0)
	o.end = phase.Load()
	switch {
	case err == nil:
		o.ok = true
		return o, ids
	case !errors.Is(err, sessions.ErrUnavailable):
		o.problem = fmt.Sprintf("PutSessions: %v, want nil or ErrUnavailable", err)
	}
	return o, nil
}

// recovered reports whether an operation of the kind succeeded after the restart.
func recovered(rec *recorder, write bool, restarted time.Time) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, o := range rec.ops {
		if o.write == write && o.ok && o.start == phaseRestarted && !o.at.Before(restarted) {
			return true
		}
	}
	return false
}

// checkOps checks every operation recorded: no problem, none slower than maxOpTime; while the
// server was down, reads and writes both happened and all failed as unavailable; after the
// restart, both succeeded within recoveryLimit.
func checkOps(t *testing.T, rec *recorder, restarted time.Time) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	type tally struct{ ok, failed int }
	counts := map[string]*tally{}
	var recoveredRead, recoveredWrite time.Duration = -1, -1
	for _, o := range rec.ops {
		kind := "read"
		if o.write {
			kind = "write"
		}
		if o.problem != "" {
			t.Errorf("%s in phase %s..%s: %s", kind, phaseNames[o.start], phaseNames[o.end], o.problem)
		}
		if o.took > maxOpTime {
			t.Errorf("%s in phase %s..%s took %s, more than %s", kind, phaseNames[o.start], phaseNames[o.end], o.took, maxOpTime)
		}
		key := kind + " " + phaseNames[o.start] + ".." + phaseNames[o.end]
		if counts[key] == nil {
			counts[key] = &tally{}
		}
		if o.ok {
			counts[key].ok++
		} else {
			counts[key].failed++
		}
		if o.start == phaseDown && o.end == phaseDown && o.ok {
			t.Errorf("%s succeeded while the server was down", kind)
		}
		if o.ok && o.start == phaseRestarted {
			d := o.at.Sub(restarted)
			if o.write && (recoveredWrite < 0 || d < recoveredWrite) {
				recoveredWrite = d
			}
			if !o.write && (recoveredRead < 0 || d < recoveredRead) {
				recoveredRead = d
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(counts)) {
		c := counts[key]
		t.Logf("%-30s ok %5d  unavailable %5d", key, c.ok, c.failed)
	}
	for _, kind := range []string{"read", "write"} {
		if c := counts[kind+" down..down"]; c == nil || c.failed == 0 {
			t.Errorf("no %s ran entirely while the server was down: the outage was not exercised", kind)
		}
		if c := counts[kind+" up..up"]; c == nil || c.ok == 0 {
			t.Errorf("no %s succeeded before the outage", kind)
		}
	}
	if recoveredRead < 0 || recoveredWrite < 0 {
		t.Errorf("service did not resume within %s of the restart (first read %s, first write %s)", recoveryLimit, recoveredRead, recoveredWrite)
	} else {
		t.Logf("first successful read %s and write %s after the restart", recoveredRead, recoveredWrite)
	}
}
