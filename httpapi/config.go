package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/masker-dev/sessions"
)

// MinCursorKeyLen is the shortest CursorKey (and previous key) that New takes without a warning:
// 32 random bytes, as much as the HMAC-SHA256 and AES-256 keys derived from it. New takes a
// shorter key, as HMAC does, and logs that it may be guessed; it refuses an empty one.
const MinCursorKeyLen = 32

// DefaultTimeout is the Timeout of a Config that leaves it at zero.
const DefaultTimeout = 10 * time.Second

// Defaults of the live-tail stream routes (see stream.go).
const (
	DefaultStreamHeartbeat      = 15 * time.Second // Config.StreamHeartbeat left at zero
	DefaultMaxStreamsPerAccount = 16               // Config.MaxStreamsPerAccount left at zero
)

// Config configures a Handler. Store and Authenticate are required; every other field is
// optional. A Config must not be changed after it is passed to New.
type Config struct {
	// Store holds the sessions that the handler lists. Required.
	Store sessions.Store

	// Authenticate returns the account of the request's credential. It returns an error that
	// matches ErrUnauthenticated for a missing or bad credential, which gives 401. Any other
	// error goes through the same table as the store's errors: one that matches
	// sessions.ErrUnavailable gives 503, anything else 500. An empty account ID with a nil error
	// is taken as unauthenticated. The 401 message says "A valid credential is required.", or
	// names the credential for CookieAuth. Required; see CookieAuth for the product's cookie.
	Authenticate func(r *http.Request) (accountID string, err error)

	// Now returns the current time, against which relative since and until values such as
	// "24h" are resolved. Default: time.Now.
	Now func() time.Time

	// CursorKey is the secret that cursor and resume tokens are signed (HMAC-SHA256) and encrypted
	// (AES-256-CTR) with, under keys derived by HKDF-SHA256: MinCursorKeyLen random bytes or more.
	// Replicas that share it accept each other's tokens. When it is nil, New makes a random key and
	// logs a warning: cursors then fail after a restart and on other replicas.
	CursorKey []byte

	// PreviousCursorKeys are keys that no longer seal tokens but whose tokens are still
	// accepted, so that a key can be rotated without breaking the walks under way. None may be
	// empty (New checks them even without a CursorKey). Optional; unused without a CursorKey.
	PreviousCursorKeys [][]byte

	// Logger receives one access-log line per request (see DisableAccessLog), internal errors
	// (with the request ID, method and path), configuration errors (a router that does not pass
	// a path parameter; see AgentID), store outages, clients that went away (at debug level), and
	// New's warning about a random key. Default: slog.Default().
	Logger *slog.Logger

	// DisableAccessLog turns off the access log: by default the handler logs one line per
	// request to Logger at info level, "httpapi: request", with the attributes request_id,
	// method, route (the route's pattern, such as /api/v1/agents/{agent_id}/sessions, never the
	// path with its IDs; "" for a path that matches no route), status (0 when no status was
	// written, as when the client went away first, and when the response was aborted, even after
	// its status line, as an export whose store failed midway is), duration and rows (the
	// sessions in the response; for an aborted export, those sent). Turn it off when the server
	// logs its requests already.
	DisableAccessLog bool

	// Timeout bounds the store calls of one request (the agent check and the list together).
	// When it passes, the request gets 503 unavailable, even from a store that does not honour
	// its context (whose call then goes on in the background until it returns). An export is
	// not bounded as a whole: the timeout applies to each of its waits for the store (the agent
	// check, then each batch of a sessions.Scanner, or each page of MaxLimit sessions of another
	// store), and one that passes after the first byte aborts the response. Default:
	// DefaultTimeout.
	Timeout time.Duration

	// MaxAccountCalls bounds the store calls that the requests of one account may have running
	// at once in this Handler (a replica counts its own). A request beyond it gets 429
	// too_many_requests with Retry-After, at once and without a store call, while the requests
	// of other accounts are served as usual; so one account's slow queries can hold at most this
	// many of the store's connections. A call counts until the store returns, even after its
	// request got 503 on the Timeout: set the store's own statement timeout below Timeout (the
	// stores of this module end their statements with the context) so that an abandoned call
	// frees its connection. Size the store's pool to at least twice this bound.
	// Default: DefaultMaxAccountCalls.
	MaxAccountCalls int

	// AgentID returns the agent ID of a request to the agent endpoint, for routers that keep path
	// parameters elsewhere than http.Request.PathValue (chi: chi.URLParam(r, "agent_id")).
	// Default: r.PathValue("agent_id"), which net/http's ServeMux sets, and any router can set
	// with r.SetPathValue before the handler. When it gives "" the request is answered 500
	// internal_error and a configuration error naming this fix is logged: treating it as an
	// unknown agent would answer 404 for every agent.
	AgentID func(r *http.Request) string

	// SessionID returns the session ID of a request to GET /api/v1/sessions/{session_id}, for
	// routers that keep path parameters elsewhere than http.Request.PathValue.
	// Default: r.PathValue("session_id"). An empty value is a configuration error, as for
	// AgentID.
	SessionID func(r *http.Request) string

	// StreamHeartbeat is the longest time a live-tail stream stays silent: it writes a comment
	// line at this interval, so that proxies and clients see that it is alive.
	// Default: DefaultStreamHeartbeat.
	StreamHeartbeat time.Duration

	// MaxStreamsPerAccount is the most live-tail streams one account may have open at once on
	// this Handler; one more gets 429 too_many_streams. A stream request whose setup call to the
	// store was abandoned on the Timeout (503) counts until the store returns, as with
	// MaxAccountCalls, so that a store that ignores its context holds at most this many such
	// calls per account. Default: DefaultMaxStreamsPerAccount.
	MaxStreamsPerAccount int
}

