package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// listQuery returns the keyset query of the filter f, which must be valid and normalized, and its
// arguments. It is the one place where the list SQL is put together, only from the fixed
// fragments below with numbered placeholders: no value of f is ever written into the SQL.
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
//     candidate row; on an unfiltered page it would only add a second descent per row.
//
// The agent's current name is read once per page, not once per row: for one agent as an
// uncorrelated subquery (an InitPlan, run once). Across the account, the query reads no name:
// ListSessions then reads the names of the page's distinct agents with agentNamesSQL. (In one
// statement, a join of the page's distinct agents with agents cost about 1 ms of planning,
// which each call pays, and a scalar array of the page's agents was compared with every row of
// agents.)
func listQuery(f sessions.Filter) (string, []any) {
	var where strings.Builder
	args := []any{f.AccountID}
	where.WriteString("account_id = $1")
	and := func(fragment string, values ...any) {
		n := make([]any, len(values))
		for i, v := range values {
			args = append(args, v)
			n[i] = len(args)
		}
		fmt.Fprintf(&where, fragment, n...)
	}
	if f.AgentID != "" {
		and(" AND agent_id = $%d", f.AgentID) // always $2: the name subquery below uses it
	}
	if !f.Since.IsZero() {
		and(" AND started_at >= $%d", f.Since)
	}
	if f.Status != "" {
		and(" AND status = $%d", string(f.Status))
	}
	if f.MinRedactions > 0 {
		and(" AND redaction_count >= $%d", int64(f.MinRedactions))
	}
	if before, ok := upperBound(f); ok {
		and(" AND (started_at, id) < ($%d, $%d)", before.StartedAt, before.ID)
	}
	args = append(args, f.Limit+1)
	page := fmt.Sprintf(listDirect, where.String(), len(args))
	if f.Status != "" || f.MinRedactions > 0 {
		page = fmt.Sprintf(listPrefiltered, where.String(), len(args))
	}
	if f.AgentID != "" {
		return fmt.Sprintf(listAgentNames, page), args
	}
	return page, args
}

// upperBound returns the position that every listed session comes strictly before, in list
// order: the smaller of the cursor and Until, since "before Until" is (started_at, id) <
// (Until, ”), every ID being longer than ”. The range then has one upper bound, always in
// the row-value form, which a generic plan (WithPreparedStatements) estimates as a wide range:
// with started_at < $n beside started_at >= $m, it took the window for a few rows and read
// one agent's sessions from the account-wide index.
func upperBound(f sessions.Filter) (sessions.Cursor, bool) {
	until := sessions.Cursor{StartedAt: f.Until}
	switch {
	case f.After == nil && f.Until.IsZero():
		return sessions.Cursor{}, false
	case f.After == nil:
		return until, true
	case f.Until.IsZero() || f.After.StartedAt.Before(f.Until):
		return *f.After, true
	}
	return until, true // at or before the cursor's time: (Until, '') is below (t, id)
}

// The fragments of listQuery: the page's rows, straight from an index scan (listDirect) or by ID
// after an index-only scan (listPrefiltered), each with %s the WHERE clause and %d the
// placeholder of the limit; and the page with the agents' names (%s the page).
const (
	listColumns = "id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model"
	listDirect  = `SELECT ` + listColumns + `
	FROM sessions
	WHERE %s
	ORDER BY started_at DESC, id DESC
	LIMIT $%d`
	listPrefiltered = `SELECT s.id, s.account_id, s.agent_id, s.started_at, s.ended_at, s.status,
		s.redactions_by_kind, s.upstream_model
	FROM (
		SELECT id, started_at FROM sessions
		WHERE %s
		ORDER BY started_at DESC, id DESC
		LIMIT $%d
	) AS k
	JOIN sessions s ON s.id = k.id
	ORDER BY k.started_at DESC, k.id DESC`
	listAgentNames = `SELECT page.*, (SELECT name FROM agents WHERE id = $2) AS agent_name
FROM (%s) AS page`
)

// agentNamesSQL reads the current names of the agents of a page of the account-wide list: $1 the
// account, $2 the page's distinct agent IDs.
const agentNamesSQL = "SELECT id, name FROM agents WHERE account_id = $1 AND id = ANY ($2)"

// ListSessions returns one page of the sessions that match f, newest first, with each session's
// AgentName from its agent's current name. It reads from the pool of WithReadPool when there is
// one. A page costs one index seek plus the index entries it reads (see listQuery), and one
// lookup per distinct agent of the page.
//
// It returns a *sessions.ValidationError for an invalid filter, an empty page for an agent that
// does not exist, and the context and connection errors of the package.
func (s *Store) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	return sessions.ListPage(ctx, f, s.list)
}

// list reads the sessions of the page of f, which is valid and normalized: up to f.Limit+1.
func (s *Store) list(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	query, args := listQuery(f)
	var ss []sessions.Session
	err := s.retry(ctx, s.read, func() error {
		ss = make([]sessions.Session, 0, f.Limit+1)
		rows, err := s.read.Query(ctx, query, append([]any{s.listMode}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var x sessions.Session
			var status string
			dest := []any{&x.ID, &x.AccountID, &x.AgentID, &x.StartedAt, &x.EndedAt, &status,
				(*kindsColumn)(&x.RedactionsByKind), &x.UpstreamModel, &x.AgentName}
			if f.AgentID == "" {
				dest = dest[:len(dest)-1] // the names come below
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			x.Status = sessions.Status(status)
			x.StartedAt, x.EndedAt = x.StartedAt.UTC(), x.EndedAt.UTC()
			if x.RedactionsByKind == nil {
				x.RedactionsByKind = map[string]int{}
			}
			ss = append(ss, x)
		}
		if err := rows.Err(); err != nil || f.AgentID != "" || len(ss) == 0 {
			return err
		}
		return s.agentNames(ctx, f.AccountID, ss)
	})
	return ss, err
}

// agentNames fills the AgentName of the sessions ss, of the account, with one query for their
// distinct agents.
func (s *Store) agentNames(ctx context.Context, account string, ss []sessions.Session) error {
	names := make(map[string]string, 8)
	ids := make([]string, 0, 8)
	for _, x := range ss {
		if _, ok := names[x.AgentID]; !ok {
			names[x.AgentID] = ""
			ids = append(ids, x.AgentID)
		}
	}
	rows, err := s.read.Query(ctx, agentNamesSQL, s.listMode, account, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		names[id] = name
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range ss {
		ss[i].AgentName = names[ss[i].AgentID]
	}
	return nil
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
