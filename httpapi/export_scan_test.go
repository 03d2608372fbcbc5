package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// faultyScanner is a faultyStore that is also a sessions.Scanner: scan, when set, replaces the
// ScanSessions of the store it wraps, which must be a sessions.Scanner.
type faultyScanner struct {
	faultyStore
	scans atomic.Int32
	scan  func(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error
}

func (s *faultyScanner) ScanSessions(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
	s.scans.Add(1)
	if s.scan != nil {
		return s.scan(ctx, f, fn)
	}
	return s.Store.(sessions.Scanner).ScanSessions(ctx, f, fn)
}

// withScanner wraps the env's store, a sessions.Scanner, in fs.
func withScanner(fs *faultyScanner) func(*Config) {
	return func(cfg *Config) {
		fs.Store = cfg.Store
		cfg.Store = fs
	}
}

// failAfter returns a scan of fs's store that fails with err after passing n sessions to fn.
func (fs *faultyScanner) failAfter(n int, err error) func(context.Context, sessions.Filter, func(sessions.Session) error) error {
	return func(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
		passed := 0
		scanErr := fs.Store.(sessions.Scanner).ScanSessions(ctx, f, func(s sessions.Session) error {
			if passed == n {
				return err
			}
			passed++
			return fn(s)
		})
		return scanErr
	}
}

// TestExportScans checks that an export from a sessions.Scanner reads through one ScanSessions,
// never ListSessions, and writes every session, while an export from another store walks pages
// (TestExportTimeoutPerPage).
func TestExportScans(t *testing.T) {
	fs := &faultyScanner{}
	fs.list = func(context.Context, sessions.Filter) (sessions.Page, error) {
		return sessions.Page{}, errors.New("ListSessions called")
	}
	e := newEnv(t, withScanner(fs))
	e.putMany(t, 2500)
	res := e.do(t, http.MethodGet, "/api/v1/sessions/export?since=30d", e.cookieA)
	if res.status != http.StatusOK || bytes.Count(res.body, []byte("\r\n")) != 2501 {
		t.Fatalf("status %d, %d lines: %.200s", res.status, bytes.Count(res.body, []byte("\r\n")), res.body)
	}
	if n := fs.scans.Load(); n != 1 {
		t.Errorf("%d scans; want 1", n)
	}
}

// TestExportScanFails checks the failures of a scan: before the first session, the envelope;
// after it, an aborted transfer, logged with its cause.
func TestExportScanFails(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{fmt.Errorf("disk on fire: %w", sessions.ErrUnavailable), http.StatusServiceUnavailable},
		{errors.New("corrupt batch"), http.StatusInternalServerError},
	} {
		fs := &faultyScanner{}
		fs.scan = fs.failAfter(0, tc.err)
		e := newEnv(t, withScanner(fs))
		e.putMany(t, 10)
		res := e.do(t, http.MethodGet, "/api/v1/sessions/export", e.cookieA)
		if res.status != tc.status || res.header.Get("Content-Disposition") != "" || strings.Contains(string(res.body), "corrupt") {
			t.Errorf("%v: status %d, Content-Disposition %q: %s", tc.err, res.status, res.header.Get("Content-Disposition"), res.body)
		}
	}
	for _, format := range []string{"csv", "ndjson"} {
		fs := &faultyScanner{}
		fs.scan = fs.failAfter(1500, fmt.Errorf("disk on fire: %w", sessions.ErrUnavailable))
		e := newEnv(t, withScanner(fs))
		e.putMany(t, 3000)
		body, err := exportOverHTTP(t, e, "/api/v1/sessions/export?since=30d&format="+format)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: reading the body: %v after %d bytes; want io.ErrUnexpectedEOF", format, err, len(body))
		}
		if len(body) == 0 {
			t.Errorf("%s: no byte before the failure: the test does not test an abort midway", format)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "export aborted") || !strings.Contains(logs, "disk on fire") {
			t.Errorf("%s: logs do not say why the export was aborted:\n%s", format, logs)
		}
	}
}

// TestExportScanPanics checks that a scan that panics after the first byte aborts the transfer
// too, logged with the panic, and not a file ended by an error envelope.
func TestExportScanPanics(t *testing.T) {
	fs := &faultyScanner{}
	fs.scan = func(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
		passed := 0
		return fs.Store.(sessions.Scanner).ScanSessions(ctx, f, func(s sessions.Session) error {
			if passed == 1500 {
				panic("index out of range in the driver")
			}
			passed++
			return fn(s)
		})
	}
	e := newEnv(t, withScanner(fs))
	e.putMany(t, 3000)
	body, err := exportOverHTTP(t, e, "/api/v1/sessions/export?since=30d")
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(body) == 0 || bytes.Contains(body, []byte("internal_error")) {
		t.Errorf("reading the body: %v after %d bytes, ending %q; want io.ErrUnexpectedEOF midway", err, len(body), body[max(0, len(body)-80):])
	}
	if logs := e.logs.String(); !strings.Contains(logs, "export aborted") || !strings.Contains(logs, "index out of range in the driver") {
		t.Errorf("logs do not say why the export was aborted:\n%s", logs)
	}
}

