package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"time"

	"github.com/masker-dev/sessions"
)

// Event is one session delivered by the tail, with its event ID.
type Event struct {
	Session sessions.Session
	// ID is the event's ID: the position just after this session in the tail. A later Tail
	// given it as lastEventID resumes after this session, with nothing missed or repeated.
	ID string
}

// Tail follows the sessions that q selects (AgentID, Status and MinRedactions; Since and Until
// must be empty) as they are written, from lastEventID (an Event.ID of an earlier tail), or from
// now when it is "". It yields each session as an Event, for as long as the loop runs and ctx
// lives.
//
// A dropped connection, a server restart or a 503 or 429 response does not end the tail: it
// reconnects, after the server's retry time or Retry-After, backing off with jitter while it
// fails, and resumes with Last-Event-ID, so that nothing is lost or repeated. It ends by yielding
// (Event{}, err) once: ctx's error when ctx ends, or an error the server gives that a retry
// cannot mend (401, 404 for an unknown agent, 422). Breaking out of the loop stops it.
func (c *Client) Tail(ctx context.Context, q Query, lastEventID string) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if q.Since != "" || q.Until != "" {
			yield(Event{}, &sessions.ValidationError{Field: "since", Reason: "a tail has no time window: leave Since and Until empty"})
			return
		}
		v := q.values(false)
		t := &tail{c: c, lastID: lastEventID}
		for attempt := 0; ; {
			opened, err := t.stream(ctx, v, yield)
			if errors.Is(err, errStop) {
				return
			}
			if ctx.Err() != nil {
				yield(Event{}, sessions.ContextError(ctx))
				return
			}
			if opened {
				attempt = 0
			}
			wait, retry := c.retryAfter(err, attempt)
			if !retry {
				yield(Event{}, err)
				return
			}
			if t.retry > 0 && wait < t.retry {
				wait = t.retry/2 + time.Duration(float64(t.retry)*jitter())
			}
			attempt++
			if err := sleep(ctx, wait); err != nil {
				yield(Event{}, err)
				return
			}
		}
	}
}

// errStop says that the caller broke out of the loop.
var errStop = errors.New("client: tail stopped")

// tail is the state of one Tail across its connections.
type tail struct {
	c      *Client
	lastID string        // the position to resume after
	retry  time.Duration // the server's reconnection time
}

// stream runs one connection: it yields its events until it ends, and returns whether it opened
// and why it ended (a connError for a dropped connection).
func (t *tail) stream(ctx context.Context, v map[string][]string, yield func(Event, error) bool) (opened bool, err error) {
	h := http.Header{"Accept": {"text/event-stream"}, "Cache-Control": {"no-cache"}}
	if t.lastID != "" {
		h.Set("Last-Event-ID", t.lastID)
	}
	resp, err := t.c.getOnce(ctx, "/api/v1/sessions/stream", v, h)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	r := newSSEReader(resp.Body)
	r.lastEventID = t.lastID
	for {
		ev, err := r.next()
		t.lastID, t.retry = r.lastEventID, r.retry
		if err != nil {
			return true, &connError{fmt.Errorf("the stream ended: %w", err)}
		}
		if ev.typ != "session" {
			continue
		}
		var it item
		if err := json.Unmarshal([]byte(ev.data), &it); err != nil {
			// Not a retry: resuming would pass over this session.
			return true, fmt.Errorf("client: %w: event %q: %v", errMalformed, r.lastEventID, err)
		}
		if !yield(Event{Session: it.session(), ID: r.lastEventID}, nil) {
			return true, errStop
		}
	}
}
