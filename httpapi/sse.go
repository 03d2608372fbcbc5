package httpapi

import (
	"net/http"
	"strconv"
	"time"
)

// sseWriter writes Server-Sent Events (the text/event-stream format of the HTML standard) to a
// response. The events that a stream has at hand are written together: addEvent appends each
// to a batch, and flush writes the batch at once and flushes it, so that a stream that has
// fallen behind catches up with one write and one flush for many events rather than one each.
// Each write has a deadline of its own (writeFlush), so that a stream outlives
// http.Server.WriteTimeout while a client that stops reading is dropped after streamWriteWait.
// It is not safe for concurrent use: one goroutine writes a stream.
type sseWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte // the batch not yet written
}

// streamWriteWait is how long one write of a stream (a batch of events, a heartbeat) may take
// before the stream ends: a client that reads nothing for that long is gone or too slow to
// follow. A variable for the tests.
var streamWriteWait = 10 * time.Second

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
	s.buf = append(b, "\n\n"...)
	return s.flush()
}

// addEvent appends one event to the batch: its name, the id that appendID appends, and the data
// that appendData appends. The id must hold no line break (tokens are URL-safe base64), nor must
// the data (JSON as appendString writes it escapes every line break).
// It returns the event's bytes, which the batch owns until the next flush, for addRaw.
func (s *sseWriter) addEvent(name string, appendID, appendData func([]byte) []byte) []byte {
	start := len(s.buf)
	b := append(s.buf, "event: "...)
	b = append(b, name...)
	b = appendID(append(b, "\nid: "...))
	b = appendData(append(b, "\ndata: "...))
	s.buf = append(b, "\n\n"...)
	return s.buf[start:]
}

// addRaw appends to the batch an event as addEvent returned it.
func (s *sseWriter) addRaw(event []byte) { s.buf = append(s.buf, event...) }

// heartbeat writes a comment line, which clients ignore and which keeps the connection busy for
// proxies that close idle ones, after the batch if there is one.
func (s *sseWriter) heartbeat() error {
	s.buf = append(s.buf, ": heartbeat\n"...)
	return s.flush()
}

// flush writes the batch, if any, and flushes it. A ResponseWriter that cannot flush fails the
// stream.
func (s *sseWriter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	b := s.buf
	s.buf = s.buf[:0]
	return writeFlush(s.w, s.rc, b, streamWriteWait)
}
