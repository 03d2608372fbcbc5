package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/masker-dev/sessions"
)

// The live-tail routes: every session of the account (or agent) as it is written, as
// Server-Sent Events that a browser's EventSource consumes unchanged.
//
// A stream opens with a retry field and the id of the position where it starts, then sends one
// event per session written after it ("event: session", "id: " a resume token, "data: " the JSON
// of a /api/v1/sessions item on one line), and a comment line every Config.StreamHeartbeat. A
// client resumes with the Last-Event-ID header: the token is signed with the cursor keys and
// pinned to the account, the route, the agent and the filters, so that any replica sharing the
// keys continues after it with nothing lost and nothing repeated. A token whose position the
// store does not take (sessions.PositionChecker: a server on another database that shares the
// keys, or one ahead of this store's feed) gets 422 naming Last-Event-ID, before the stream.
//
// Errors before the stream starts use the JSON envelope: 401, 404, 422, 429 too_many_streams,
// 501 not_implemented (the store is not a sessions.Tailer), 503. Once it has started, a stream
// ends (the response ends cleanly, and the client reconnects) when the client goes away, when the
// store fails (logged), when a write takes longer than streamWriteWait, or when CloseStreams is
// called.
//
// Servers: http.Server.Shutdown waits for every handler to return, and a stream never returns by
// itself, so register CloseStreams with http.Server.RegisterOnShutdown. http.Server.WriteTimeout
// bounds a whole response from the end of the request's headers; each write of a stream sets its
// own write deadline with http.ResponseController and lifts it after, so it outlives
// WriteTimeout.
// Under a ResponseWriter that does not unwrap to net/http's the deadline stays where the server
// put it: WriteTimeout then ends each stream, and the client resumes.

// The stream routes.
const (
	routeAgentStream   = "/api/v1/agents/{agent_id}/sessions/stream"
	routeAccountStream = "/api/v1/sessions/stream"
)

// The stream endpoints: their names are those of the resume token; their items are those of
// /api/v1/sessions.
var (
	agentStreamEndpoint   = newEndpoint("agent", true, true, paramStatus, paramMinRedactions)
	accountStreamEndpoint = newEndpoint("account", false, true, paramStatus, paramMinRedactions, paramAgentID)
)

// lastEventID is the request header of a client that resumes a stream.
const lastEventID = "Last-Event-ID"

var (
	errTooManyStreams  = errors.New("httpapi: too many streams for the account")
	errTailUnsupported = errors.New("httpapi: the store does not implement sessions.Tailer")
	errStreamsClosed   = fmt.Errorf("%w: httpapi: streams closed (the server is shutting down)", sessions.ErrUnavailable)
)

// streams are the stream routes of a Handler and the count of their open streams.
type streams struct {
	tailer         sessions.Tailer // nil when the store has no feed
	agent, account http.Handler

	events *eventCache // the events the streams wrote last, shared between them

	mu     sync.Mutex
	open   map[string]int // account -> open streams
	closed bool
	done   chan struct{} // closed by CloseStreams
}

// addStreams sets up the stream routes of h.
func (h *Handler) addStreams() {
	tailer, _ := h.s.store.(sessions.Tailer)
	st := &streams{tailer: tailer, events: newEventCache(), open: map[string]int{}, done: make(chan struct{})}
	st.agent = h.logged(routeAgentStream, streamer{h, agentStreamEndpoint})
	st.account = h.logged(routeAccountStream, streamer{h, accountStreamEndpoint})
	h.streams = st
	h.mux.Handle(routeAgentStream, st.agent)
	h.mux.Handle(routeAccountStream, st.account)
}

// AgentSessionsStream returns the handler of GET /api/v1/agents/{agent_id}/sessions/stream
// alone, to mount in a router of another shape; it takes the agent ID from Config.AgentID and
// ignores the path otherwise.
func (h *Handler) AgentSessionsStream() http.Handler { return h.streams.agent }

// SessionsStream returns the handler of GET /api/v1/sessions/stream alone, to mount in a router
// of another shape. It ignores the path.
func (h *Handler) SessionsStream() http.Handler { return h.streams.account }

