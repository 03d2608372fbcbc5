package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// The routes of the summaries.
const (
	routeAgentSummary = "/api/v1/agents/{agent_id}/sessions/summary"
	routeSummary      = "/api/v1/sessions/summary"
)

// The summary endpoints take the list's filters, without limit and cursor.
var (
	agentSummaryEndpoint   = newEndpoint("agent-summary", true, false, paramSince, paramUntil, paramStatus, paramMinRedactions)
	accountSummaryEndpoint = newEndpoint("account-summary", false, false, paramSince, paramUntil, paramStatus, paramMinRedactions, paramAgentID)
)

// AgentSummary returns the handler of GET /api/v1/agents/{agent_id}/sessions/summary alone, to
// mount in a router of another shape; it takes the agent ID from Config.AgentID and ignores the
// path otherwise.
func (h *Handler) AgentSummary() http.Handler { return h.agentSummary }

// Summary returns the handler of GET /api/v1/sessions/summary alone, to mount in a router of
// another shape. It ignores the path.
func (h *Handler) Summary() http.Handler { return h.accountSummary }

// window is a checked request for the sessions of a window: its account, its parsed query, and
// its filter, without Limit and After.
type window struct {
	account string
	q       query
	f       sessions.Filter
}

// checkWindow runs the first steps of a summary or export request, as the list does:
// authentication, method, parameters, agent ID form, filter. Relative bounds are resolved once, here,
// against Config.Now.
func (h *Handler) checkWindow(r *http.Request, ep *endpoint) (window, error) {
	account, err := h.caller(r)
	if err != nil {
		return window{}, err
	}
	q, err := parseQuery(r.URL.RawQuery, ep, h.s.now())
	if err != nil {
		return window{}, err
	}
	pathAgent := ""
	if ep.agentPath {
		route := routeAgentSummary
		if ep == agentExportEndpoint {
			route = routeAgentExport
		}
		if pathAgent, err = pathValue(r, h.s.agentID, h.s.customAgentID, route, "agent_id", "AgentID"); err != nil {
			return window{}, err
		}
	}
	f, _, err := q.filter(ep, account, pathAgent, h.s.keys) // no cursor: the query gives the filter
	if err != nil {
		return window{}, err
	}
	f.Limit = 0
	if (ep.agentPath || f.AgentID != "") && !sessions.IsAgentID(f.AgentID) {
		return window{}, sessions.ErrAgentNotFound // malformed or missing: the same 404 as unknown
	}
	if err := f.Validate(); err != nil {
		return window{}, err
	}
	return window{account, q, f}, nil
}

// checkAgent returns sessions.ErrAgentNotFound when the window names an agent that the account
// does not have.
func (h *Handler) checkAgent(ctx context.Context, w window) error {
	if w.f.AgentID == "" {
		return nil
	}
	_, err := h.s.store.GetAgent(ctx, w.account, w.f.AgentID)
	return err
}

// serveSummary serves a summary: the agent check and the summary run under one Config.Timeout.
//
// The store's sessions.Summarizer gives the summary. A store that does not implement it is
// summarized by folding a walk of its pages (sessions.All and sessions.Summary.Add): the same
// numbers, at the cost of reading every session of the window, and not from one snapshot.
func serveSummary(h *Handler, w http.ResponseWriter, r *http.Request, _ string, ep *endpoint) error {
	win, err := h.checkWindow(r, ep)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.s.timeout)
	defer cancel()
	var sum sessions.Summary
	err = h.accountCall(ctx, win.f.AccountID, func(ctx context.Context) error {
		if err := h.checkAgent(ctx, win); err != nil {
			return err
		}
		var err error
		sum, err = summarize(ctx, h.s.store, win.f)
		return err
	})
	if err != nil {
		return err
	}
	e := getPageEncoder()
	defer putPageEncoder(e)
	since, until := win.bounds()
	e.buf = appendSummary(e.buf[:0], since, until, sum)
	writeBody(w, r, http.StatusOK, "application/json", e.buf)
	return nil
}

// summarize returns the summary of f from s's sessions.Summarizer, or the fold of a walk when s
// does not implement it.
func summarize(ctx context.Context, s sessions.Store, f sessions.Filter) (sessions.Summary, error) {
	if sz, ok := s.(sessions.Summarizer); ok {
		return sz.SummarizeSessions(ctx, f)
	}
	sum := sessions.NewSummary()
	for sess, err := range sessions.All(ctx, s, f) {
		if err != nil {
			return sessions.Summary{}, err
		}
		sum.Add(sess)
	}
	return sum, nil
}

// bounds returns the window's bounds as the response states them: the resolved since, and the
// resolved until or the zero time when the request gave none. A bound is rounded up to the
// millisecond as the store reads it (sessions.Filter.Normalize), so that the stated bound selects
// exactly the sessions counted.
func (w window) bounds() (since, until time.Time) {
	n := w.f.Normalize()
	since, until = n.Since, n.Until
	if since.IsZero() { // before the earliest time a store keeps: dropped, stated as given
		since = w.f.Since
	}
	if until.IsZero() && w.q.given[paramUntil] { // after the latest: dropped, stated as given
		until = w.f.Until
	}
	return since, until
}

// appendSummary writes the body of a summary response:
// {"summary":{"since":T,"until":T|null,"sessions":N,"by_status":{...},"redaction_count":N,
// "redactions_by_kind":{...},"duration_ms":N}}.
func appendSummary(b []byte, since, until time.Time, sum sessions.Summary) []byte {
	b = append(b, `{"summary":{"since":"`...)
	b = appendTime(b, since)
	b = append(b, `","until":`...)
	if until.IsZero() {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = appendTime(b, until)
		b = append(b, '"')
	}
	b = append(b, `,"sessions":`...)
	b = strconv.AppendInt(b, sum.Sessions, 10)
	b = append(b, `,"by_status":{"ok":`...)
	b = strconv.AppendInt(b, sum.ByStatus[sessions.StatusOK], 10)
	b = append(b, `,"error":`...)
	b = strconv.AppendInt(b, sum.ByStatus[sessions.StatusError], 10)
	b = append(b, `,"partial":`...)
	b = strconv.AppendInt(b, sum.ByStatus[sessions.StatusPartial], 10)
	b = append(b, `},"redaction_count":`...)
	b = strconv.AppendInt(b, sum.RedactionCount, 10)
	b = append(b, `,"redactions_by_kind":`...)
	b = kindsjson.Append(b, sum.RedactionsByKind)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, sum.Duration.Milliseconds(), 10)
	return append(b, "}}"...)
}
