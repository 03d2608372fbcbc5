package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
)

// TestSummaryMigration checks that the migration of the rollups builds, from the sessions
// already stored, exactly the rows that the triggers keep, after inserts, upserts that change
// a session's hour, status and kinds, and a purge.
func TestSummaryMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var written []sessions.Session
	for _, a := range benchdata.AgentList()[:50] {
		if err := s.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	err = benchdata.Generate(3000, 500, func(ss []sessions.Session) error {
		for i := range ss {
			ss[i].AgentID = benchdata.AgentList()[i%50].ID
		}
		written = append(written, ss...)
		return s.PutSessions(ctx, ss...)
	})
	if err != nil {
		t.Fatal(err)
	}
	var changed []sessions.Session
	for i, x := range written[:600] {
		x.StartedAt = x.StartedAt.Add(time.Duration(i) * 7 * time.Minute)
		x.EndedAt = x.StartedAt.Add(time.Minute)
		x.Status = []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}[i%3]
		x.RedactionsByKind = map[string]int{"NAME": i % 20}
		changed = append(changed, x)
	}
	if err := s.PutSessions(ctx, changed...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PurgeSessions(ctx, benchdata.End.Add(-60*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	kept := dumpRollups(t, s)
	if len(kept) < 2 {
		t.Fatalf("bad case: %d rollup rows", len(kept))
	}
	_, err = s.write.ExecContext(ctx, `DROP TRIGGER sessions_summary_insert; DROP TRIGGER sessions_summary_update;
		DROP TRIGGER sessions_summary_delete; DROP TABLE summary_hours; DROP TABLE summary_kinds;
		DROP INDEX sessions_agent_groups; DROP INDEX sessions_account_groups;
		DELETE FROM sessions_schema WHERE version >= 3`) // back to version 2: 0003 and 0004 run again
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if diff := cmp.Diff(kept, dumpRollups(t, s)); diff != "" {
		t.Errorf("rollups built by the migration differ from those kept by the triggers (-kept +built):\n%s", diff)
	}
}

// dumpRollups returns every row of the two rollup tables, as text, in key order.
func dumpRollups(tb testing.TB, s *Store) []string {
	tb.Helper()
	var out []string
	for _, q := range []string{
		"SELECT account_id, agent_id, hour, status, redactions, sessions, redaction_total, duration_ms, '' FROM summary_hours ORDER BY 1, 2, 3, 4, 5",
		"SELECT account_id, agent_id, hour, status, redactions, kind, total, 0, '' FROM summary_kinds ORDER BY 1, 2, 3, 4, 5, 6",
	} {
		rows, err := s.read.QueryContext(context.Background(), q)
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			var v [9]any
			ptrs := make([]any, len(v))
			for i := range v {
				ptrs[i] = &v[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			out = append(out, fmt.Sprint(v))
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		rows.Close()
	}
	return out
}
