package httpapi

import (
	"net/http"
	"strconv"
	"time"
)

// sseWriter writes Server-Sent Events (the text/event-stream format of the HTML standard) to a
// response, flushing each one, and moving the connection's write deadline forward before each, so
// that a stream outlives http.Server.WriteTimeout while a client that stops reading is dropped
// after streamWriteWait. It is not safe for concurrent use: one goroutine writes a stream.
type sseWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
}

// streamWriteWait is how long one write of a stream (an event, a heartbeat) may take before the
// stream ends: a client that reads nothing for that long is gone or too slow to follow.
const streamWriteWait = 10 * time.Second

// streamRetry is the reconnection delay that a stream asks of its client (the retry field).
const streamRetry = 2 * time.Second

func newSSEWriter(w http.ResponseWriter) *sseWriter {
	return &sseWriter{w: w, rc: http.NewResponseController(w), buf: make([]byte, 0, 1024)}
}

// open writes the opening of a stream: the retry field and the id field of the position where it
// starts, with no data, so that a client that receives no event can still resume from there.
func (s *sseWriter) open(id string) error {
	b := append(s.buf[:0], "retry: "...)
	b = strconv.AppendInt(b, streamRetry.Milliseconds(), 10)
	b = append(b, "\nid: "...)
	b = append(b, id...)
	b = append(b, "\n\n"...)
	s.buf = b
	return s.send(b)
}

// event writes one event. The id must hold no line break (tokens are URL-safe base64), nor must
// data (JSON as appendString writes it escapes every line break).
func (s *sseWriter) event(name, id string, data []byte) error {
	b := append(s.buf[:0], "event: "...)
	b = append(b, name...)
	b = append(b, "\nid: "...)
	b = append(b, id...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	b = append(b, "\n\n"...)
	s.buf = b
	return s.send(b)
}

// heartbeat writes a comment line, which clients ignore and which keeps the connection busy for
// proxies that close idle ones.
func (s *sseWriter) heartbeat() error {
	return s.send(append(s.buf[:0], ": heartbeat\n"...))
}

// send writes b and flushes it. A ResponseWriter that cannot move its deadline (one that does not
// unwrap to net/http's) keeps the server's; one that cannot flush fails the stream.
func (s *sseWriter) send(b []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteWait))
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// close lifts the write deadline that the stream set, so that a later response on the same
// connection does not inherit it (net/http sets none itself without a WriteTimeout).
func (s *sseWriter) close() {
	_ = s.rc.SetWriteDeadline(time.Time{})
}
