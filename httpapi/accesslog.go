package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// access is what the access log learns of a request while it is served. The handler that serves
// the request finds it in the request's context; it is used by one goroutine at a time.
type access struct {
	requestID string // the request's ID, made once so that the log and the response agree
	rows      int    // the sessions in the response
}

type accessKey struct{}

// accessOf returns the access record of a request that the access log follows, or nil.
func accessOf(r *http.Request) *access {
	a, _ := r.Context().Value(accessKey{}).(*access)
	return a
}

// setRows records how many sessions the response to r carries, for the access log.
func setRows(r *http.Request, n int) {
	if a := accessOf(r); a != nil {
		a.rows = n
	}
}

// logged returns next behind the access log, for a route mounted on its own (AgentSessions,
// Sessions, Session, OpenAPI) with the pattern route. Through Handler.ServeHTTP, which logs the
// request itself, it passes the request straight on.
func (h *Handler) logged(route string, next http.Handler) http.Handler {
	if !h.s.accessLog {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if accessOf(r) != nil {
			next.ServeHTTP(w, r)
			return
		}
		h.serveLogged(w, r, route, next)
	})
}

// serveLogged serves r through next, and then logs the access line with the route's pattern:
// route, or when it is "" the pattern that the ServeMux next matched (r.Pattern, "" when none
// did). It logs even when next panics, and the panic goes on: net/http then aborts the response
// (an export that failed after its first byte panics with http.ErrAbortHandler), so the line
// has status 0, as Config.DisableAccessLog documents, whatever status was written before; rows
// keeps the sessions sent.
func (h *Handler) serveLogged(w http.ResponseWriter, r *http.Request, route string, next http.Handler) {
	start := time.Now()
	a := &access{requestID: requestIDOf(r)}
	r = r.WithContext(context.WithValue(r.Context(), accessKey{}, a))
	r.Pattern = route
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		status := sw.status
		v := recover()
		if v != nil {
			status = 0 // aborted: the client never gets a whole response
		}
		h.s.logger.LogAttrs(r.Context(), slog.LevelInfo, "httpapi: request",
			slog.String("request_id", a.requestID),
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.Int("rows", a.rows),
		)
		if v != nil {
			panic(v) // the same value: net/http aborts the connection, quietly for ErrAbortHandler
		}
	}()
	next.ServeHTTP(sw, r)
}

// statusWriter records the status of a response. It passes Flush on, and Unwrap lets
// http.ResponseController reach the writer underneath.
type statusWriter struct {
	http.ResponseWriter
	status int // 0 until a final status is written
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what is buffered to the client, when the writer underneath can.
func (w *statusWriter) Flush() {
	http.NewResponseController(w.ResponseWriter).Flush() // an error means that it cannot: nothing to do
}

// Unwrap returns the writer underneath, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