// ErrUnauthenticated is the error that Authenticate returns, or wraps, for a request without a
// valid credential. The handler answers it with 401 unauthenticated.
var ErrUnauthenticated = errors.New("httpapi: unauthenticated")

// CookieAuth returns an Authenticate function for Config that reads the cookie with this name
// (the product uses "masker_session") and passes its value to verify, which returns the account
// ID. A missing or empty cookie gives ErrUnauthenticated without calling verify. Verify returns
// an error matching ErrUnauthenticated for an invalid or expired value; any other error from
// verify means that the credential could not be checked, and is passed on as it is (see
// Config.Authenticate). The 401 response names the cookie ("A valid masker_session cookie is
// required."). The returned function is safe for concurrent use when verify is.
func CookieAuth(name string, verify func(ctx context.Context, value string) (accountID string, err error)) func(*http.Request) (string, error) {
	credential := name + " cookie"
	return func(r *http.Request) (string, error) {
		value := ""
		if c, err := r.Cookie(name); err == nil {
			value = c.Value
		}
		return verifyCredential(r.Context(), credential, value, verify)
	}
}

// verifyCredential is the rule of CookieAuth and BearerAuth: an empty value, an invalid one
// (verify's error matches ErrUnauthenticated) and a verify that names no account are a
// *credentialError naming credential; verify is called only with a non-empty value, and its
// other errors are passed on as they are.
func verifyCredential(ctx context.Context, credential, value string, verify func(ctx context.Context, value string) (string, error)) (string, error) {
	if value == "" {
		return "", &credentialError{credential, fmt.Errorf("%w: no %s", ErrUnauthenticated, credential)}
	}
	account, err := verify(ctx, value)
	if errors.Is(err, ErrUnauthenticated) {
		return "", &credentialError{credential, err}
	}
	if err != nil {
		return "", err
	}
	if account == "" {
		return "", &credentialError{credential, fmt.Errorf("%w: %s names no account", ErrUnauthenticated, credential)}
	}
	return account, nil
}

// settings is a checked Config with its defaults filled in.
type settings struct {
	store           sessions.Store
	authenticate    func(*http.Request) (string, error)
	now             func() time.Time
	keys            [][]byte // the sealing key first, then the previous keys
	logger          *slog.Logger
	timeout         time.Duration
	maxAccountCalls int
	agentID         func(*http.Request) string
	sessionID       func(*http.Request) string
	// customAgentID and customSessionID tell whether Config.AgentID and Config.SessionID are
	// set, for the message of errNoPathValue.
	customAgentID, customSessionID bool
	accessLog                      bool
	heartbeat                      time.Duration
	maxStreams                     int
}

