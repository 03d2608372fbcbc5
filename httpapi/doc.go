// Package httpapi serves the sessions of a sessions.Store over HTTP, as the product documents
// them:
//
//	GET /api/v1/agents/{agent_id}/sessions  the sessions of one agent
//	GET /api/v1/sessions                    the sessions of every agent of the account
//	GET /api/v1/sessions/{session_id}       one session of the account
//	GET /api/v1/agents/{agent_id}/sessions/summary, /api/v1/sessions/summary
//	                                        the totals of a window
//	GET /api/v1/agents/{agent_id}/sessions/export, /api/v1/sessions/export
//	                                        every session of a window, as CSV or NDJSON
//	GET /api/v1/agents/{agent_id}/sessions/stream, /api/v1/sessions/stream
//	                                        the live tail, as Server-Sent Events
//	GET /api/v1/openapi.yaml                the OpenAPI 3.1 document of them all
//
// A request goes through these steps, in this order: authentication (401, before anything else
// is revealed, even the methods a route allows); the method (405 with Allow for anything but GET
// and HEAD); every query parameter (one 422 naming each bad one); the cursor against the query
// (422 naming cursor); the agent in the account (the same 404 for an unknown, malformed or
// foreign agent); the account's bound on concurrent store calls (429 too_many_requests with
// Retry-After, Config.MaxAccountCalls); the store, under the request's context and
// Config.Timeout (503 with Retry-After when it is down or slow); and the response. Every
// response carries an X-Request-Id; errors use the product's envelope
// {"error": {"code", "message", "request_id", "details"}}, and internal errors are logged with
// their cause, never shown.
//
// Request IDs: a request's own X-Request-Id is kept when it is safe to echo (1 to 128 bytes of
// printable ASCII without space, quotes, backslash, backquote or angle brackets), so that the ID
// a load balancer or the calling service made follows the request into these logs; any other
// value is replaced by a new "req_" and ULID, so that nothing a client sends can forge a header
// or a log line. Each request is logged once through Config.Logger, "httpapi: request" at info
// level with request_id, method, route (the pattern, never the path with its IDs), status,
// duration and rows; Config.DisableAccessLog turns that off.
//
// Input is bounded before it is parsed: a query string of more than 8 KiB or 32 parameters gets
// 422 with one detail naming "query"; a cursor longer than 1,024 bytes gets 422 naming cursor;
// an agent ID that is not "agt_" and a ULID gets the 404 of an unknown agent without a store
// call. min_redactions goes up to 1,000,000,000.
//
// Cursor tokens are opaque, HMAC-SHA256 signed and encrypted with keys derived from
// Config.CursorKey. They pin the query of their first page (account, agent, endpoint, resolved
// since and until, status, min_redactions): a later page may leave those parameters out or repeat
// them, with an omitted since counting as since=24h; only limit may change.
//
// Mount the Handler at the root of a server or mux, under a prefix with http.StripPrefix, or
// mount its endpoints one by one in another router:
//
//	h, err := httpapi.New(httpapi.Config{
//		Store:        store,
//		Authenticate: httpapi.CookieAuth("masker_session", verifySession),
//		CursorKey:    key, // 32 bytes or more, shared by every replica
//	})
//	if err != nil {
//		return err
//	}
//	mux := http.NewServeMux()
//	mux.Handle("/api/v1/", h)                           // at the root
//	mux.Handle("/audit/", http.StripPrefix("/audit", h)) // or under /audit/api/v1/...
//
// In a router that keeps path parameters elsewhere, set Config.AgentID (and Config.SessionID)
// and mount the handlers of single routes (Handler.AgentSessions, Sessions, Session, and those
// of the summaries, exports and streams) on the router's own routes, or set the path values
// with r.SetPathValue("agent_id", ...) before the handler. Register each route for every method
// (gin and echo: Any; chi: Handle), not GET alone, so that the handler answers HEAD, checks the
// credential first and gives its own 405 with Allow (README.md shows the three). A request that
// reaches the agent
// route without an agent ID (gin.WrapH and echo.WrapHandler alone do not pass it) is a
// configuration error: 500 internal_error, and an error log line that names the fix.
package httpapi
