// Package httpapi serves the session lists of a sessions.Store over HTTP, as the product
// documents them:
//
//	GET /api/v1/agents/{agent_id}/sessions  the sessions of one agent
//	GET /api/v1/sessions                    the sessions of every agent of the account
//	GET /api/v1/openapi.yaml                the OpenAPI 3.1 document of both
//
// A request goes through these steps, in this order: the method (405 with Allow for anything
// but GET and HEAD); authentication (401, before anything else is revealed); every query
// parameter (one 422 naming each bad one); the cursor against the query (422 naming cursor);
// the agent in the account (the same 404 for an unknown, malformed or foreign agent); the store,
// under the request's context and Config.Timeout (503 with Retry-After when it is down or slow);
// and the response. Every response carries an X-Request-Id; errors use the product's envelope
// {"error": {"code", "message", "request_id", "details"}}, and internal errors are logged with
// their cause, never shown.
//
// Input is bounded before it is parsed: a query string of more than 8 KiB or 32 parameters gets
// 422 with one detail naming "query"; a cursor longer than 1,024 bytes gets 422 naming cursor;
// an agent ID that is not "agt_" and a ULID gets the 404 of an unknown agent without a store
// call. min_redactions goes up to 1,000,000,000.
//
// Cursor tokens are opaque, signed with Config.CursorKey (HMAC-SHA256). They pin the query of
// their first page (account, agent, endpoint, resolved since and until, status, min_redactions):
// a later page may leave those parameters out or repeat them, with an omitted since counting as
// since=24h; only limit may change.
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
// In a router that keeps path parameters elsewhere, set Config.AgentID and mount
// Handler.AgentSessions and Handler.Sessions on the router's own routes.
package httpapi
