package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// The fragments of the keyset query, which listQuery, prefilterQuery and groupQuery put
// together. Values are always ? parameters.
//
// The scope fragments name their index with INDEXED BY: sessions_agent_list
// (account_id, agent_id, started_at DESC, id DESC, status, redaction_count) for one agent,
// sessions_account_list (account_id, started_at DESC, id DESC, status, redaction_count) for the
// account. Each is in list order after its equality columns, so the ORDER BY needs no sort, and
// the page is a seek to the start of the range plus a walk of the index that stops after
// LIMIT rows; the status and redaction_count filters of prefilterQuery are decided from the
// index entry before the row is read. INDEXED BY makes the plan independent of statistics (ANALYZE), and the
// statement fails, rather than runs slowly, if a change of schema ever makes the index unusable.
//
// The agents' names are not read for each row: the last column of a page is the version of
// the account's agent names (namesVersion), and the names come from those the store keeps at
// that version (names.go).
const (
	// namesVersion is the version of the account's agent names (migration 0007), an
	// uncorrelated subquery that SQLite runs once per statement. It names the account ?1, so
	// that the statements that start with it take the account twice: ?1, then the scope's ?.
	namesVersion = "(SELECT version FROM agent_names_versions WHERE account_id = ?1)"
	listSelect   = `SELECT id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model,
	` + namesVersion + `
FROM sessions`
	listAgentScope   = " INDEXED BY sessions_agent_list WHERE account_id = ? AND agent_id = ?"
	listAccountScope = " INDEXED BY sessions_account_list WHERE account_id = ?"
	listSince        = " AND started_at >= ?"
	// listBefore is the upper bound: the cursor, or Until, whichever the page starts after
	// (sessions.Filter.StartAfter), so that the range has one upper bound, in the row-value form
	// that SQLite seeks with.
	listBefore = " AND (started_at, id) < (?, ?)"
	listStatus = " AND status = ?"
	listMinRed = " AND redaction_count >= ?"
	listOrder  = " ORDER BY started_at DESC, id DESC LIMIT ?"
)

// listQuery returns the keyset query of the filter f, which must be valid, normalized and
// without a status or min_redactions filter (see prefilterQuery and groupIDs for those), and
// its arguments: limit+1 sessions from f's position, in list order. The EXPLAIN test checks the
// plans of the very queries it makes.
func listQuery(f sessions.Filter) (string, []any) {
	var q strings.Builder
	q.WriteString(listSelect)
	args := append([]any{f.AccountID}, appendKeyset(&q, f)...) // ?1 of namesVersion, then the scope's
	q.WriteString(listOrder)
	args = append(args, f.Limit+1)
	return q.String(), args
}

// appendKeyset writes the scope, the lower bound and the seek of f after a query's head, and
// returns their arguments: the part that listQuery and scanQuery share, on the same index.
func appendKeyset(q *strings.Builder, f sessions.Filter) []any {
	args := []any{f.AccountID}
	if f.AgentID != "" {
		q.WriteString(listAgentScope)
		args = append(args, f.AgentID)
	} else {
		q.WriteString(listAccountScope)
	}
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

// ListSessions returns one page of the sessions that match f, newest first (StartedAt
// descending, then ID descending), with AgentName filled from the agent's current name. A page is
// one index seek plus the index entries it reads (see listQuery). It returns a
// *sessions.ValidationError for an invalid filter, an empty page for an agent that does not
// exist, and the context and database errors of the package.
func (s *Store) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	return sessions.ListPage(ctx, f, s.list)
}

// list reads the sessions of the page of f, which is valid and normalized: up to f.Limit+1,
// and names their agents once (agentnames.Kept.Name).
func (s *Store) list(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	ss, version, err := s.readPage(ctx, f)
	if err != nil {
		return nil, err
	}
	return ss, s.names.Name(ctx, f.AccountID, version, ss, s.agentNames)
}

// readPage reads the sessions of the page of f, without their agents' names, and the version of
// the account's names that the page's statement read.
//
// Without a status or min_redactions filter, it runs listQuery. With one, it runs
// prefilterQuery, which reads at most prefilterBudget entries of the list index; when those hold
// less than a page, the filter is rare here, and groupIDs finds the page's IDs with a loose index
// scan of the groups index instead, whose rows are then read by ID (byIDsSQL).
func (s *Store) readPage(ctx context.Context, f sessions.Filter) ([]sessions.Session, int64, error) {
	if f.Status == "" && f.MinRedactions == 0 {
		query, args := listQuery(f)
		return s.readSessions(ctx, nil, f, query, args...)
	}
	query, args := prefilterQuery(f)
	ss, version, err := s.readSessions(ctx, nil, f, query, args...)
	if err != nil || len(ss) > f.Limit {
		return ss, version, err
	}
	// Less than a page in the budget: a rare filter (or the end of the list, which the groups
	// find again at the cost of their seeks). The groups' seeks and the read of their rows share
	// one read transaction, and so one snapshot of the database: in statements of their own, a
	// session upserted between two of them could be read with a status that the filter does not
	// select, or found in two groups.
	if err := s.prepareGroups(ctx, f); err != nil {
		return nil, 0, mapError(ctx, err)
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, mapError(ctx, err)
	}
	defer tx.Rollback()
	ps, err := s.groupIDs(ctx, tx, f)
	if err != nil {
		return nil, 0, err
	}
	if len(ps) == 0 {
		return []sessions.Session{}, 0, nil
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, 0, err
	}
	if ss, version, err = s.readSessions(ctx, tx, f, byIDsSQL, f.AccountID, idsJSON); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(ss, func(a, b sessions.Session) int { return comparePositions(a.Cursor(), b.Cursor()) })
	return ss, version, nil
}

// readSessions runs query, a query of the list's columns (listQuery, prefilterQuery, byIDsSQL),
// in tx when it is not nil, and returns its sessions of f's account, without their agents'
// names, and the version of the account's names that it read (0 for NULL).
func (s *Store) readSessions(ctx context.Context, tx *sql.Tx, f sessions.Filter, query string, args ...any) ([]sessions.Session, int64, error) {
	stmt, err := s.preparedIn(ctx, tx, query)
	if err != nil {
		return nil, 0, mapError(ctx, err)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, 0, mapError(ctx, err)
	}
	defer rows.Close()
	ss := make([]sessions.Session, 0, f.Limit+1)
	// The driver's bytes, valid until the next call of Next. Agents, models and names repeat
	// within a page: each distinct value becomes a string once.
	var agentID, status, kinds, model sql.RawBytes
	var version sql.NullInt64 // of the account's names; NULL: version 0
	seen := map[string]string{}
	str := func(b []byte) string {
		if v, ok := seen[string(b)]; ok {
			return v
		}
		v := string(b)
		seen[v] = v
		return v
	}
	for rows.Next() {
		x := sessions.Session{AccountID: f.AccountID}
		var started, ended int64
		if err := rows.Scan(&x.ID, &agentID, &started, &ended, &status, &kinds, &model, &version); err != nil {
			return nil, 0, mapError(ctx, err)
		}
		x.AgentID, x.UpstreamModel = str(agentID), str(model)
		x.Status = sessions.Status(str(status))
		x.StartedAt = time.UnixMilli(started).UTC()
		x.EndedAt = time.UnixMilli(ended).UTC()
		var err error
		if x.RedactionsByKind, err = kindsjson.Parse(kinds); err != nil {
			return nil, 0, fmt.Errorf("sqlite: session %s: %w", x.ID, err)
		}
		ss = append(ss, x)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, mapError(ctx, err)
	}
	return ss, version.Int64, nil
}
