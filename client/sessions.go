package client

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/masker-dev/sessions"
)

// Query selects sessions: the filters of the list, the summary, the export and (AgentID, Status
// and MinRedactions only) the tail. The zero Query selects every session of the account that
// started in the server's default window (the last 24 hours).
type Query struct {
	AgentID       string          // "" selects every agent of the account
	Since         string          // a duration back from now ("90m", "7d", "1d12h") or a timestamp ("2026-05-03", RFC 3339); "": the server's default, 24h
	Until         string          // the same forms; "": no upper bound
	Status        sessions.Status // "": any status
	MinRedactions int             // sessions with at least this many redactions; 0: any
	// PageSize is how many sessions Sessions and AgentSessions ask for in each request, 1 to
	// sessions.MaxLimit; 0 means sessions.MaxLimit. It changes the number of requests, never
	// which sessions are yielded: ask for what you will read (a caller that stops after 10
	// sessions reads them in one request of 10). The other methods ignore it.
	PageSize int
}

// values returns the query parameters of q: window says whether since and until apply, agent
// whether agent_id is sent (the account routes) or not (the agent routes, which carry it in
// their path).
func (q Query) values(window, agent bool) url.Values {
	v := url.Values{}
	if agent && q.AgentID != "" {
		v.Set("agent_id", q.AgentID)
	}
	if window && q.Since != "" {
		v.Set("since", q.Since)
	}
	if window && q.Until != "" {
		v.Set("until", q.Until)
	}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.MinRedactions != 0 {
		v.Set("min_redactions", strconv.Itoa(q.MinRedactions))
	}
	return v
}

// route returns the path and the parameters of a route of the summary, the export or the
// stream (suffix "/summary", "/export" or "/stream"): the agent's route when q names an agent,
// the account's otherwise. They answer alike. An agent ID that cannot be a path segment gives
// an error matching sessions.ErrAgentNotFound; see agentPath.
func (q Query) route(suffix string, window bool) (string, url.Values, error) {
	if q.AgentID != "" {
		path, err := agentPath(q.AgentID)
		return path + suffix, q.values(window, false), err
	}
	return "/api/v1/sessions" + suffix, q.values(window, true), nil
}

// agentPath returns the escaped path of the agent's sessions. An agent ID that is empty, "." or
// ".." gives an error matching sessions.ErrAgentNotFound, with no request: PathEscape leaves
// them as they are, and a server's router or a proxy in front of it resolves them as dot
// segments (RFC 3986), so that /api/v1/agents/../sessions/summary would read the summary of the
// whole account (net/http's ServeMux redirects there, and the client follows).
func agentPath(agentID string) (string, error) {
	if !pathSegment(agentID) {
		return "", fmt.Errorf("client: agent ID %q: %w", agentID, sessions.ErrAgentNotFound)
	}
	return "/api/v1/agents/" + url.PathEscape(agentID) + "/sessions", nil
}

// pathSegment says whether id, escaped with url.PathEscape, stays one path segment of its own:
// not empty, and not a dot segment ("." or "..") that a router or a proxy removes.
func pathSegment(id string) bool {
	return id != "" && id != "." && id != ".."
}

// pageValues returns the parameters of the first page of a list of q.
func (q Query) pageValues(agent bool) (url.Values, error) {
	if q.PageSize < 0 || q.PageSize > sessions.MaxLimit {
		return nil, &sessions.ValidationError{Field: "limit", Reason: fmt.Sprintf("PageSize %d: want 1 to %d, or 0 for %d", q.PageSize, sessions.MaxLimit, sessions.MaxLimit)}
	}
	v := q.values(true, agent)
	v.Set("limit", strconv.Itoa(cmp.Or(q.PageSize, sessions.MaxLimit)))
	return v, nil
}

// Sessions returns the sessions that q selects, newest first, as an iterator that reads pages of
// q.PageSize and follows next_cursor until the end. It yields (session, nil) for each session,
// and stops after yielding (zero Session, err) once on the first error. Breaking out of the loop
// stops it. The walk has the guarantee of the API's cursors: every session that matched when
// the walk began, and still matches with the same start time, is yielded exactly once. A
// relative Since is resolved once, by the first page.
//
// It reads the account's route, /api/v1/sessions, with agent_id when q.AgentID is set, rather
// than the agent's: its items carry every field of a session, AgentName and UpstreamModel
// included (AccountID is left empty: the server does not send it). See AgentSessions for the
// agent's route.
func (c *Client) Sessions(ctx context.Context, q Query) iter.Seq2[sessions.Session, error] {
	return func(yield func(sessions.Session, error) bool) {
		v, err := q.pageValues(true)
		if err != nil {
			yield(sessions.Session{}, err)
			return
		}
		c.walk(ctx, "/api/v1/sessions", v, yield)
	}
}