// CloseStreams ends every open stream of h, cleanly, and makes later stream requests get 503
// with Retry-After, so that their clients resume elsewhere with Last-Event-ID. Register it with
// http.Server.RegisterOnShutdown, so that Shutdown does not wait on streams until its context
// expires. The list routes are not affected. It is safe for concurrent use, and to call more than
// once.
func (h *Handler) CloseStreams() {
	st := h.streams
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.closed {
		st.closed = true
		close(st.done)
	}
}

// acquire counts one more open stream of the account, and returns the function that counts it
// off. It returns errTooManyStreams at the limit, and errStreamsClosed after CloseStreams.
func (st *streams) acquire(account string, limit int) (release func(), err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, errStreamsClosed
	}
	if st.open[account] >= limit {
		return nil, errTooManyStreams
	}
	st.open[account]++
	return func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.open[account]--; st.open[account] == 0 {
			delete(st.open, account)
		}
	}, nil
}

// streamer serves one stream route.
type streamer struct {
	h  *Handler
	ep *endpoint
}

func (sr streamer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := sr.h
	id := startResponse(w, r, "no-store")
	started := false
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			if started { // too late for an error response: abort it
				h.log(r, id, slog.LevelError, "internal error", errPanic{v, debug.Stack()})
				panic(http.ErrAbortHandler)
			}
			h.writeError(w, r, id, errPanic{v, debug.Stack()})
		}
	}()
	if err := h.stream(w, r, sr.ep, id, &started); err != nil {
		h.writeError(w, r, id, err)
	}
}

