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
// The inner query finds the page's IDs: an index-only scan of sessions_agent_list (f.AgentID set)
// or sessions_account_list, whose keys are the equality columns followed by the list order
// (started_at DESC, id DESC), so that it starts at an index seek, needs no sort, and stops after
// limit+1 matching entries. The cursor is the row value (started_at, id) < (t, id), which the
// index reads as one bound. Status and redaction_count are INCLUDE columns of both indexes, so
// the filters skip rows from the index without reading the table. The outer query then reads
// the page's rows from the primary key, in the same order, with each agent's current name.
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
		and(" AND agent_id = $%d", f.AgentID)
	}
	if !f.Since.IsZero() {
		and(" AND started_at >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		and(" AND started_at < $%d", f.Until)
	}
	if f.Status != "" {
		and(" AND status = $%d", string(f.Status))
	}
	if f.MinRedactions > 0 {
		and(" AND redaction_count >= $%d", int64(f.MinRedactions))
	}
	if f.After != nil {
		and(" AND (started_at, id) < ($%d, $%d)", f.After.StartedAt, f.After.ID)
	}
	args = append(args, f.Limit+1)
	return fmt.Sprintf(`SELECT s.id, s.account_id, s.agent_id, s.started_at, s.ended_at, s.status,
	s.redactions_by_kind, s.upstream_model,
	(SELECT a.name FROM agents a WHERE a.id = s.agent_id) AS agent_name
FROM (
	SELECT id, started_at FROM sessions
	WHERE %s
	ORDER BY started_at DESC, id DESC
	LIMIT $%d
) AS page
JOIN sessions s ON s.id = page.id
ORDER BY page.started_at DESC, page.id DESC`, where.String(), len(args)), args
}

// ListSessions returns one page of the sessions that match f, newest first, with each session's
// AgentName from its agent's current name. It reads from the pool of WithReadPool when there is
// one. A page costs one index seek plus the index entries it reads, and one primary-key lookup
// per returned session.
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
			if err := rows.Scan(&x.ID, &x.AccountID, &x.AgentID, &x.StartedAt, &x.EndedAt, &status,
				(*kindsColumn)(&x.RedactionsByKind), &x.UpstreamModel, &x.AgentName); err != nil {
				return err
			}
			x.Status = sessions.Status(status)
			x.StartedAt, x.EndedAt = x.StartedAt.UTC(), x.EndedAt.UTC()
			if x.RedactionsByKind == nil {
				x.RedactionsByKind = map[string]int{}
			}
			ss = append(ss, x)
		}
		return rows.Err()
	})
	return ss, err
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
