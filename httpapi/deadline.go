package httpapi

import (
	"net/http"
	"time"
)

// writeFlush writes b to w and flushes it under a write deadline of wait from now, which it lifts
// afterwards: a client that reads nothing for wait fails the write, and a stream or an export
// may last longer than http.Server.WriteTimeout. The deadline is lifted, not left to pass, since
// on HTTP/2 it is a timer of the stream, which resets the stream when it fires, even between two
// writes. A ResponseWriter that cannot set deadlines (one that does not unwrap to net/http's)
// keeps the server's. It returns the error of the write, or of the flush (http.ErrNotSupported
// for a ResponseWriter that cannot flush).
func writeFlush(w http.ResponseWriter, rc *http.ResponseController, b []byte, wait time.Duration) error {
	_ = rc.SetWriteDeadline(time.Now().Add(wait))
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	if _, err := w.Write(b); err != nil {
		return err
	}
	return rc.Flush()
}
