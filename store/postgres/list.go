package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// listQuery returns the keyset query of the filter f, which must be valid and normalized, and its
// arguments. It is one of the two places where the list SQL is put together (with groupsQuery),
// only from the fixed fragments below with numbered placeholders: no value of f is ever written
// into the SQL.
//
// The page is read from sessions_agent_list (f.AgentID set) or sessions_account_list, whose
// keys are the equality columns followed by the list order (started_at DESC, id DESC), so that
// it starts at an index seek, needs no sort, and stops after limit+1 matching entries. The
// cursor is the row value (started_at, id) < (t, id), which the index reads as one bound. The
// page takes one of two shapes, chosen by the filter:
//
//   - Without a status or min_redactions filter, every entry that the scan reads is a row of
//     the page: an index scan reads each row from the table as it goes, exactly as the plain
//     keyset query does, and nothing more.
//   - With one, most entries may be skipped. Status and redaction_count are INCLUDE columns of
//     both indexes, so an index-only scan decides each entry without reading the table, and
//     only the page's limit+1 IDs are then read through the primary key. On a busy agent with
//     a selective filter this reads far fewer table pages than an index scan that fetches every
//     candidate row; on an unfiltered page it would only add a second descent per row. The
//     scan stops after prefilterBudget entries: a filter that matches fewer than limit+1 of
//     them is rare here, and ListSessions reads the page with groupsQuery instead.
//
// The agent's current name is read once per page for one agent, as an uncorrelated subquery
// (an InitPlan, run once). Across the account, the page reads instead the version of the
// account's agent names, once (an InitPlan too), and the names come from those that the store
// keeps at that version (names), or from one more statement for the page's distinct agents. A
// lookup in agents_pkey per row, as before, made the page cost 1.4 to 1.7 times the plain
// query (pgbench, prepared, page of 101 rows: 0.61-0.86 ms against 0.36-0.47 ms; with one
// lookup per page, 0.39-0.54 ms).
func listQuery(f sessions.Filter) (string, []any) {
	w := newWhere(f)
	w.bounds(f)
	filtered := f.Status != "" || f.MinRedactions > 0
	if !filtered {
		limit := w.arg(f.Limit + 1)
		return w.named(f, fmt.Sprintf(listDirect, w.String(), pageCap, limit)), w.args
	}
	filter := w.filter(f)
	limit := w.arg(f.Limit + 1)
	return w.named(f, fmt.Sprintf(listPrefiltered, w.String(), prefilterBudget, filter, pageCap, limit)), w.args
}

// prefilterBudget is the most index entries that the prefiltered shape of listQuery reads.
const prefilterBudget = 1000

// pageCap is the most rows that a page query reads: a page of MaxLimit and the one after it.
//
// The shapes of listQuery bound their scans by these two constants, written into the SQL as
// numbers (they come from this package, never from a request), besides the page's limit, a
// parameter. The planner can estimate a number, and not a parameter: for the generic plan of a
// prepared statement it takes a LIMIT $n for a tenth of its input's rows, and so costed a first
// page of a large account (no cursor to bound the range) at the scan of a tenth of the account,
// far above the plan for the values. The server then planned every call anew, 0.12 to 0.8 ms
// each on 10M sessions against 0.05 to 0.2 ms of execution, and the generic plan, when forced,
// passed jit_above_cost and was compiled on every call (5 to 9 ms). With the caps, the generic
// plan is costed at most pageCap rows, and prepared statements keep it after their first calls.
const pageCap = sessions.MaxLimit + 1

// groupsQuery returns the query of a page of f (valid, normalized, with a status or
// min_redactions filter) that costs what it returns, however rare the matches: a loose index
// scan over the groups of sessions_agent_groups or sessions_account_groups. Those indexes key
// the sessions by (status, redaction_count) before the list order, so that the sessions of one
// group, from a cursor, are one seek away and in list order.
//
// The recursive part finds the groups that the filter selects, one seek each: for each status
// of the filter (one, or all three), the smallest redaction_count at least MinRedactions, then
// the next larger one, and so on. For each group, a seek reads its first limit+1 sessions
// from the page's position; a top-N sort keeps the first limit+1 of all of them, whose rows are
// then read by ID. A page thus reads at most (groups) x (limit+1) index entries and (groups)
// seeks: the number of distinct (status, redaction_count) values of the agent or account, which
// does not grow with its number of sessions, nor with the time window.
func groupsQuery(f sessions.Filter) (string, []any) {
	w := newWhere(f)
	scope := w.String()
	statuses := []string{string(sessions.StatusOK), string(sessions.StatusError), string(sessions.StatusPartial)}
	if f.Status != "" {
		statuses = []string{string(f.Status)}
	}
	st, min := w.arg(statuses), w.arg(int64(f.MinRedactions))
	w.bounds(f)
	limit := w.arg(f.Limit + 1)
	q := fmt.Sprintf(listGroups, st, scope, min, scope, w.String(), limit)
	return w.named(f, q), w.args
}