// AgentSessions is Sessions on the agent's route, /api/v1/agents/{agent_id}/sessions, the
// endpoint that the product documents first: the sessions of agentID that q selects (q.AgentID
// must be "" or agentID). Its items have no agent_name and no upstream_model, so AgentName and
// UpstreamModel are empty in every session it yields (and AccountID, as with Sessions). An
// unknown agent gives an error matching sessions.ErrAgentNotFound.
func (c *Client) AgentSessions(ctx context.Context, agentID string, q Query) iter.Seq2[sessions.Session, error] {
	return func(yield func(sessions.Session, error) bool) {
		if q.AgentID != "" && q.AgentID != agentID {
			yield(sessions.Session{}, &sessions.ValidationError{Field: "agent_id", Reason: fmt.Sprintf("Query.AgentID %q is not the agent of the route %q", q.AgentID, agentID)})
			return
		}
		path, err := agentPath(agentID)
		if err != nil {
			yield(sessions.Session{}, err)
			return
		}
		v, err := q.pageValues(false)
		if err != nil {
			yield(sessions.Session{}, err)
			return
		}
		c.walk(ctx, path, v, yield)
	}
}

// walk yields the sessions of the list at path from the first page of v, following next_cursor.
func (c *Client) walk(ctx context.Context, path string, v url.Values, yield func(sessions.Session, error) bool) {
	for {
		var page struct {
			Data       *[]item `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := c.getJSON(ctx, path, v, &page); err != nil {
			yield(sessions.Session{}, err)
			return
		}
		// A page without data, or whose next page is itself or follows no session, is not the
		// API's (a page with a next cursor is never empty): following it could loop for ever.
		if page.Data == nil || page.NextCursor != nil && (len(*page.Data) == 0 || *page.NextCursor == v.Get("cursor")) {
			yield(sessions.Session{}, &connError{fmt.Errorf("%w: a page of %s with no data, or an empty or repeated next_cursor", errMalformed, path)})
			return
		}
		for _, it := range *page.Data {
			if !yield(it.session(), nil) {
				return
			}
		}
		if page.NextCursor == nil {
			return
		}
		// The cursor pins the query: the parameters are sent again unchanged, as the API allows.
		v.Set("cursor", *page.NextCursor)
	}
}

// Session returns the session with this ID. It returns an error matching
// sessions.ErrSessionNotFound when the account has no such session, and for an ID that cannot
// be a path segment ("", "." or ".."; see agentPath) without a request.
func (c *Client) Session(ctx context.Context, id string) (sessions.Session, error) {
	if !pathSegment(id) {
		return sessions.Session{}, fmt.Errorf("client: session ID %q: %w", id, sessions.ErrSessionNotFound)
	}
	var body struct {
		Session *item `json:"session"`
	}
	if err := c.getJSON(ctx, "/api/v1/sessions/"+url.PathEscape(id), nil, &body); err != nil {
		return sessions.Session{}, err
	}
	if body.Session == nil {
		return sessions.Session{}, &connError{errMalformed}
	}
	return body.Session.session(), nil
}

// getJSON GETs path with v and decodes the JSON body of the 200 response into dst. A body cut
// midway (a dropped connection) is read again, within the retries of WithRetries, since nothing
// of it was used.
func (c *Client) getJSON(ctx context.Context, path string, v url.Values, dst any) error {
	h := http.Header{"Accept": {"application/json"}}
	for attempt := 0; ; attempt++ {
		resp, err := c.get(ctx, path, v, h)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody))
		drain(resp.Body)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return sessions.FromContextError(ctxErr)
			}
			err = &connError{fmt.Errorf("reading the response of %s: %w", path, err)}
			if wait := c.backoff.delay(attempt); attempt < c.retries && fits(ctx, wait) {
				if err := sleep(ctx, wait); err != nil {
					return err
				}
				continue
			}
			return err
		}
		if err := json.Unmarshal(body, dst); err != nil {
			return &connError{fmt.Errorf("%w: the response of %s: %v", errMalformed, path, err)}
		}
		return nil
	}
}

// maxJSONBody bounds the JSON body that getJSON reads: a page of MaxLimit sessions is a few
// hundred KB at most.
const maxJSONBody = 16 << 20

// item is a session as the API sends it: an item of /api/v1/sessions.
type item struct {
	ID               string          `json:"id"`
	AgentID          string          `json:"agent_id"`
	AgentName        string          `json:"agent_name"`
	StartedAt        time.Time       `json:"started_at"`
	EndedAt          time.Time       `json:"ended_at"`
	Status           sessions.Status `json:"status"`
	RedactionsByKind map[string]int  `json:"redactions_by_kind"`
	UpstreamModel    *string         `json:"upstream_model"`
}

// session converts an item: times in UTC, RedactionsByKind never nil.
func (it item) session() sessions.Session {
	s := sessions.Session{
		ID:               it.ID,
		AgentID:          it.AgentID,
		AgentName:        it.AgentName,
		StartedAt:        it.StartedAt.UTC(),
		EndedAt:          it.EndedAt.UTC(),
		Status:           it.Status,
		RedactionsByKind: it.RedactionsByKind,
	}
	if s.RedactionsByKind == nil {
		s.RedactionsByKind = map[string]int{}
	}
	if it.UpstreamModel != nil {
		s.UpstreamModel = *it.UpstreamModel
	}
	return s
}