// stream runs the pipeline of a stream request: authentication, method, the path's agent value (a
// router that passes none is a configuration error), parameters, resume token, agent, the
// account's stream limit, store, then the stream itself. It returns an error only
// before the stream starts, which it marks in *started.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, ep *endpoint, id string, started *bool) error {
	account, err := h.caller(r)
	if err != nil {
		return err
	}
	tailer := h.streams.tailer
	if tailer == nil {
		return errTailUnsupported
	}
	pathAgent := ""
	if ep.agentPath {
		if pathAgent, err = pathValue(r, h.s.agentID, h.s.customAgentID, routeAgentStream, "agent_id", "AgentID"); err != nil {
			return err
		}
	}
	q, err := parseQuery(r.URL.RawQuery, ep, h.s.now())
	tok, tokErr := q.resume(ep, account, pathAgent, r.Header.Values(lastEventID), h.s.keys)
	if err = withTokenProblem(err, tokErr); err != nil {
		return err
	}
	if (ep.agentPath || tok.agent != "") && !sessions.IsAgentID(tok.agent) {
		return sessions.ErrAgentNotFound // malformed or missing: the same 404 as unknown
	}
	f, err := sessions.TailFilter(tok.filter())
	if err != nil {
		return err
	}
	release, err := h.streams.acquire(account, h.s.maxStreams)
	if err != nil {
		return err
	}
	// The slot is held until both the handler and the store calls below have returned: a call
	// abandoned on the Timeout (503) still counts against the account while the store works on
	// it, so that MaxStreamsPerAccount bounds those calls too, as MaxAccountCalls bounds the
	// other routes' (a store that ignores its context would otherwise pile up a goroutine and a
	// connection per request).
	var holders atomic.Int32
	holders.Store(2)
	done := func() {
		if holders.Add(-1) == 0 {
			release()
		}
	}
	defer done()

	ctx, cancel := context.WithTimeout(r.Context(), h.s.timeout)
	defer cancel()
	err = call(ctx, func(ctx context.Context) error {
		defer done()
		if f.AgentID != "" {
			if _, err := h.s.store.GetAgent(ctx, account, f.AgentID); err != nil {
				return err
			}
		}
		// Asked even on resume: it checks that the store is up, so that an outage gives 503
		// (with Retry-After) rather than a stream that ends at once.
		p, err := tailer.TailPosition(ctx)
		if err != nil || tok.position == "" {
			tok.position = p
			return err
		}
		// A token of a server on another database that shares the cursor key: refused before the
		// 200, rather than followed past what it never saw.
		if checker, ok := tailer.(sessions.PositionChecker); ok {
			var verr *sessions.ValidationError
			if err := checker.CheckPosition(ctx, tok.position); errors.As(err, &verr) {
				return invalidParams{{Param: lastEventID, Message: "is a position of another database " +
					"than this server's, or ahead of it: start again without Last-Event-ID"}}
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("X-Accel-Buffering", "no") // nginx: pass events on as they come
	*started = true
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	h.serveStream(w, r, id, tailer, f, tok)
	return nil
}

// resume returns the resume token of a stream request of account to ep, for the parsed query q,
// the agent of the path (agent route only) and the request's Last-Event-ID values: the query's,
// with no position, without Last-Event-ID; the header's, with its position, with it. As with a
// list cursor, a parameter left out takes the token's value and a parameter given must repeat it.
// It returns invalidParams naming Last-Event-ID for a token that is repeated, altered, truncated,
// oversized, signed with an unknown key, or made for another route, account, agent or filter.
func (q *query) resume(ep *endpoint, account, pathAgent string, lastIDs []string, keys [][]byte) (resumeToken, error) {
	agent := q.agentID
	if ep.agentPath {
		agent = pathAgent
	}
	fresh := resumeToken{endpoint: ep.name, account: account, agent: agent, status: q.status, minRedactions: q.minRedactions}
	problem := func(msg string) error { return invalidParams{{Param: lastEventID, Message: msg}} }
	switch {
	case len(lastIDs) > 1:
		return resumeToken{}, problem(fmt.Sprintf("given %d times; give it at most once", len(lastIDs)))
	case len(lastIDs) == 0 || lastIDs[0] == "": // EventSource sends an empty one before any id
		return fresh, nil
	}
	tok, err := decodeResume(lastIDs[0], keys)
	switch {
	case err != nil:
		return resumeToken{}, err
	case tok.endpoint != ep.name:
		return resumeToken{}, problem("belongs to the other stream route")
	case tok.account != account:
		return resumeToken{}, problem("belongs to another account")
	case ep.agentPath && tok.agent != agent:
		return resumeToken{}, problem("belongs to another agent")
	}
	var differs []string
	if !ep.agentPath && q.given[paramAgentID] && tok.agent != q.agentID {
		differs = append(differs, "agent_id")
	}
	if q.given[paramStatus] && tok.status != q.status {
		differs = append(differs, "status")
	}
	if q.given[paramMinRedactions] && tok.minRedactions != q.minRedactions {
		differs = append(differs, "min_redactions")
	}
	if len(differs) > 0 {
		return resumeToken{}, problem("was made for another stream (" + strings.Join(differs, ", ") +
			" changed): repeat or leave out the parameters, or start again without Last-Event-ID")
	}
	return tok, nil
}

// tailed is a session that the tail hands to the stream, with its position.
type tailed struct {
	s        sessions.Session
	position string
}

// streamBatch is the most sessions that a stream's tail hands over before the stream takes
// them, and so the most events of one write: enough for a stream that has fallen behind to catch
// up with few writes (each write and flush is a system call, the largest cost of an event when
// each goes alone), few enough that a batch's buffers stay small (about 30 KiB of events).
const streamBatch = 64

// tailBox hands the sessions of a stream's tail (its fn, on the tail's goroutine) over to the
// stream's handler in batches: the tail adds them one by one, and the handler takes whatever has
// come since it last took, at once. A tail that gets streamBatch ahead waits for the handler. It
// is safe for concurrent use by one tail and one handler.
type tailBox struct {
	mu    sync.Mutex
	items []tailed
	ready chan struct{} // holds a token when items may be non-empty
	taken chan struct{} // holds a token when the handler took items since the tail last looked
}

func newTailBox() *tailBox {
	return &tailBox{ready: make(chan struct{}, 1), taken: make(chan struct{}, 1)}
}

// put adds the session s at position to the box, for the tail's fn. It waits while the box is
// full, until the handler takes, or ctx ends (it returns ctx's error).
func (tb *tailBox) put(ctx context.Context, s sessions.Session, position string) error {
	for {
		tb.mu.Lock()
		if len(tb.items) < streamBatch {
			tb.items = append(tb.items, tailed{s, position})
			tb.mu.Unlock()
			select {
			case tb.ready <- struct{}{}:
			default: // a token is there already
			}
			return nil
		}
		tb.mu.Unlock()
		select {
		case <-tb.taken:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// take returns what the box holds, in the order the tail put it, and empties the box; it keeps
// into, emptied, as the box's next storage, so that two slices serve a stream's whole life.
func (tb *tailBox) take(into []tailed) []tailed {
	clear(into) // let go of the sessions the handler wrote
	tb.mu.Lock()
	items := tb.items
	tb.items = into[:0]
	tb.mu.Unlock()
	select {
	case tb.taken <- struct{}{}:
	default:
	}
	return items
}

// serveStream writes the stream of f after the position of tok, until the client goes away, the
// tail fails, a write fails, or CloseStreams is called. The header is written.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request, id string, tailer sessions.Tailer, f sessions.Filter, tok resumeToken) {
	ctx, cancel := context.WithCancel(r.Context())
	box := newTailBox()
	tailDone := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				tailDone <- errPanic{v, debug.Stack()}
			}
		}()
		tailDone <- tailer.Tail(ctx, f, tok.position, func(s sessions.Session, position string) error {
			return box.put(ctx, s, position)
		})
	}()
	sse := newSSEWriter(w)
	defer func() {
		cancel()
		<-tailDone // the tail has stopped before the handler returns
	}()

	if err := sse.open(tok.encode(h.s.keys[0])); err != nil {
		h.streamWriteFailed(r, id, err)
		return
	}
	heartbeat := time.NewTicker(h.s.heartbeat)
	defer heartbeat.Stop()
	sent := 0 // events, for the access log
	defer func() { setRows(r, sent) }()

	// Each event comes from the Handler's cache, when another stream of the same feed and
	// filters made it, or else is written in place into the batch (its id signed with the
	// stream's signer, its data encoded as a list item) and cached.
	sign := newResumeSigner(tok, h.s.keys[0])
	stream := sign.stream()
	var enc pageEncoder
	var ev *tailed
	appendID := func(b []byte) []byte { return sign.appendToken(b, ev.position) }
	appendData := func(b []byte) []byte { return enc.appendSession(b, accountStreamEndpoint, &ev.s) }
	var batch []tailed
	writeBatch := func() error {
		batch = box.take(batch)
		for i := range batch {
			ev = &batch[i]
			k := eventKey{stream, ev.position}
			if cached := h.streams.events.get(k, &ev.s); cached != nil {
				sse.addRaw(cached)
				continue
			}
			h.streams.events.put(k, ev.s, bytes.Clone(sse.addEvent("session", appendID, appendData)))
		}
		sent += len(batch)
		return sse.flush()
	}
	for {
		var err error
		select {
		case <-box.ready:
			err = writeBatch()
		case <-heartbeat.C:
			err = sse.heartbeat()
		case err := <-tailDone:
			tailDone <- err // for the deferred wait
			if r.Context().Err() == nil {
				level := slog.LevelError
				if errors.Is(err, sessions.ErrUnavailable) {
					level = slog.LevelWarn
				}
				h.log(r, id, level, "stream ended by the store", err)
				// What the tail delivered before it failed goes out before the stream ends.
				if err := writeBatch(); err != nil {
					h.streamWriteFailed(r, id, err)
				}
			}
			return
		case <-r.Context().Done():
			h.log(r, id, slog.LevelDebug, "client went away", r.Context().Err())
			return
		case <-h.streams.done:
			return
		}
		if err != nil {
			h.streamWriteFailed(r, id, err)
			return
		}
	}
}

// streamWriteFailed logs a write of a stream that failed: a client that went away or stopped
// reading (debug), or a ResponseWriter that cannot flush (an error of the server's setup).
func (h *Handler) streamWriteFailed(r *http.Request, id string, err error) {
	if errors.Is(err, http.ErrNotSupported) {
		h.log(r, id, slog.LevelError, "stream cannot flush: mount the stream routes where http.ResponseController reaches net/http's ResponseWriter", err)
		return
	}
	h.log(r, id, slog.LevelDebug, "stream write failed: client went away or stopped reading", err)
}
