package httpapi

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/masker-dev/sessions"
)

// The routes of the exports.
const (
	routeAgentExport = "/api/v1/agents/{agent_id}/sessions/export"
	routeExport      = "/api/v1/sessions/export"
)

// The export endpoints take the list's filters, without limit and cursor, and format. Their
// NDJSON lines are items of /api/v1/sessions (listing), on both routes.
var (
	agentExportEndpoint   = newEndpoint("agent-export", true, true, paramSince, paramUntil, paramStatus, paramMinRedactions, paramFormat)
	accountExportEndpoint = newEndpoint("account-export", false, true, paramSince, paramUntil, paramStatus, paramMinRedactions, paramAgentID, paramFormat)
)

// exportFormat is the format parameter of an export; its zero value is the default, CSV.
type exportFormat int

const (
	formatCSV exportFormat = iota
	formatNDJSON
)

var exportFormats = map[string]exportFormat{"csv": formatCSV, "ndjson": formatNDJSON}

// The content type and file extension of each format.
var (
	exportContentTypes = [...]string{formatCSV: "text/csv; charset=utf-8", formatNDJSON: "application/x-ndjson"}
	exportExtensions   = [...]string{formatCSV: "csv", formatNDJSON: "ndjson"}
)

// exportFlushSize is how many bytes an export gathers before it writes and flushes them to the
// client; exportFlushEvery is the longest it keeps bytes back while pages are slow to come.
const (
	exportFlushSize  = 32 << 10
	exportFlushEvery = time.Second
)

// exportWriteWait is how long one write of an export (up to exportFlushSize bytes) may take
// before the export ends: a client that reads nothing for that long is gone or too slow, and
// would otherwise hold one of its account's store slots (Config.MaxAccountCalls) for as long as
// it keeps the connection open. Each write has a deadline of its own (writeFlush), so that an
// export outlives http.Server.WriteTimeout. A variable for the tests.
var exportWriteWait = 30 * time.Second

// AgentExport returns the handler of GET /api/v1/agents/{agent_id}/sessions/export alone, to
// mount in a router of another shape; it takes the agent ID from Config.AgentID and ignores the
// path otherwise.
func (h *Handler) AgentExport() http.Handler { return h.agentExport }

// Export returns the handler of GET /api/v1/sessions/export alone, to mount in a router of
// another shape. It ignores the path.
func (h *Handler) Export() http.Handler { return h.accountExport }

// serveExport streams every session of the window, in list order, as CSV or NDJSON.
//
// It reads the sessions with exportSessions, from one filter whose relative since was resolved
// once when the request came: the walk's guarantee holds, and every session that matched when
// the export began, and still matches with the same start time, is written exactly once. Memory
// stays flat: a batch or page and up to exportFlushSize bytes at a time.
//
// Config.Timeout bounds each wait for the store (the agent check, and each batch or page), not
// the export, which may take minutes for millions of sessions. Errors up to the first session
// get the envelope. After that the status line has gone, so a failure aborts the response
// (http.ErrAbortHandler): the client sees a broken transfer, never a short file that looks
// complete. That holds over HTTP/1.1 (chunked) and HTTP/2, not HTTP/1.0, which gets 505. HEAD
// gets the headers of GET once the first session has been read.
func serveExport(h *Handler, w http.ResponseWriter, r *http.Request, id string, ep *endpoint) error {
	win, err := h.checkWindow(r, ep)
	if err != nil {
		return err
	}
	if !r.ProtoAtLeast(1, 1) {
		return errExportHTTP10
	}
	// An export holds one of its account's slots (Config.MaxAccountCalls) from start to end, so
	// that it is refused before its first byte rather than aborted between two pages.
	if !h.limiter.acquire(win.f.AccountID) {
		return errTooManyRequests
	}
	defer h.limiter.release(win.f.AccountID)
	ctx := r.Context()
	if err := h.storeCall(ctx, func(ctx context.Context) error { return h.checkAgent(ctx, win) }); err != nil {
		return err
	}
	x := exporter{w: w, rc: http.NewResponseController(w), format: win.q.format, e: getPageEncoder()}
	defer putPageEncoder(x.e)
	started, rows := false, 0
	defer func() {
		// A panic of the store's scan, which runs in this goroutine, after the status line
		// aborts the response too: the route's envelope would end the file cleanly.
		if v := recover(); v != nil {
			if started && v != http.ErrAbortHandler {
				h.abortExport(r, id, errPanic{v, debug.Stack()})
			}
			panic(v)
		}
	}()
	for s, err := range h.exportSessions(ctx, win.f) {
		if err != nil {
			if !started {
				return err
			}
			h.abortExport(r, id, err)
		}
		if !started {
			started = true
			x.start(h.exportFilename(win, ep))
			if r.Method == http.MethodHead {
				return nil
			}
		}
		if err := x.add(&s); err != nil {
			h.log(r, id, slog.LevelDebug, "client went away during an export", err)
			return nil
		}
		rows++
		setRows(r, rows) // as it goes: an export that aborts logs what it sent
	}
	if !started {
		x.start(h.exportFilename(win, ep))
		if r.Method == http.MethodHead {
			return nil
		}
	}
	if err := x.flush(); err != nil {
		h.log(r, id, slog.LevelDebug, "client went away during an export", err)
	}
	return nil
}

// errExportHTTP10 refuses an export over HTTP/1.0, whose response ends when the connection
// closes: an export aborted midway (abortExport) would look like a whole file there, where
// HTTP/1.1's chunked encoding and HTTP/2's frames show the abort.
var errExportHTTP10 = errors.New("httpapi: an export over HTTP/1.0")