// where builds the WHERE clause of a list query and its arguments.
type where struct {
	strings.Builder
	args []any
}

// newWhere starts the clause with the scope of f: its account, and its agent as $2.
func newWhere(f sessions.Filter) *where {
	w := &where{args: []any{f.AccountID}}
	w.WriteString("account_id = $1")
	if f.AgentID != "" {
		fmt.Fprintf(w, " AND agent_id = $%d", w.arg(f.AgentID)) // $2: the name subquery uses it
	}
	return w
}

// arg adds an argument and returns its placeholder's number.
func (w *where) arg(v any) int {
	w.args = append(w.args, v)
	return len(w.args)
}

// bounds adds the time window and the cursor of f.
func (w *where) bounds(f sessions.Filter) {
	if !f.Since.IsZero() {
		fmt.Fprintf(w, " AND started_at >= $%d", w.arg(f.Since))
	}
	// One upper bound, in the row-value form, whether from the cursor or Until: a generic plan
	// estimates it as a wide range, where started_at < $n beside started_at >= $m took the
	// window for a few rows and read one agent's sessions from the account-wide index.
	if before, ok := f.StartAfter(); ok {
		fmt.Fprintf(w, " AND (started_at, id) < ($%d, $%d)", w.arg(before.StartedAt), w.arg(before.ID))
	}
}

// filter returns the conditions of the status and min_redactions filters of f, each after AND
// (none: ""), and adds their arguments.
func (w *where) filter(f sessions.Filter) string {
	var filter strings.Builder
	if f.Status != "" {
		fmt.Fprintf(&filter, " AND status = $%d", w.arg(string(f.Status)))
	}
	if f.MinRedactions > 0 {
		fmt.Fprintf(&filter, " AND redaction_count >= $%d", w.arg(int64(f.MinRedactions)))
	}
	return filter.String()
}

// named wraps the page query q with the agents' names.
func (w *where) named(f sessions.Filter, q string) string {
	if f.AgentID != "" {
		return fmt.Sprintf(listAgentNames, q)
	}
	return fmt.Sprintf(listAccountNames, q)
}

// The fragments of listQuery and groupsQuery: the page's rows straight from an index scan
// (listDirect: the WHERE clause, pageCap, the limit's placeholder); by ID after an index-only
// scan of at most a budget of entries (listPrefiltered: the WHERE clause, prefilterBudget, the
// filter, pageCap, the limit's placeholder); by ID after a loose index scan of the groups
// (listGroups: the statuses' and the minimum's placeholders, the scope twice, the WHERE clause,
// the limit); and the page with the agent's name or the version of the account's names
// (listAgentNames, listAccountNames: the page).
const (
	listColumns = "id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model"
	listDirect  = `SELECT ` + listColumns + `
	FROM (
		SELECT ` + listColumns + ` FROM sessions
		WHERE %s
		ORDER BY started_at DESC, id DESC
		LIMIT %d
	) AS capped
	ORDER BY started_at DESC, id DESC
	LIMIT $%d`
	listPrefiltered = `SELECT s.id, s.account_id, s.agent_id, s.started_at, s.ended_at, s.status,
		s.redactions_by_kind, s.upstream_model
	FROM (
		SELECT id, started_at FROM (
			SELECT id, started_at, status, redaction_count FROM sessions
			WHERE %s
			ORDER BY started_at DESC, id DESC
			LIMIT %d
		) AS scanned
		WHERE true%s
		ORDER BY started_at DESC, id DESC
		LIMIT %d
	) AS k
	JOIN sessions s ON s.id = k.id
	ORDER BY k.started_at DESC, k.id DESC
	LIMIT $%d`
	listGroups = `WITH RECURSIVE groups (status, n) AS (
		SELECT st.status, (SELECT redaction_count FROM sessions
			WHERE %[2]s AND status = st.status AND redaction_count >= $%[3]d
			ORDER BY redaction_count LIMIT 1)
		FROM unnest($%[1]d::text[]) AS st (status)
	UNION ALL
		SELECT g.status, (SELECT redaction_count FROM sessions
			WHERE %[4]s AND status = g.status AND redaction_count > g.n
			ORDER BY redaction_count LIMIT 1)
		FROM groups g
		WHERE g.n IS NOT NULL
	)
	SELECT s.id, s.account_id, s.agent_id, s.started_at, s.ended_at, s.status,
		s.redactions_by_kind, s.upstream_model
	FROM (
		SELECT p.id, p.started_at
		FROM groups g
		CROSS JOIN LATERAL (
			SELECT id, started_at FROM sessions
			WHERE %[5]s AND status = g.status AND redaction_count = g.n
			ORDER BY started_at DESC, id DESC
			LIMIT $%[6]d
		) AS p
		WHERE g.n IS NOT NULL
		ORDER BY p.started_at DESC, p.id DESC
		LIMIT $%[6]d
	) AS k
	JOIN sessions s ON s.id = k.id
	ORDER BY k.started_at DESC, k.id DESC`
	listAgentNames = `SELECT page.*, (SELECT name FROM agents WHERE id = $2) AS agent_name
FROM (%s) AS page`
	listAccountNames = `SELECT page.*, (SELECT version FROM agent_names_versions WHERE account_id = $1) AS names_version
FROM (%s) AS page`
)

