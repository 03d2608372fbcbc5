package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
)

// TestSessionIDEscaping checks that a session ID is escaped once, as one path segment.
func TestSessionIDEscaping(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.EscapedPath())
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL + "/audit%20api")
	for id, want := range map[string]string{
		"sess x/y":  "/audit%20api/api/v1/sessions/sess%20x%2Fy",
		"../agents": "/audit%20api/api/v1/sessions/..%2Fagents",
		"a%2Fb?c#d": "/audit%20api/api/v1/sessions/a%252Fb%3Fc%23d",
	} {
		c.Session(t.Context(), id)
		if got.Load() != want {
			t.Errorf("Session(%q) requested %q, want %q", id, got.Load(), want)
		}
	}
}

// TestNotRetried checks that errors that a retry cannot mend are returned as they are, after one
// attempt: a header value that cannot be sent, a certificate that does not verify, too many
// redirects. None matches ErrUnavailable.
func TestNotRetried(t *testing.T) {
	var requests atomic.Int64
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1); h.ServeHTTP(w, r) })
	}
	plain := httptest.NewServer(count(http.NotFoundHandler()))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(count(http.NotFoundHandler()))
	defer tlsSrv.Close()
	var redirect *httptest.Server
	redirect = httptest.NewServer(count(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, redirect.URL+"/again", http.StatusFound)
	})))
	defer redirect.Close()

	var dials atomic.Int64
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	hc := &http.Client{Transport: tr}
	for _, tc := range []struct {
		name     string
		url      string
		opts     []client.Option
		requests int64
		dials    int64 // -1: not checked
	}{
		{"invalid header value", plain.URL, []client.Option{client.WithBearerToken("a\nb")}, 0, 0},
		{"certificate not trusted", tlsSrv.URL, nil, 0, 1},
		{"too many redirects", redirect.URL, nil, 10, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests.Store(0)
			dials.Store(0)
			c, _ := client.New(tc.url, append(tc.opts, client.WithHTTPClient(hc), client.WithRetries(3))...)
			_, err := c.Session(t.Context(), "sess_1")
			if err == nil || errors.Is(err, sessions.ErrUnavailable) || errors.As(err, new(*client.Error)) {
				t.Errorf("error %v, want one that does not match ErrUnavailable", err)
			}
			if got := requests.Load(); got != tc.requests {
				t.Errorf("%d requests reached the server, want %d", got, tc.requests)
			}
			if got := dials.Load(); tc.dials >= 0 && got != tc.dials {
				t.Errorf("%d dials, want %d", got, tc.dials)
			}
		})
	}
}

// TestRetryAfterPastDeadline checks that a Retry-After longer than what is left of ctx's
// deadline gives the response's *Error at once, not a wait that ends in ctx's error.
func TestRetryAfterPastDeadline(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := c.Session(ctx, "sess_1")
	var e *client.Error
	if !errors.As(err, &e) || e.RetryAfter != 30*time.Second || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Errorf("error %v, want the 503 at once", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls, want 1", calls.Load())
	}
}

// TestRetryAfterDate checks a Retry-After given as an HTTP date.
func TestRetryAfterDate(t *testing.T) {
	t.Parallel() // waits for retries, and spends almost no CPU
	s := newServer(t, 1)
	var calls atomic.Int64
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", time.Now().Add(time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		s.srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	c, _ := client.New(flaky.URL, client.WithBearerToken(token))
	if _, err := c.Summary(t.Context(), client.Query{}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d calls, want 2", calls.Load())
	}
}

// TestCredentialsAndTransport checks WithCookie and WithBearerToken on the wire, and that
// WithHTTPClient's transport carries every request (and that nil means the default client).
func TestCredentialsAndTransport(t *testing.T) {
	var cookie, auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("masker_session")
		if c != nil {
			cookie.Store(c.Value)
		} else {
			cookie.Store("")
		}
		auth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":[],"next_cursor":null}`)
	}))
	defer srv.Close()
	var seen atomic.Int64
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	for _, tc := range []struct {
		name         string
		opts         []client.Option
		cookie, auth string
		seen         int64
	}{
		{"cookie", []client.Option{client.WithCookie("masker_session", "c2Vzc2lvbg==")}, "c2Vzc2lvbg==", "", 0},
		{"bearer", []client.Option{client.WithBearerToken("tok")}, "", "Bearer tok", 0},
		{"custom transport", []client.Option{client.WithHTTPClient(&http.Client{Transport: rt}), client.WithBearerToken("tok")}, "", "Bearer tok", 1},
		{"nil client", []client.Option{client.WithHTTPClient(nil), client.WithCookie("masker_session", "v")}, "v", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen.Store(0)
			c, _ := client.New(srv.URL, tc.opts...)
			for _, err := range c.Sessions(t.Context(), client.Query{}) {
				t.Fatal(err)
			}
			if cookie.Load() != tc.cookie || auth.Load() != tc.auth {
				t.Errorf("cookie %q, Authorization %q; want %q, %q", cookie.Load(), auth.Load(), tc.cookie, tc.auth)
			}
			if seen.Load() != tc.seen {
				t.Errorf("the transport saw %d requests, want %d", seen.Load(), tc.seen)
			}
		})
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPageSize checks that Query.PageSize is the limit of each page.
func TestPageSize(t *testing.T) {
	var limits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limits = append(limits, r.URL.Query().Get("limit"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":[],"next_cursor":null}`)
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	for _, size := range []int{10, 0, 100} {
		for _, err := range c.Sessions(t.Context(), client.Query{PageSize: size}) {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(limits) != "[10 100 100]" {
		t.Errorf("limits %q, want [10 100 100]", limits)
	}
	for _, size := range []int{-1, 101} {
		for _, err := range c.Sessions(t.Context(), client.Query{PageSize: size}) {
			if ve := new(sessions.ValidationError); !errors.As(err, &ve) || ve.Field != "limit" {
				t.Errorf("PageSize %d: %v, want a ValidationError on limit", size, err)
			}
		}
	}
}

// TestExportContext checks that an export that ctx ends midway gives ctx's error, a deadline
// matching ErrUnavailable too.
func TestExportContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprint(w, "id,agent_id\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)

	ctx, cancel := context.WithCancel(t.Context())
	_, err := c.Export(ctx, client.Query{}, client.CSV, writerFunc(func(p []byte) (int, error) { cancel(); return len(p), nil }))
	if !errors.Is(err, context.Canceled) || errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Export(ctx, client.Query{}, client.CSV, writerFunc(func(p []byte) (int, error) { return len(p), nil }))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("past the deadline: %v, want context.DeadlineExceeded and ErrUnavailable", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
