// Package client is a typed Go client of the sessions HTTP API: the routes that package httpapi
// serves, and that the product serves under the same paths.
//
// A [Client] lists sessions as an iterator that follows next_cursor ([Client.Sessions] on
// /api/v1/sessions, [Client.AgentSessions] on /api/v1/agents/{agent_id}/sessions), reads one
// session ([Client.Session]), the summary of a window ([Client.Summary]), streams an export into
// an io.Writer ([Client.Export]), and follows the live tail as an iterator that reconnects by
// itself with Last-Event-ID, so that a dropped connection or a server restart loses and repeats
// nothing ([Client.Tail]). With [Query.AgentID] set, the summary, the export and the tail use the
// agent's routes, and the list the account's route with agent_id.
//
// It authenticates with the product's session cookie ([WithCookie]) or a bearer token
// ([WithBearerToken]), over the caller's *http.Client ([WithHTTPClient]). A 502, 503, 504 or 429
// response is retried after its Retry-After, a bounded number of times ([WithRetries]), and so is
// a network error; a Retry-After that would pass ctx's deadline, or of more than a minute, gives
// the error at once (its RetryAfter says how long the server asked for). The tail reconnects a
// bounded number of times in a row ([WithTailReconnects]) and drops a connection that stays silent
// ([WithTailIdleTimeout]).
//
// Errors from the server are an [*Error], which keeps the envelope (status, code, message,
// request ID, details) and matches the errors of package sessions: errors.Is(err,
// sessions.ErrAgentNotFound), sessions.ErrSessionNotFound and sessions.ErrUnavailable, and
// errors.As(err, &ve) with a *sessions.ValidationError for a 422. A server that cannot be
// reached gives an error matching sessions.ErrUnavailable too.
//
// A Client is safe for concurrent use by multiple goroutines.
package client