// check validates cfg and fills in the defaults.
func (cfg Config) check() (settings, error) {
	s := settings{
		store:           cfg.Store,
		authenticate:    cfg.Authenticate,
		now:             cfg.Now,
		logger:          cfg.Logger,
		timeout:         cfg.Timeout,
		maxAccountCalls: cfg.MaxAccountCalls,
		agentID:         cfg.AgentID,
		sessionID:       cfg.SessionID,
		accessLog:       !cfg.DisableAccessLog,

		customAgentID:   cfg.AgentID != nil,
		customSessionID: cfg.SessionID != nil,
		heartbeat:       cfg.StreamHeartbeat,
		maxStreams:      cfg.MaxStreamsPerAccount,
	}
	switch {
	case cfg.Store == nil:
		return s, errors.New("httpapi: Config.Store is required")
	case cfg.Authenticate == nil:
		return s, errors.New("httpapi: Config.Authenticate is required")
	case cfg.CursorKey != nil && len(cfg.CursorKey) == 0:
		return s, errors.New("httpapi: Config.CursorKey is empty; want a secret of at least 32 random bytes, or nil for a random key")
	case cfg.Timeout < 0:
		return s, fmt.Errorf("httpapi: Config.Timeout is negative (%s)", cfg.Timeout)
	case cfg.StreamHeartbeat < 0:
		return s, fmt.Errorf("httpapi: Config.StreamHeartbeat is negative (%s)", cfg.StreamHeartbeat)
	case cfg.MaxStreamsPerAccount < 0:
		return s, fmt.Errorf("httpapi: Config.MaxStreamsPerAccount is negative (%d)", cfg.MaxStreamsPerAccount)
	case cfg.MaxAccountCalls < 0:
		return s, fmt.Errorf("httpapi: Config.MaxAccountCalls is negative (%d)", cfg.MaxAccountCalls)
	}
	for i, k := range cfg.PreviousCursorKeys {
		if len(k) == 0 {
			return s, fmt.Errorf("httpapi: Config.PreviousCursorKeys[%d] is empty", i)
		}
		if err := checkTokenKey(k); err != nil {
			return s, fmt.Errorf("httpapi: Config.PreviousCursorKeys[%d]: %w", i, err)
		}
	}
	if len(cfg.CursorKey) > 0 {
		if err := checkTokenKey(cfg.CursorKey); err != nil {
			return s, fmt.Errorf("httpapi: Config.CursorKey: %w", err)
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.heartbeat == 0 {
		s.heartbeat = DefaultStreamHeartbeat
	}
	if s.maxStreams == 0 {
		s.maxStreams = DefaultMaxStreamsPerAccount
	}
	if s.maxAccountCalls == 0 {
		s.maxAccountCalls = DefaultMaxAccountCalls
	}
	if s.agentID == nil {
		s.agentID = func(r *http.Request) string { return r.PathValue("agent_id") }
	}
	if s.sessionID == nil {
		s.sessionID = func(r *http.Request) string { return r.PathValue("session_id") }
	}
	if cfg.CursorKey == nil {
		key := make([]byte, MinCursorKeyLen)
		rand.Read(key) // never fails (crypto/rand panics rather than return an error)
		s.keys = [][]byte{key}
		s.logger.Warn("httpapi: Config.CursorKey is not set: using a random key, so cursors will not survive a restart or be accepted by other replicas")
	} else {
		if len(cfg.CursorKey) < MinCursorKeyLen {
			s.logger.Warn("httpapi: Config.CursorKey is short: tokens signed with it may be forged by who guesses it; use at least 32 random bytes",
				slog.Int("bytes", len(cfg.CursorKey)))
		}
		s.keys = [][]byte{bytes.Clone(cfg.CursorKey)} // copies: the caller may reuse its slices
		for _, k := range cfg.PreviousCursorKeys {
			s.keys = append(s.keys, bytes.Clone(k))
		}
	}
	return s, nil
}
