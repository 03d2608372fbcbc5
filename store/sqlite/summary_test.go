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
	"github.com/masker-dev/sessions/internal/kindsjson"
	"github.com/masker-dev/sessions/internal/testscale"
)

// TestSummaryMigration checks that the migration of the rollups builds, from the sessions
// already stored, exactly the rows that the triggers keep, after inserts, upserts that change
// a session's hour, status and kinds, and a purge.
//
// With the small test data sets it writes 300 sessions, in 3 calls, rather than 3,000 in 6: over
// 50 agents and 90 days, they still make hundreds of rollup rows, of every status and of
// several kinds, which a fifth of them move and a purge of the oldest third shrinks.
func TestSummaryMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var written []sessions.Session
	agents := benchdata.AgentList()[:50]
	for _, a := range agents {
		if err := s.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	n := testscale.Pick(300, 3000)
	err = benchdata.Generate(n, n/testscale.Pick(3, 6), func(ss []sessions.Session) error {
		for i := range ss {
			ss[i].AgentID = agents[i%len(agents)].ID
		}
		written = append(written, ss...)
		return s.PutSessions(ctx, ss...)
	})
	if err != nil {
		t.Fatal(err)
	}
	var changed []sessions.Session
	for i, x := range written[:n/5] {
		x.StartedAt = x.StartedAt.Add(time.Duration(i) * 7 * time.Minute)
		x.EndedAt = x.StartedAt.Add(time.Minute)
		x.Status = []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}[i%3]
		x.RedactionsByKind = map[string]int{"NAME": i % 20}
		changed = append(changed, x)
	}
	if err := s.PutSessions(ctx, changed...); err != nil {
		t.Fatal(err)
	}
	purged, err := s.PurgeSessions(ctx, benchdata.End.Add(-60*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	kept := dumpRollups(t, s)
	if len(kept) < 2 || purged == 0 || purged == int64(n) {
		t.Fatalf("bad case: %d rollup rows after a purge of %d sessions of %d", len(kept), purged, n)
	}
	_, err = s.write.ExecContext(ctx, `DROP TRIGGER sessions_summary_insert; DROP TRIGGER sessions_summary_update;
		DROP TRIGGER sessions_summary_delete; DROP TABLE summary_totals;
		DROP TABLE agent_names_versions; DROP TRIGGER agents_names_changed; DROP TRIGGER agents_deleted;
		ALTER TABLE feed DROP COLUMN identity;
		DELETE FROM sessions_schema WHERE version >= 5`) // 0005 and the versions after it run again
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

// dumpRollups returns every row of the rollup table, as text, in key order, with its kinds
// parsed (their order in the JSON text is not part of the rollups).
func dumpRollups(tb testing.TB, s *Store) []string {
	tb.Helper()
	rows, err := s.read.QueryContext(context.Background(),
		"SELECT account_id, agent_id, hour, status, sessions, redaction_total, duration_ms, kinds FROM summary_totals ORDER BY 1, 2, 3, 4")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var account, agent, status, kinds string
		var hour, n, redactions, duration int64
		if err := rows.Scan(&account, &agent, &hour, &status, &n, &redactions, &duration, &kinds); err != nil {
			tb.Fatal(err)
		}
		byKind, err := kindsjson.Parse([]byte(kinds))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, fmt.Sprint(account, agent, hour, status, n, redactions, duration, byKind))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