// ListSessions returns one page of the sessions that match f, newest first, with each session's
// AgentName from its agent's current name. It reads from the pool of WithReadPool when there is
// one. A page costs one index seek plus the index entries it reads (see listQuery), and one
// lookup for its agents' names; an account-wide page whose agents' names the store does not keep
// at their current version, one statement more (names).
//
// It returns a *sessions.ValidationError for an invalid filter, an empty page for an agent that
// does not exist, and the context and connection errors of the package.
func (s *Store) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	return sessions.ListPage(ctx, f, s.list)
}

// list reads the sessions of the page of f, which is valid and normalized: up to f.Limit+1.
func (s *Store) list(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	var ss []sessions.Session
	err := s.retry(ctx, s.read, func() error {
		var err error
		var version int64
		query, args := listQuery(f)
		if ss, version, err = s.readPage(ctx, f, query, args, f.AgentID != ""); err != nil {
			return err
		}
		if len(ss) <= f.Limit && (f.Status != "" || f.MinRedactions > 0) {
			// Fewer matches than a page in the prefilter's budget: a rare filter here (or the
			// end of the list, which the groups find again at the cost of their seeks).
			query, args := groupsQuery(f)
			if ss, version, err = s.readPage(ctx, f, query, args, f.AgentID != ""); err != nil {
				return err
			}
		}
		if f.AgentID == "" { // the page that is returned, named once
			return s.names.Name(ctx, f.AccountID, version, ss, s.agentNames)
		}
		return nil
	})
	return ss, err
}

// readPage runs a page query (of listQuery or groupsQuery, or a scan's batch) and scans its
// rows. The last column is the agent's name when withName (an agent's page), and otherwise the
// version of the account's names, which it returns (0 for NULL), for agentnames.Kept.Name.
func (s *Store) readPage(ctx context.Context, f sessions.Filter, query string, args []any, withName bool) ([]sessions.Session, int64, error) {
	ss := make([]sessions.Session, 0, f.Limit+1)
	rows, err := s.read.Query(ctx, query, append([]any{s.listMode}, args...)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var version *int64 // of the account's names; NULL: version 0
	for rows.Next() {
		var x sessions.Session
		var status string
		var last any = &version
		if withName {
			last = &x.AgentName
		}
		if err := rows.Scan(&x.ID, &x.AccountID, &x.AgentID, &x.StartedAt, &x.EndedAt, &status,
			(*kindsColumn)(&x.RedactionsByKind), &x.UpstreamModel, last); err != nil {
			return nil, 0, err
		}
		x.Status = sessions.Status(status)
		x.StartedAt, x.EndedAt = x.StartedAt.UTC(), x.EndedAt.UTC()
		if x.RedactionsByKind == nil {
			x.RedactionsByKind = map[string]int{}
		}
		ss = append(ss, x)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return ss, valueOrZero(version), nil
}

// kindsColumn scans the jsonb redactions_by_kind straight from the driver's buffer (pgx hands a
// BytesScanner the bytes without a copy) with kindsjson.Parse, rather than through
// encoding/json, which took about half of the Go time of a page.
type kindsColumn map[string]int

// ScanBytes implements pgtype.BytesScanner.
func (k *kindsColumn) ScanBytes(src []byte) error {
	m, err := kindsjson.Parse(src)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	*k = m
	return nil
}