// exportOverHTTP sends a GET of target to e's handler over loopback, checks that the status is
// 200, and returns the body and the error that ended its reading.
func exportOverHTTP(tb testing.TB, e *env, target string) ([]byte, error) {
	tb.Helper()
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+target, nil)
	req.Header.Set("Cookie", e.cookieA)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("status %d", res.StatusCode)
	}
	return io.ReadAll(res.Body)
}

// stallAfter returns a scan of fs's store that passes n sessions to fn and then waits for its
// context to end, and returns the context's error: a store that stops making progress.
func (fs *faultyScanner) stallAfter(n int) func(context.Context, sessions.Filter, func(sessions.Session) error) error {
	return func(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
		passed := 0
		stalled := errors.New("stalled")
		err := fs.Store.(sessions.Scanner).ScanSessions(ctx, f, func(s sessions.Session) error {
			if passed == n {
				return stalled
			}
			passed++
			return fn(s)
		})
		if err != stalled {
			return err
		}
		select {
		case <-ctx.Done():
			return sessions.ContextError(ctx)
		case <-time.After(time.Minute):
			return errors.New("the scan's context was never cancelled")
		}
	}
}

// TestExportScanTimeoutPerBatch checks that Config.Timeout bounds each wait for a scan: a store
// that stops making progress before the first session gets 503, after it an aborted transfer;
// and that an export longer than the timeout, whose store makes progress, completes.
func TestExportScanTimeoutPerBatch(t *testing.T) {
	const timeout = 50 * time.Millisecond
	t.Run("before the first session", func(t *testing.T) {
		fs := &faultyScanner{}
		fs.scan = fs.stallAfter(0)
		e := newEnv(t, withScanner(fs), func(c *Config) { c.Timeout = timeout })
		e.putMany(t, 10)
		res := e.do(t, http.MethodGet, "/api/v1/sessions/export", e.cookieA)
		if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
			t.Errorf("status %d, Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.body)
		}
	})
	t.Run("midway", func(t *testing.T) {
		fs := &faultyScanner{}
		fs.scan = fs.stallAfter(1200)
		e := newEnv(t, withScanner(fs), func(c *Config) { c.Timeout = timeout })
		e.putMany(t, 2000)
		body, err := exportOverHTTP(t, e, "/api/v1/sessions/export?since=30d")
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(body) == 0 {
			t.Errorf("reading the body: %v after %d bytes; want io.ErrUnexpectedEOF after some", err, len(body))
		}
		if logs := e.logs.String(); !strings.Contains(logs, "export aborted") || !strings.Contains(logs, "no session from the store") {
			t.Errorf("logs do not say why the export was aborted:\n%s", logs)
		}
	})
	t.Run("slow client", func(t *testing.T) {
		// Each write to the client takes longer than the timeout: the clock of the store's
		// progress stops while the handler writes.
		e := newEnv(t, func(c *Config) { c.Timeout = timeout })
		e.putMany(t, 1200) // two batches
		w := &slowWriter{ResponseRecorder: httptest.NewRecorder(), delay: 3 * timeout}
		e.h.ServeHTTP(w, httptestRequest(http.MethodGet, "/api/v1/sessions/export?since=30d", e.cookieA))
		if w.Code != http.StatusOK || bytes.Count(w.Body.Bytes(), []byte("\r\n")) != 1201 || w.writes < 2 {
			t.Errorf("status %d, %d lines in %d writes", w.Code, bytes.Count(w.Body.Bytes(), []byte("\r\n")), w.writes)
		}
	})
}

// slowWriter is a ResponseRecorder whose every Write takes delay: a slow client.
type slowWriter struct {
	*httptest.ResponseRecorder
	delay  time.Duration
	writes int
}

func (w *slowWriter) Write(b []byte) (int, error) {
	w.writes++
	time.Sleep(w.delay)
	return w.ResponseRecorder.Write(b)
}

// TestExportHTTP2SlowStore checks that an export over HTTP/2 whose store pauses for longer than
// exportWriteWait between two batches completes: the write deadline of each write is lifted
// after it, since on HTTP/2 a deadline left to pass resets the stream even between writes.
func TestExportHTTP2SlowStore(t *testing.T) {
	defer func(d time.Duration) { exportWriteWait = d }(exportWriteWait)
	exportWriteWait = 100 * time.Millisecond
	fs := &faultyScanner{}
	fs.scan = func(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
		n := 0
		return fs.Store.(sessions.Scanner).ScanSessions(ctx, f, func(s sessions.Session) error {
			if n++; n%500 == 0 {
				time.Sleep(300 * time.Millisecond) // a slow batch, while the client reads
			}
			return fn(s)
		})
	}
	e := newEnv(t, withScanner(fs))
	e.putMany(t, 1500)
	srv := httptest.NewUnstartedServer(e.h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/sessions/export?since=30d&format=ndjson", nil)
	req.Header.Set("Cookie", e.cookieA)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if res.ProtoMajor != 2 || err != nil || bytes.Count(body, []byte("\n")) != 1500 {
		t.Errorf("over %s: %d lines, then %v; want 1500 over HTTP/2", res.Proto, bytes.Count(body, []byte("\n")), err)
	}
}
