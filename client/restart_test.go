package client_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
	"github.com/masker-dev/sessions/store/memory"
)

// outageStore is a memory store whose feed can be taken down: TailPosition and Tail then fail
// with ErrUnavailable, and the stream routes answer 503 with Retry-After. It reports each
// TailPosition it answers on positioned (a stream that opens, or is refused while down).
type outageStore struct {
	*memory.Store
	down       atomic.Bool
	positioned chan bool // true: a position was handed out; false: refused
}

func (s *outageStore) TailPosition(ctx context.Context) (string, error) {
	if s.down.Load() {
		s.positioned <- false
		return "", fmt.Errorf("%w: the feed is down", sessions.ErrUnavailable)
	}
	p, err := s.Store.TailPosition(ctx)
	s.positioned <- err == nil
	return p, err
}

func (s *outageStore) Tail(ctx context.Context, f sessions.Filter, after string, fn func(sessions.Session, string) error) error {
	if s.down.Load() {
		return fmt.Errorf("%w: the feed is down", sessions.ErrUnavailable)
	}
	return s.Store.Tail(ctx, f, after, fn)
}

// replica is where the client's connections go: the address of the server of the moment, so that
// a server restarted on another port is the same service to the client. It reports each dial
// that fails on refused.
type replica struct {
	addr    atomic.Value // string
	refused chan struct{}
	mu      sync.Mutex
	lastIDs []string // the Last-Event-ID of each stream request
}

func (rp *replica) serve(h http.Handler) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.lastIDs = append(rp.lastIDs, r.Header.Get("Last-Event-ID"))
		rp.mu.Unlock()
		h.ServeHTTP(shortWaits{w}, r)
	}))
	rp.addr.Store(srv.Listener.Addr().String())
	return srv
}

// shortWaits is a ResponseWriter that asks the client for waits of a fraction of a second where
// the API asks for seconds: a Retry-After of 1 (the least there is) on a 503, and a stream's
// retry field of 200 ms. The client waits for them as it would for the API's own, and the test
// spends about 4 s less waiting.
type shortWaits struct{ http.ResponseWriter }

func (w shortWaits) WriteHeader(code int) {
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") != "" {
		w.Header().Set("Retry-After", "1")
	}
	w.ResponseWriter.WriteHeader(code)
}

// streamRetryField is the retry field that opens a stream.
var streamRetryField = regexp.MustCompile(`^retry: [0-9]+\n`)

func (w shortWaits) Write(p []byte) (int, error) {
	if loc := streamRetryField.FindIndex(p); loc != nil {
		_, err := w.ResponseWriter.Write(append([]byte("retry: 200\n"), p[loc[1]:]...))
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap returns the writer underneath, for http.ResponseController (the stream flushes with it).
func (w shortWaits) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (rp *replica) httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, rp.addr.Load().(string))
			if err != nil {
				select {
				case rp.refused <- struct{}{}:
				default:
				}
			}
			return c, err
		},
	}}
}

// TestTailServerRestart follows a tail through a server that goes away mid-stream, stays away
// while sessions are written, and comes back first with its store down (503 with Retry-After)
// and then up: the client receives every session once, in order, those written during the
// downtime included, resuming with the ID of the last event it received.
func TestTailServerRestart(t *testing.T) {
	t.Parallel() // waits for retries, and spends almost no CPU
	st := &outageStore{Store: memory.New(), positioned: make(chan bool, 16)}
	defer st.Close()
	ctx := t.Context()
	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: account, Name: "Front desk"}
	if err := st.PutAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	var written []string
	write := func() {
		t.Helper()
		start := now.Add(time.Duration(len(written)) * time.Second)
		s := sessions.Session{
			ID: sessions.NewSessionID(start), AccountID: account, AgentID: agent.ID,
			StartedAt: start, EndedAt: start.Add(time.Minute), Status: sessions.StatusOK,
			RedactionsByKind: map[string]int{"NAME": 1},
		}
		if err := st.PutSessions(ctx, s); err != nil {
			t.Fatal(err)
		}
		written = append(written, s.ID)
	}
	expect := func(positioned bool) {
		t.Helper()
		if got := <-st.positioned; got != positioned {
			t.Fatalf("TailPosition answered %v, want %v", got, positioned)
		}
	}

	rp := &replica{refused: make(chan struct{}, 1)}
	h := newHandler(t, st)
	srv1 := rp.serve(h)
	c, err := client.New("http://sessions.test", client.WithBearerToken(token), client.WithHTTPClient(rp.httpClient()))
	if err != nil {
		t.Fatal(err)
	}
	tailCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	events := make(chan client.Event)
	tailErr := make(chan error, 1)
	go func() {
		for ev, err := range c.Tail(tailCtx, client.Query{}, "") {
			if err != nil {
				tailErr <- err
				return
			}
			select {
			case events <- ev:
			case <-tailCtx.Done():
				return
			}
		}
	}()
	var got []string
	var lastID string
	receive := func(n int) {
		t.Helper()
		for range n {
			select {
			case ev := <-events:
				got, lastID = append(got, ev.Session.ID), ev.ID
			case err := <-tailErr:
				t.Fatalf("after %d sessions: %v", len(got), err)
			}
		}
	}

	expect(true) // the stream is open: every write from now on is delivered
	write()
	write()
	write()
	receive(3)
	beforeRestart := lastID

	// The server goes away with the stream open, and stays away while sessions are written.
	srv1.CloseClientConnections()
	srv1.Close()
	write()
	write()
	<-rp.refused

	// Another server with the same store and key comes up while the store is down: 503, with
	// Retry-After, until it is back.
	st.down.Store(true)
	srv2 := rp.serve(newHandler(t, st))
	defer srv2.Close()
	expect(false)
	st.down.Store(false)
	expect(true)
	receive(2)
	write()
	write() // a sentinel: the next event after the sixth is the seventh, nothing repeated
	receive(2)
	cancel()

	if diff := cmp.Diff(written, got); diff != "" {
		t.Errorf("sessions received (-written +received):\n%s", diff)
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if n := len(rp.lastIDs); n < 3 || rp.lastIDs[0] != "" || rp.lastIDs[n-1] != beforeRestart {
		t.Errorf("Last-Event-ID of each stream request %q: want \"\" first and, last, the ID of the third event %q", rp.lastIDs, beforeRestart)
	}
}