// abortExport ends an export that failed after its first byte: it logs err and aborts the
// response, so that the client sees a broken transfer.
func (h *Handler) abortExport(r *http.Request, id string, err error) {
	level := slog.LevelError
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		level = slog.LevelDebug // the client went away
	case classify(err).status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	}
	h.log(r, id, level, "export aborted", err)
	panic(http.ErrAbortHandler)
}

// storeCall runs fn under Config.Timeout, as call does.
func (h *Handler) storeCall(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, h.s.timeout)
	defer cancel()
	return call(ctx, fn)
}

// exportSessions returns the sessions of the filter f of an export, in list order, and stops
// after the first error, as sessions.All does.
//
// From a sessions.Scanner, which reads in large batches (on SQLite, 35% less CPU per session
// than pages of MaxLimit, and with the next batch read while this one is written), it runs one
// ScanSessions, and Config.Timeout bounds each wait for the store: the time from the scan's
// start, or from the return of the client's write of a session, to the next session. A scan
// that makes no progress that long is cancelled, with an error that matches
// sessions.ErrUnavailable. A slow client does not count: the clock stops while a session is
// written. From another store, it walks pages of MaxLimit sessions with sessions.All, each
// ListSessions under a Config.Timeout of its own (pager).
func (h *Handler) exportSessions(ctx context.Context, f sessions.Filter) iter.Seq2[sessions.Session, error] {
	sc, ok := h.s.store.(sessions.Scanner)
	if !ok {
		f.Limit = sessions.MaxLimit
		return sessions.All(ctx, pager{h.s.store, h}, f)
	}
	return func(yield func(sessions.Session, error) bool) {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stalled := time.AfterFunc(h.s.timeout, func() { cancel(errScanStalled) })
		defer stalled.Stop()
		stopped := false
		err := sc.ScanSessions(ctx, f, func(s sessions.Session) error {
			stalled.Stop()
			if !yield(s, nil) {
				stopped = true
				return errScanStopped
			}
			stalled.Reset(h.s.timeout)
			return nil
		})
		if stopped || err == nil {
			return
		}
		if errors.Is(context.Cause(ctx), errScanStalled) {
			err = fmt.Errorf("%w: %w after %v (%w)", sessions.ErrUnavailable, errScanStalled, h.s.timeout, err)
		}
		yield(sessions.Session{}, err)
	}
}

// The causes with which exportSessions ends a scan: its caller stopped, or the store made no
// progress for Config.Timeout.
var (
	errScanStopped = errors.New("httpapi: export stopped")
	errScanStalled = errors.New("httpapi: export: no session from the store")
)

// pager is the store of an export's walk: each ListSessions call has its own Config.Timeout, so
// that the timeout bounds a page and not the whole export.
type pager struct {
	sessions.Store
	h *Handler
}

func (p pager) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	var page sessions.Page
	err := p.h.storeCall(ctx, func(ctx context.Context) error {
		var err error
		page, err = p.Store.ListSessions(ctx, f)
		return err
	})
	return page, err
}

// exportFilename returns the name of an export's file: its scope (the agent ID, or "account"),
// its window in compact UTC times (the request's time when it gave no until), and the format's
// extension: sessions_agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA_20260503T120000Z_20260504T120000Z.csv. It
// holds only letters, digits, "_" and ".".
func (h *Handler) exportFilename(win window, ep *endpoint) string {
	scope := "account"
	if win.f.AgentID != "" {
		scope = win.f.AgentID // checked: agt_ and a ULID
	}
	since, until := win.bounds()
	if until.IsZero() {
		until = h.s.now()
	}
	const layout = "20060102T150405Z"
	return "sessions_" + scope + "_" + since.UTC().Format(layout) + "_" + until.UTC().Format(layout) + "." + exportExtensions[win.q.format]
}

// exporter writes the body of an export, gathering rows in its encoder's buffer.
type exporter struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	format    exportFormat
	e         *pageEncoder
	lastFlush time.Time
}

// start sends the status line and headers, and puts the CSV header row in the buffer.
func (x *exporter) start(filename string) {
	hdr := x.w.Header()
	hdr.Set("Content-Type", exportContentTypes[x.format])
	hdr.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	x.w.WriteHeader(http.StatusOK)
	x.e.buf = x.e.buf[:0]
	if x.format == formatCSV {
		x.e.buf = append(x.e.buf, csvHeader...)
	}
	x.lastFlush = time.Now()
}

// add writes one session, and flushes when the buffer is full or has waited exportFlushEvery.
// It returns the error of a failed write: the client went away.
func (x *exporter) add(s *sessions.Session) error {
	if x.format == formatCSV {
		x.e.buf = x.e.appendCSVRow(x.e.buf, s)
	} else {
		x.e.buf = append(x.e.appendSession(x.e.buf, accountExportEndpoint, s), '\n')
	}
	if len(x.e.buf) >= exportFlushSize || time.Since(x.lastFlush) >= exportFlushEvery {
		return x.flush()
	}
	return nil
}

// flush writes the buffer and flushes the response to the client.
func (x *exporter) flush() error {
	x.lastFlush = time.Now()
	if len(x.e.buf) == 0 {
		return nil
	}
	err := writeFlush(x.w, x.rc, x.e.buf, exportWriteWait)
	x.e.buf = x.e.buf[:0]
	if errors.Is(err, http.ErrNotSupported) {
		return nil // written, not flushed: the server sends it when its buffer fills
	}
	return err
}
