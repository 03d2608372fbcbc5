package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
)

// prefilterBudget is the most entries of the list index that prefilterQuery reads.
const prefilterBudget = 1000

// The fragments of the queries of filtered pages (prefilterQuery, groupIDs), besides those of
// listQuery. Values are always ? parameters.
const (
	// prefilterSelect reads the rows of the matching entries (k) by ID; CROSS JOIN keeps k the
	// outer loop, so the rows come in its order.
	prefilterSelect = `SELECT s.id, s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind,
	s.upstream_model, ` + namesVersion + `
FROM (SELECT id FROM (
	SELECT id, started_at, status, redaction_count FROM sessions`
	// prefilterScanned closes the scan of the list index, at most the budget's entries, whose
	// matches the next subquery keeps, in the scan's order (a subquery with a LIMIT under a
	// WHERE is run as a co-routine, never flattened nor sorted).
	prefilterScanned = " ORDER BY started_at DESC, id DESC LIMIT ?) WHERE 1"
	// prefilterRows closes the matching entries, at most the page's, and joins their rows.
	prefilterRows = " LIMIT ?) AS k CROSS JOIN sessions AS s ON s.id = k.id"

	groupAgentScope   = " INDEXED BY sessions_agent_groups WHERE account_id = ? AND agent_id = ?"
	groupAccountScope = " INDEXED BY sessions_account_groups WHERE account_id = ?"
	// groupNext finds the smallest redaction count, at least the given one, of a status.
	groupNext = " AND status = ? AND redaction_count >= ? ORDER BY redaction_count LIMIT 1"
	// groupOne selects a group's sessions; groupAfter keeps only those before the given
	// position in list order (the worst of a full page so far).
	groupOne   = " AND status = ? AND redaction_count = ?"
	groupAfter = " AND (started_at, id) > (?, ?)"

	// byIDsSQL reads the rows of a page by their IDs (a JSON array) in the account: one lookup
	// in the primary key per ID (CROSS JOIN keeps json_each the outer loop; with IN, SQLite
	// preferred to walk the account's index and test each entry against the list).
	byIDsSQL = `SELECT s.id, s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind,
	s.upstream_model, ` + namesVersion + `
FROM json_each(?2) AS j CROSS JOIN sessions AS s ON s.id = j.value
WHERE s.account_id = ?1`
)

// prefilterQuery returns the query of the first f.Limit+1 sessions that f (valid, normalized,
// with a status or min_redactions filter) selects among the next prefilterBudget entries of the
// list index of its scope, in list order, with their rows: one statement, whose scan of the list
// index decides the filter from the index entries (status and redaction_count are in their key)
// and reads the row of a matching entry only, by its ID. Its columns are listSelect's.
func prefilterQuery(f sessions.Filter) (string, []any) {
	var q strings.Builder
	q.WriteString(prefilterSelect)
	args := append([]any{f.AccountID}, scope(&q, f, listAgentScope, listAccountScope)...) // ?1 of namesVersion
	args = bounds(&q, f, args)
	q.WriteString(prefilterScanned)
	args = append(args, prefilterBudget)
	if f.Status != "" {
		q.WriteString(listStatus)
		args = append(args, string(f.Status))
	}
	if f.MinRedactions > 0 {
		q.WriteString(listMinRed)
		args = append(args, f.MinRedactions)
	}
	q.WriteString(prefilterRows)
	return q.String(), append(args, f.Limit+1)
}

// groupNextQuery returns the query of the next redaction count of a status in f's scope, whose
// arguments follow those returned: the status, then the least count.
func groupNextQuery(f sessions.Filter) (string, []any) {
	var q strings.Builder
	q.WriteString("SELECT redaction_count FROM sessions")
	args := scope(&q, f, groupAgentScope, groupAccountScope)
	q.WriteString(groupNext)
	return q.String(), args
}

// groupQuery returns the query of the positions of a group's first f.Limit+1 sessions from f's
// position, in list order, whose arguments follow those returned: the status and the count, then,
// when after is true, the position that they must come before.
//
// With after, the lower bound of the range is that position and not Since (it is a matching
// session's, so at or after Since): SQLite seeks with one lower bound, and the other would only
// filter, reading the rest of the group's range once the page is full.
func groupQuery(f sessions.Filter, after bool) (string, []any) {
	var q strings.Builder
	q.WriteString("SELECT id, started_at FROM sessions")
	args := scope(&q, f, groupAgentScope, groupAccountScope)
	if after {
		f.Since = time.Time{}
	}
	args = bounds(&q, f, args)
	q.WriteString(groupOne)
	if after {
		q.WriteString(groupAfter)
	}
	q.WriteString(listOrder)
	return q.String(), args
}

