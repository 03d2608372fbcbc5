package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/masker-dev/sessions"
)

// DefaultRetries is how many times a request is retried after a 502, 503, 504 or 429 response,
// unless WithRetries says otherwise.
const DefaultRetries = 3

// DefaultTailReconnects is how many reconnections in a row a tail attempts, while each fails,
// before it gives up with the last error, unless WithTailReconnects says otherwise. With the
// backoff's full jitter (waits up to 100 ms, doubling, capped at 30 s), the default's waits add
// up to about three minutes on average and six and a half at most, plus the time that each
// failed attempt takes.
const DefaultTailReconnects = 20

// DefaultTailIdleTimeout is how long a tail waits for anything from the server (an event, or the
// heartbeat comment that the server writes when it has none) before it drops the connection and
// reconnects, unless WithTailIdleTimeout says otherwise: three times httpapi's default heartbeat
// of 15 s, so that one late heartbeat is not a dead connection.
const DefaultTailIdleTimeout = 45 * time.Second

// maxRetryAfter is the longest wait that the client retries after: a Retry-After longer than it
// gives the error at once (with its RetryAfter, for the caller to decide), rather than hang the
// caller, and a server's retry time longer than it is cut to it.
const maxRetryAfter = time.Minute

// maxRetryAfterHeader is the most seconds that parseRetryAfter returns.
const maxRetryAfterHeader = 365 * 24 * 3600

// Client speaks the sessions HTTP API of one server. Make it with New. It is safe for concurrent
// use by multiple goroutines.
type Client struct {
	base           *url.URL
	http           *http.Client
	credential     func(*http.Request)
	retries        int
	tailReconnects int
	tailIdle       time.Duration
	onReconnect    func(err error, wait time.Duration)
	backoff        backoff
	userAgent      string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc, with hc's transport, timeouts and
// cookies, following redirects only within the base URL's origin (scheme, host and port), so that
// the credential never goes to another server, and then as hc's CheckRedirect says. By default, or
// when hc is nil, it uses http.DefaultClient. Give the tail a client without a Timeout:
// http.Client.Timeout ends a stream that lasts longer than it.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc == nil {
			hc = http.DefaultClient
		}
		c.http = hc
	}
}

// WithBearerToken authenticates every request with "Authorization: Bearer token" (a server with
// httpapi.BearerAuth).
func WithBearerToken(token string) Option {
	return func(c *Client) {
		c.credential = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	}
}

// WithCookie authenticates every request with the cookie name=value: the product's session
// cookie is named masker_session (a server with httpapi.CookieAuth).
func WithCookie(name, value string) Option {
	return func(c *Client) {
		c.credential = func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
	}
}

// WithRetries sets how many times a request of Sessions, AgentSessions, Session, Summary or Export
// is retried after a 502, 503, 504 or 429 response (after the wait that its Retry-After asks for)
// or after a network error (a refused or reset connection, a timeout): 0 never retries. The
// default is DefaultRetries. The tail does not use it: see WithTailReconnects.
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(n, 0) } }

// WithTailReconnects sets how many reconnections in a row Tail attempts while each one fails (a
// refused connection, a 502, 503, 504 or 429, a stream that ends before it delivered anything)
// before it ends with the last error: 0 never reconnects. The count starts again once a stream has
// delivered a session or stayed open for a while. The default is DefaultTailReconnects.
func WithTailReconnects(n int) Option { return func(c *Client) { c.tailReconnects = max(n, 0) } }

// WithTailReconnecting sets a function that Tail calls before each of its reconnections, with the
// error that ended or refused the connection and the wait before the next attempt, so that a
// program can tell its user that the tail is reconnecting rather than seem to hang. Tail calls it
// on the goroutine of its loop: it should return quickly.
func WithTailReconnecting(fn func(err error, wait time.Duration)) Option {
	return func(c *Client) { c.onReconnect = fn }
}

// WithTailIdleTimeout sets how long Tail waits for anything from the server, an event or a
// heartbeat comment, before it drops the connection and reconnects with Last-Event-ID: a
// connection that a proxy or a dead peer left hanging. Set it above the server's heartbeat
// (httpapi's Config.StreamHeartbeat). The default is DefaultTailIdleTimeout; d <= 0 keeps it.
func WithTailIdleTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.tailIdle = d
		}
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the server at baseURL, the URL under which the API's /api/v1 routes
// are mounted ("https://api.example.com", or "http://127.0.0.1:8080/audit" for a handler mounted
// under a prefix). It returns an error for a URL that is not absolute http or https.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, errors.New("client: the base URL does not parse: want an absolute http or https URL") // the URL may hold a password
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want an absolute http or https URL", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		base:           u,
		http:           http.DefaultClient,
		credential:     func(*http.Request) {},
		retries:        DefaultRetries,
		tailReconnects: DefaultTailReconnects,
		tailIdle:       DefaultTailIdleTimeout,
		backoff:        backoff{min: 100 * time.Millisecond, max: 30 * time.Second},
		userAgent:      "masker-sessions-go-client",
	}
	for _, o := range opts {
		o(c)
	}
	c.http = sameOrigin(c.http)
	return c, nil
}

