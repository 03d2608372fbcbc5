package httpapi

import (
	"context"
	"net/http"

	"github.com/masker-dev/sessions"
)

// routeSession is the route of one session.
const routeSession = "/api/v1/sessions/{session_id}"

// sessionEndpoint is GET /api/v1/sessions/{session_id}: no query parameter, and the item of the
// account-wide list (with agent_name and upstream_model).
var sessionEndpoint = newEndpoint("session", false, true)

// Session returns the handler of GET /api/v1/sessions/{session_id} alone, to mount in a router of
// another shape; it takes the session ID from Config.SessionID (by default
// r.PathValue("session_id")) and ignores the path otherwise.
func (h *Handler) Session() http.Handler { return h.session }

// serveSession serves one session (a route's run).
func serveSession(h *Handler, w http.ResponseWriter, r *http.Request, _ string, _ *endpoint) error {
	return h.getSession(w, r)
}

// getSession runs the pipeline of a request for one session: authentication, method, parameters
// (none is accepted), store, response. It writes the response when it returns nil. An unknown
// session, a malformed ID and a session of another account give the same 404.
func (h *Handler) getSession(w http.ResponseWriter, r *http.Request) error {
	account, err := h.caller(r)
	if err != nil {
		return err
	}
	sessionID, err := pathValue(r, h.s.sessionID, h.s.customSessionID, routeSession, "session_id", "SessionID")
	if err != nil {
		return err
	}
	if _, err := parseQuery(r.URL.RawQuery, sessionEndpoint, h.s.now()); err != nil {
		return err
	}
	if !sessions.IsSessionID(sessionID) {
		return sessions.ErrSessionNotFound // malformed or missing: the same 404 as unknown
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.s.timeout)
	defer cancel()
	var s sessions.Session
	err = h.accountCall(ctx, account, func(ctx context.Context) error {
		var err error
		s, err = h.s.store.GetSession(ctx, account, sessionID)
		return err
	})
	if err != nil {
		return err
	}
	setRows(r, 1)
	e := getPageEncoder()
	defer putPageEncoder(e)
	b := append(e.buf[:0], `{"session":`...)
	b = e.appendSession(b, sessionEndpoint, &s)
	b = append(b, '}')
	e.buf = b
	writeBody(w, r, http.StatusOK, "application/json", b)
	return nil
}
