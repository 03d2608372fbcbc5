package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/masker-dev/sessions"
)

// healthyStream is how long a stream that delivered no session must stay open before the tail
// counts it as a success, and starts its count of failed reconnections (WithTailReconnects) and
// its backoff again: long enough that a server that answers 200 and closes at once, or rejects
// the resume position after its 200, is retried with a growing backoff, not in a tight loop.
const healthyStream = 10 * time.Second

// Event is one session delivered by the tail, with its event ID.
type Event struct {
	// Session is the session as the stream sent it: its newest content when it was read.
	Session sessions.Session
	// ID is the event's ID: the position just after this session in the tail. A later Tail of
	// the same Query given it as lastEventID resumes after this session, with nothing missed or
	// repeated.
	ID string
}

// Tail follows the sessions that q selects (AgentID, Status and MinRedactions; Since and Until
// must be empty) as they are written, from lastEventID (an Event.ID of an earlier tail of the
// same Query), or from now when it is "". It yields each session as an Event, for as long as the
// loop runs and ctx lives. With q.AgentID set it reads the agent's route,
// /api/v1/agents/{agent_id}/sessions/stream, and /api/v1/sessions/stream otherwise; the events
// are the same (an event ID resumes only the route that gave it).
//
// A dropped connection, a server restart, a connection silent for longer than the idle timeout
// (WithTailIdleTimeout), or a 502, 503, 504 or 429 response does not end the tail: it reconnects
// and resumes with Last-Event-ID, so that nothing is lost or repeated. It waits before each
// reconnection for the larger of the server's retry time (kept from the connection that last sent
// one, at most a minute, and jittered upward) and the response's Retry-After, and, while
// reconnections fail, for a jittered backoff that doubles up to 30 s.
//
// It ends by yielding (Event{}, err) once: ctx's error when ctx ends (in the terms of
// sessions.ContextError); an error the server gives that a retry cannot mend (401, 404 for an
// unknown agent, 422, a 200 response that is not text/event-stream, an event line over 1 MiB);
// or the last error after WithTailReconnects failed reconnections in a row. Breaking out of the
// loop stops it.
func (c *Client) Tail(ctx context.Context, q Query, lastEventID string) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if q.Since != "" || q.Until != "" {
			yield(Event{}, &sessions.ValidationError{Field: "since", Reason: "a tail has no time window: leave Since and Until empty"})
			return
		}
		path, v, err := q.route("/stream", false)
		if err != nil {
			yield(Event{}, err)
			return
		}
		t := &tail{c: c, path: path, v: v, lastID: lastEventID}
		for failures := 0; ; {
			healthy, err := t.stream(ctx, yield)
			if errors.Is(err, errStop) {
				return
			}
			if ctx.Err() != nil {
				yield(Event{}, sessions.ContextError(ctx))
				return
			}
			if healthy {
				failures = 0
			}
			wait, retry := c.reconnectWait(err, failures, t.retry)
			if !retry || failures >= c.tailReconnects || !fits(ctx, wait) {
				yield(Event{}, err)
				return
			}
			failures++
			if c.onReconnect != nil {
				c.onReconnect(err, wait)
			}
			if err := sleep(ctx, wait); err != nil {
				yield(Event{}, err)
				return
			}
		}
	}
}

// reconnectWait says whether a tail may reconnect after err, the failure number failures (from
// 0) in a row, and after how long: the larger of the server's retry time (capped at
// maxRetryAfter, and jittered upward, never below it) and what retryAfter says (the response's
// Retry-After, or the backoff).
func (c *Client) reconnectWait(err error, failures int, serverRetry time.Duration) (time.Duration, bool) {
	wait, retry := c.retryAfter(err, failures)
	if retry && serverRetry > 0 {
		wait = max(wait, jitteredUp(min(serverRetry, maxRetryAfter)))
	}
	return wait, retry
}

// errStop says that the caller broke out of the loop.
var errStop = errors.New("client: tail stopped")

// tail is the state of one Tail across its connections.
type tail struct {
	c      *Client
	path   string
	v      url.Values
	lastID string        // the position to resume after
	retry  time.Duration // the server's reconnection time
}

// stream runs one connection: it yields its events until it ends, and returns whether it was
// healthy (it delivered a session, or stayed open healthyStream) and why it ended: a connError
// for a connection that dropped or fell silent, which a reconnection mends.
func (t *tail) stream(ctx context.Context, yield func(Event, error) bool) (healthy bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The watchdog: the request is cancelled when nothing arrives for the idle timeout.
	var idled atomic.Bool
	watchdog := time.AfterFunc(t.c.tailIdle, func() { idled.Store(true); cancel() })
	defer watchdog.Stop()
	silent := func(err error) error {
		if idled.Load() {
			return &connError{fmt.Errorf("the stream sent nothing for %s: %w", t.c.tailIdle, err)}
		}
		return err
	}

	h := http.Header{"Accept": {"text/event-stream"}, "Cache-Control": {"no-cache"}}
	if t.lastID != "" {
		h.Set("Last-Event-ID", t.lastID)
	}
	opened := time.Now()
	resp, err := t.c.getOnce(ctx, t.path, t.v, h)
	if err != nil {
		return false, silent(err)
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		// Not a retry: a proxy's page or another API answers there, and would again.
		return false, fmt.Errorf("client: %w: the stream's Content-Type is %q, not text/event-stream", errMalformed, resp.Header.Get("Content-Type"))
	}
	watchdog.Reset(t.c.tailIdle)
	r := newSSEReader(watchedReader{resp.Body, watchdog, t.c.tailIdle})
	r.lastEventID, r.retry = t.lastID, t.retry // a connection that sends no retry field keeps the last one
	delivered := false
	for {
		ev, err := r.next()
		t.lastID, t.retry = r.lastEventID, r.retry
		if err != nil {
			healthy = delivered || time.Since(opened) >= healthyStream
			if errors.Is(err, bufio.ErrTooLong) {
				return healthy, fmt.Errorf("client: %w: an event line over %d bytes", errMalformed, maxEventLine)
			}
			if errors.Is(err, errEventTooLong) {
				return healthy, fmt.Errorf("client: %w: %w", errMalformed, err)
			}
			return healthy, silent(&connError{fmt.Errorf("the stream ended: %w", err)})
		}
		if ev.typ != "session" {
			continue
		}
		var it item
		if err := json.Unmarshal([]byte(ev.data), &it); err != nil {
			// Not a retry: resuming would pass over this session.
			return true, fmt.Errorf("client: %w: event %q: %v", errMalformed, r.lastEventID, err)
		}
		delivered = true
		// The watchdog measures the server's silence, not the caller's: a loop body that takes
		// longer than the idle timeout (a slow write, stdout piped into a pager) is no reason to
		// drop a stream that kept sending.
		watchdog.Stop()
		if !yield(Event{Session: it.session(), ID: r.lastEventID}, nil) {
			return true, errStop
		}
		watchdog.Reset(t.c.tailIdle)
	}
}

// watchedReader is a response body that moves the watchdog's deadline forward with every read
// that brings bytes.
type watchedReader struct {
	r        io.Reader
	watchdog *time.Timer
	idle     time.Duration
}

func (w watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.watchdog.Reset(w.idle)
	}
	return n, err
}
