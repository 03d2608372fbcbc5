package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/masker-dev/sessions"
)

// The routes of a Handler.
const (
	routeAgentSessions = "/api/v1/agents/{agent_id}/sessions"
	routeSessions      = "/api/v1/sessions"
	routeOpenAPI       = "/api/v1/openapi.yaml"
)

// allowedMethods is the Allow header of a 405 response.
const allowedMethods = "GET, HEAD"

// Handler serves the session list endpoints of a Store:
//
//	GET /api/v1/agents/{agent_id}/sessions  the sessions of one agent (the documented endpoint)
//	GET /api/v1/sessions                    the sessions of every agent of the account
//	GET /api/v1/sessions/{session_id}       one session of the account
//	GET /api/v1/agents/{agent_id}/sessions/summary, /api/v1/sessions/summary
//	                                        the totals of a window (summary.go)
//	GET /api/v1/agents/{agent_id}/sessions/export, /api/v1/sessions/export
//	                                        every session of a window, as CSV or NDJSON (export.go)
//	GET /api/v1/agents/{agent_id}/sessions/stream, /api/v1/sessions/stream
//	                                        the live tail, as Server-Sent Events (stream.go)
//	GET /api/v1/openapi.yaml                the OpenAPI 3.1 document of them all
//
// HEAD is served like GET without a body; other methods get 405 with Allow, once the request is
// authenticated (401 before). Other paths get net/http's plain 404, those under /api/ once the
// request is authenticated (401 before), so that a request without a valid credential learns
// nothing of which routes exist. It is safe for concurrent use by multiple goroutines.
type Handler struct {
	s        settings
	limiter  *accountLimiter
	mux      *http.ServeMux
	agent    http.Handler
	account  http.Handler
	session  http.Handler
	document http.Handler
	notFound http.Handler // what no route matches

	agentSummary, accountSummary http.Handler // summary.go
	agentExport, accountExport   http.Handler // export.go
	streams                      *streams     // stream.go
}

// New returns a Handler for cfg. It returns an error when cfg has no Store, no Authenticate, an
// empty CursorKey or previous key, or a negative Timeout, StreamHeartbeat, MaxStreamsPerAccount
// or MaxAccountCalls. It logs a warning for a CursorKey shorter than MinCursorKeyLen. Without a
// CursorKey it uses a random key, and logs a warning that cursors will not survive a restart or
// be shared across replicas.
func New(cfg Config) (*Handler, error) {
	s, err := cfg.check()
	if err != nil {
		return nil, err
	}
	h := &Handler{s: s, limiter: newAccountLimiter(s.maxAccountCalls), mux: http.NewServeMux()}
	h.agent = h.logged(routeAgentSessions, route{h, agentEndpoint, serveList})
	h.account = h.logged(routeSessions, route{h, accountEndpoint, serveList})
	h.session = h.logged(routeSession, route{h, sessionEndpoint, serveSession})
	h.document = h.logged(routeOpenAPI, http.HandlerFunc(h.serveOpenAPI))
	h.mux.Handle(routeAgentSessions, h.agent)
	h.mux.Handle(routeSessions, h.account)
	h.mux.Handle(routeSession, h.session)
	h.mux.Handle(routeOpenAPI, h.document)
	h.notFound = route{h, nil, serveNotFound}
	h.mux.Handle("/", h.notFound)
	h.agentSummary = h.logged(routeAgentSummary, route{h, agentSummaryEndpoint, serveSummary})
	h.accountSummary = h.logged(routeSummary, route{h, accountSummaryEndpoint, serveSummary})
	h.agentExport = h.logged(routeAgentExport, route{h, agentExportEndpoint, serveExport})
	h.accountExport = h.logged(routeExport, route{h, accountExportEndpoint, serveExport})
	h.mux.Handle(routeAgentSummary, h.agentSummary)
	h.mux.Handle(routeSummary, h.accountSummary)
	h.mux.Handle(routeAgentExport, h.agentExport)
	h.mux.Handle(routeExport, h.accountExport)
	h.addStreams()
	return h, nil
}