// origin returns the origin of u: its scheme, host name and port, the scheme's default port when
// u gives none.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// sameOrigin returns a copy of hc that follows redirects only within the origin (scheme, host
// and port) of the request that it sends, and then as hc would. net/http sends the credential
// on to another port or scheme of the same host (an https URL redirected to http), where anyone
// on the network could read it.
func sameOrigin(hc *http.Client) *http.Client {
	next := hc.CheckRedirect
	same := *hc
	same.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if from := via[0].URL; origin(req.URL) != origin(from) {
			return fmt.Errorf("a redirect to %s://%s, another origin than %s://%s: not followed, so that the credential goes to no other server", req.URL.Scheme, req.URL.Host, from.Scheme, from.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 { // net/http's own limit
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &same
}

// url returns the URL of path under the base with the query q. The path is escaped already
// (each variable segment with url.PathEscape), so that a session ID with a slash or a space
// stays one segment and is escaped once.
func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil { // not an escape of ours: the base's escaping is valid, and so is PathEscape's
		p = u.RawPath
	}
	u.Path = p
	u.RawQuery = q.Encode()
	return u.String()
}

// get sends a GET of path with q and the headers set by header, retrying after 503 and 429
// responses and failed connections as the options say. It returns the response of status 200;
// any other status gives an *Error, with the body closed.
func (c *Client) get(ctx context.Context, path string, q url.Values, header http.Header) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.getOnce(ctx, path, q, header)
		if err == nil {
			return resp, nil
		}
		wait, retry := c.retryAfter(err, attempt)
		if !retry || attempt >= c.retries || !fits(ctx, wait) {
			return nil, err
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// getOnce sends one GET request.
func (c *Client) getOnce(ctx context.Context, path string, q url.Values, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path, q), nil)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.userAgent)
	c.credential(req)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, sessions.FromContextError(ctxErr)
		}
		if isNetworkError(err) {
			return nil, &connError{err}
		}
		return nil, fmt.Errorf("client: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readError(resp)
}

// retryAfter says whether err may be retried, and after how long: a 502, 503, 504 or 429 after
// its Retry-After (or the backoff when it has none), a failed connection after the backoff.
func (c *Client) retryAfter(err error, attempt int) (time.Duration, bool) {
	var e *Error
	var ce *connError
	switch {
	case errors.As(err, &e) && (unavailableStatus(e.StatusCode) || e.StatusCode == http.StatusTooManyRequests):
		if e.RetryAfter > maxRetryAfter {
			return 0, false // the server asks for longer than a caller should hang
		}
		if e.RetryAfter > 0 {
			return e.RetryAfter, true
		}
		return c.backoff.delay(attempt), true
	case errors.As(err, &ce):
		return c.backoff.delay(attempt), true
	}
	return 0, false
}

// isNetworkError says whether err, from http.Client.Do, is a failure of the network that a
// retry may mend: a refused, reset or closed connection, a timeout. A TLS certificate that does
// not verify, too many redirects or a header value that cannot be sent are not: a retry would
// fail the same way.
func isNetworkError(err error) bool {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // *url.Error is a net.Error itself, whatever it wraps
	}
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	var rhe tls.RecordHeaderError
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) || errors.As(err, &rhe) {
		return false
	}
	var oe *net.OpError
	var ne net.Error
	switch {
	case errors.As(err, &oe),
		errors.As(err, &ne) && ne.Timeout(),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// fits says whether a wait of d ends before ctx's deadline: a retry that could not be sent in
// time is not waited for.
func fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

// connError is a failure to reach the server or to read its response: the server is
// unavailable, and the request may be retried.
type connError struct{ err error }

func (e *connError) Error() string { return "client: " + e.err.Error() }
func (e *connError) Unwrap() []error {
	return []error{sessions.ErrUnavailable, e.err}
}

// backoff is exponential with full jitter between min and max.
type backoff struct{ min, max time.Duration }

// delay returns the wait before retry number attempt (from 0): a random duration up to
// min·2^attempt, capped at max, and at least min/2.
func (b backoff) delay(attempt int) time.Duration {
	d := b.max
	if attempt < 30 {
		d = min(b.min<<attempt, b.max)
	}
	return b.min/2 + rand.N(max(d-b.min/2, 1))
}

// sleep waits for d or until ctx ends, and then returns ctx's error in sessions' terms.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return sessions.ContextError(ctx)
	}
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date. It returns 0 when the
// header is absent or unreadable, and at most a year (a time.Duration holds 292 years).
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(min(n, maxRetryAfterHeader)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfterHeader*time.Second)
	}
	return 0
}

// drain reads what remains of a body (bounded) so that its connection can be reused, and closes it.
func drain(body io.ReadCloser) {
	io.CopyN(io.Discard, body, 64<<10)
	body.Close()
}

// jitteredUp returns d spread at random over [d, 3d/2), so that clients that a server restart
// dropped together do not come back together, and none comes back before the server asked.
func jitteredUp(d time.Duration) time.Duration {
	return d + time.Duration(rand.Float64()*float64(d/2))
}