// scope writes the FROM's index and the WHERE clause of f's account and agent, and returns their
// arguments.
func scope(q *strings.Builder, f sessions.Filter, agentScope, accountScope string) []any {
	if f.AgentID != "" {
		q.WriteString(agentScope)
		return []any{f.AccountID, f.AgentID}
	}
	q.WriteString(accountScope)
	return []any{f.AccountID}
}

// bounds writes the time window and position of f, and returns args with their arguments.
func bounds(q *strings.Builder, f sessions.Filter, args []any) []any {
	if !f.Since.IsZero() {
		q.WriteString(listSince)
		args = append(args, f.Since.UnixMilli())
	}
	if before, ok := f.StartAfter(); ok {
		q.WriteString(listBefore)
		args = append(args, before.StartedAt.UnixMilli(), before.ID)
	}
	return args
}

// groupIDs returns the positions of the first f.Limit+1 sessions that f (with a status or
// min_redactions filter) selects, in list order, by a loose index scan of the groups index of
// its scope: for each status of the filter, each redaction count of at least MinRedactions
// that the scope holds, found by one seek each (groupNextQuery); from each such group, the
// sessions of a seek from f's position (groupQuery), which, once a page is full, must also
// come before its worst position. It reads at most the groups' seeks plus (groups) x
// (limit+1) index entries: the number of distinct (status, redaction_count) values of the
// agent or account, which does not grow with its sessions nor with the window. Its statements
// run in tx.
func (s *Store) groupIDs(ctx context.Context, tx *sql.Tx, f sessions.Filter) ([]sessions.Cursor, error) {
	statuses := []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}
	if f.Status != "" {
		statuses = []sessions.Status{f.Status}
	}
	nextSQL, nextArgs := groupNextQuery(f)
	next, err := s.preparedIn(ctx, tx, nextSQL)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	var page []sessions.Cursor // the best f.Limit+1 so far, in list order
	for _, st := range statuses {
		for count := int64(f.MinRedactions); ; count++ {
			err := next.QueryRowContext(ctx, append(nextArgs, string(st), count)...).Scan(&count)
			if err == sql.ErrNoRows {
				break
			}
			if err != nil {
				return nil, mapError(ctx, err)
			}
			full := len(page) > f.Limit
			query, args := groupQuery(f, full)
			args = append(args, string(st), count)
			if full {
				worst := page[len(page)-1]
				args = append(args, worst.StartedAt.UnixMilli(), worst.ID)
			}
			group, err := s.readPositions(ctx, tx, query, append(args, f.Limit+1)...)
			if err != nil {
				return nil, err
			}
			page = mergePositions(page, group, f.Limit+1)
		}
	}
	return page, nil
}

// prepareGroups prepares the statements of groupIDs for f and byIDsSQL on the read pool, where
// they are cached, before the transaction that runs them takes its connection (preparedIn).
func (s *Store) prepareGroups(ctx context.Context, f sessions.Filter) error {
	next, _ := groupNextQuery(f)
	first, _ := groupQuery(f, false)
	after, _ := groupQuery(f, true)
	for _, query := range []string{next, first, after, byIDsSQL} {
		if _, err := s.prepared(ctx, query); err != nil {
			return err
		}
	}
	return nil
}

// readPositions runs query, a query of (id, started_at), in tx, and returns its positions in
// order.
func (s *Store) readPositions(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]sessions.Cursor, error) {
	stmt, err := s.preparedIn(ctx, tx, query)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	defer rows.Close()
	var ps []sessions.Cursor
	for rows.Next() {
		var p sessions.Cursor
		var started int64
		if err := rows.Scan(&p.ID, &started); err != nil {
			return nil, mapError(ctx, err)
		}
		p.StartedAt = time.UnixMilli(started).UTC()
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(ctx, err)
	}
	return ps, nil
}

// mergePositions merges b into a, both in list order, and keeps the first n.
func mergePositions(a, b []sessions.Cursor, n int) []sessions.Cursor {
	out := make([]sessions.Cursor, 0, min(n, len(a)+len(b)))
	for len(out) < n && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || len(a) > 0 && a[0].Before(b[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

// comparePositions orders positions in list order, for slices.SortFunc.
func comparePositions(a, b sessions.Cursor) int {
	switch {
	case a.ID == b.ID:
		return 0
	case a.Before(b):
		return -1
	}
	return 1
}