// ServeHTTP routes the request on its URL path (after any http.StripPrefix) to one of the
// endpoints. A path that is not clean ("//", "/./", "/../", a trailing slash) gets 404 (401
// first under /api/, see serveNotFound), where ServeMux would redirect to the clean path: under
// http.StripPrefix that redirect would lose the prefix. Each request is logged in the access log (see Config.DisableAccessLog).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.s.accessLog && accessOf(r) == nil {
		h.serveLogged(w, r, "", http.HandlerFunc(h.ServeHTTP)) // the route is the one the mux matches
		return
	}
	if p := r.URL.Path; p != "" && path.Clean(p) != p {
		h.notFound.ServeHTTP(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// apiPrefix starts every path of the API, under which a path that is no route still needs a
// valid credential before its 404.
const apiPrefix = "/api/"

// serveNotFound serves a path that is no route, or is not clean (a route's run), with net/http's
// plain 404: at once outside apiPrefix, and under it (as sent, or once cleaned) only to an
// authenticated request, so that without a valid credential every path of the API gets the same
// 401.
func serveNotFound(h *Handler, w http.ResponseWriter, r *http.Request, _ string, _ *endpoint) error {
	r.Pattern = "" // no route, for the access log
	if p := r.URL.Path; strings.HasPrefix(p, apiPrefix) || strings.HasPrefix(path.Clean(p), apiPrefix) {
		if _, err := h.authenticated(r); err != nil {
			return err
		}
	}
	http.NotFound(w, r)
	return nil
}

// AgentSessions returns the handler of GET /api/v1/agents/{agent_id}/sessions alone, to mount in
// a router of another shape; it takes the agent ID from Config.AgentID (by default
// r.PathValue("agent_id")) and ignores the path otherwise.
func (h *Handler) AgentSessions() http.Handler { return h.agent }

// Sessions returns the handler of GET /api/v1/sessions alone, to mount in a router of another
// shape. It ignores the path.
func (h *Handler) Sessions() http.Handler { return h.account }

// OpenAPI returns the handler of GET /api/v1/openapi.yaml alone. It ignores the path.
func (h *Handler) OpenAPI() http.Handler { return h.document }

// route serves one endpoint with run, which writes the response when it returns nil. An error
// gets the envelope; a panic is an internal error, except http.ErrAbortHandler, which aborts the
// response.
type route struct {
	h   *Handler
	ep  *endpoint
	run func(h *Handler, w http.ResponseWriter, r *http.Request, id string, ep *endpoint) error
}

func (rt route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := rt.h
	id := startResponse(w, r, "no-store")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.writeError(w, r, id, errPanic{v, debug.Stack()})
		}
	}()
	if err := rt.run(h, w, r, id, rt.ep); err != nil {
		h.writeError(w, r, id, err)
	}
}

// serveList serves a list endpoint (a route's run).
func serveList(h *Handler, w http.ResponseWriter, r *http.Request, _ string, ep *endpoint) error {
	return h.list(w, r, ep)
}

// caller authenticates r, then checks its method, and returns the account that r's credential
// grants: an error matching ErrUnauthenticated (or the Authenticate function's own error) for a
// request without a valid credential, whatever its method, and errMethodNotAllowed for a method
// other than GET and HEAD. Authentication comes first, so that a request without a valid
// credential learns nothing else, not even which methods a route allows.
func (h *Handler) caller(r *http.Request) (string, error) {
	account, err := h.authenticated(r)
	if err != nil {
		return "", err
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", errMethodNotAllowed
	}
	return account, nil
}

// authenticated returns the account that r's credential grants: Config.Authenticate's, with an
// empty account ID taken as ErrUnauthenticated.
func (h *Handler) authenticated(r *http.Request) (string, error) {
	account, err := h.s.authenticate(r)
	if err == nil && account == "" {
		err = ErrUnauthenticated
	}
	return account, err
}

