package client

import (
	"context"
	"encoding/json"
	"fmt"
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
}

// values returns the query parameters of q: window says whether since and until apply.
func (q Query) values(window bool) url.Values {
	v := url.Values{}
	if q.AgentID != "" {
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

// Sessions returns the sessions that q selects, newest first, as an iterator that reads pages of
// sessions.MaxLimit and follows next_cursor until the end. It yields (session, nil) for each
// session, and stops after yielding (zero Session, err) once on the first error. Breaking out of
// the loop stops it. Each session has every field of a /api/v1/sessions item (AccountID is left
// empty: the server does not send it). The walk has the guarantee of the API's cursors: every
// session that matched when the walk began, and still matches with the same start time, is
// yielded exactly once. A relative Since is resolved once, by the first page.
func (c *Client) Sessions(ctx context.Context, q Query) iter.Seq2[sessions.Session, error] {
	return func(yield func(sessions.Session, error) bool) {
		v := q.values(true)
		v.Set("limit", strconv.Itoa(sessions.MaxLimit))
		for {
			var page struct {
				Data       []item  `json:"data"`
				NextCursor *string `json:"next_cursor"`
			}
			if err := c.getJSON(ctx, "/api/v1/sessions", v, &page); err != nil {
				yield(sessions.Session{}, err)
				return
			}
			for _, it := range page.Data {
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
}

// Session returns the session with this ID. It returns an error matching
// sessions.ErrSessionNotFound when the account has no such session.
func (c *Client) Session(ctx context.Context, id string) (sessions.Session, error) {
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

// getJSON GETs path with v and decodes the JSON body of the 200 response into dst.
func (c *Client) getJSON(ctx context.Context, path string, v url.Values, dst any) error {
	h := http.Header{"Accept": {"application/json"}}
	resp, err := c.get(ctx, path, v, h)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return sessions.FromContextError(ctxErr)
		}
		return &connError{fmt.Errorf("reading the response of %s: %w", path, err)}
	}
	return nil
}

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