// list runs the pipeline of a list request: authentication, method, the path's agent value (a
// router that passes none is a configuration error), parameters, cursor, agent, store, response. It writes the response when it returns nil.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, ep *endpoint) error {
	account, err := h.caller(r)
	if err != nil {
		return err
	}
	pathAgent := ""
	if ep.agentPath {
		if pathAgent, err = pathValue(r, h.s.agentID, h.s.customAgentID, routeAgentSessions, "agent_id", "AgentID"); err != nil {
			return err
		}
	}
	q, err := parseQuery(r.URL.RawQuery, ep, h.s.now())
	f, tok, tokErr := q.filter(ep, account, pathAgent, h.s.keys)
	if err = withTokenProblem(err, tokErr); err != nil {
		return err
	}
	if (ep.agentPath || f.AgentID != "") && !sessions.IsAgentID(f.AgentID) {
		return sessions.ErrAgentNotFound // malformed or missing: the same 404 as unknown
	}
	if err := f.Validate(); err != nil {
		return err // the last check: a parameter the checks above let through, or a bad account ID
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.s.timeout)
	defer cancel()
	var page sessions.Page
	err = h.accountCall(ctx, account, func(ctx context.Context) error {
		if f.AgentID != "" {
			if _, err := h.s.store.GetAgent(ctx, account, f.AgentID); err != nil {
				return err
			}
		}
		var err error
		page, err = h.s.store.ListSessions(ctx, f)
		return err
	})
	if err != nil {
		return err
	}

	next := ""
	if page.Next != nil {
		next = tok.after(*page.Next).encode(h.s.keys[0])
		w.Header().Set("Link", "<"+nextLink(r, q.raw, next)+`>; rel="next"`)
	}
	setRows(r, len(page.Sessions))
	e := getPageEncoder()
	defer putPageEncoder(e)
	writeBody(w, r, http.StatusOK, "application/json", e.encode(ep, page.Sessions, next))
	return nil
}

// call runs fn with ctx in a goroutine and waits for it or for ctx to end, so that a store that
// does not honour its context still gives 503 when the timeout passes. A panic in fn becomes an
// errPanic error, except http.ErrAbortHandler, which is panicked again in the caller's goroutine
// so that net/http aborts the response.
func call(ctx context.Context, fn func(context.Context) error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- errPanic{v, debug.Stack()}
			}
		}()
		done <- fn(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done: // finished at the same time: take its result
		default:
			return sessions.ContextError(ctx)
		}
	}
	if p, ok := err.(errPanic); ok && p.value == http.ErrAbortHandler {
		panic(http.ErrAbortHandler)
	}
	return err
}

// startResponse sets the headers of every response of the handler, and returns the request's ID.
func startResponse(w http.ResponseWriter, r *http.Request, cacheControl string) (requestID string) {
	id := requestIDOf(r)
	hdr := w.Header()
	hdr.Set("X-Request-Id", id)
	hdr.Set("Cache-Control", cacheControl)
	hdr.Set("X-Content-Type-Options", "nosniff")
	return id
}

// writeBody writes a complete response; a HEAD request gets the headers only.
func writeBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body) // an error means that the client went away: nothing to do
	}
}

// nextLink returns the URL of the next page: the path of the request as the client sent it (so
// that it is right under http.StripPrefix or any router), and its query with the cursor replaced.
func nextLink(r *http.Request, pairs []string, cursor string) string {
	path := r.URL.EscapedPath() // a request made in-process has no RequestURI
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		path = u.EscapedPath()
	}
	var b strings.Builder
	b.Grow(len(path) + len(r.URL.RawQuery) + len(cursor) + 8)
	writeLinkSafe(&b, path)
	b.WriteByte('?')
	for _, pair := range pairs {
		if name, _, _ := strings.Cut(pair, "="); name == "cursor" || unescaped(name) == "cursor" {
			continue
		}
		writeLinkSafe(&b, pair)
		b.WriteByte('&')
	}
	b.WriteString("cursor=")
	b.WriteString(cursor) // URL-safe base64
	return b.String()
}

// writeLinkSafe writes s percent-encoding the bytes that cannot stand in a Link header's
// <URI-Reference>: controls, space, non-ASCII, and "<>\"\\`{|}^.
func writeLinkSafe(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7F || strings.IndexByte("<>\"\\`{|}^", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&0xF])
			continue
		}
		b.WriteByte(c)
	}
}

// unescaped returns the query component s unescaped, or s when it does not unescape.
func unescaped(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
