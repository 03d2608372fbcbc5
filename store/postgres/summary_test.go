package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/testscale"
)

// TestSummaryMigration checks that the migration of the rollups builds, from the sessions
// already stored, exactly the rows that the triggers keep, after inserts (by arrays and by
// COPY), upserts that change a session's hour, status and kinds, and a purge. With the small data
// sets it writes 1,000 sessions, not 3,000: two batches of 500, each by arrays and by COPY, and
// the 600 corrections, by arrays and by COPY too.
func TestSummaryMigration(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	agents := benchdata.AgentList()[:50]
	for _, a := range agents {
		if err := s.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var written []sessions.Session
	err := benchdata.Generate(testscale.Pick(1000, 3000), 500, func(ss []sessions.Session) error {
		for i := range ss {
			ss[i].AgentID = agents[i%len(agents)].ID
		}
		written = append(written, ss...)
		if err := s.PutSessions(ctx, ss[:50]...); err != nil { // arrays
			return err
		}
		return s.PutSessions(ctx, ss[50:]...) // COPY
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
	if err := s.PutSessions(ctx, changed[:80]...); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSessions(ctx, changed[80:]...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PurgeSessions(ctx, benchdata.End.Add(-60*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	kept := dumpRollups(t, s)
	if len(kept) < 2 {
		t.Fatalf("bad case: %d rollup rows", len(kept))
	}
	_, err = s.pool.Exec(ctx, `DROP TABLE summary_totals;
		DROP TRIGGER sessions_summary_insert ON sessions; DROP TRIGGER sessions_summary_update ON sessions;
		DROP TRIGGER sessions_summary_delete ON sessions; DROP FUNCTION sessions_summary_insert();
		DROP FUNCTION sessions_summary_update(); DROP FUNCTION sessions_summary_delete();
		DROP TABLE agent_names_versions; DROP FUNCTION sessions_agent_names_changed() CASCADE;
		DELETE FROM sessions_schema WHERE version >= 5`) // only 0005 and the later ones run again
	if err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, s.pool); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(kept, dumpRollups(t, s)); diff != "" {
		t.Errorf("rollups built by the migration differ from those kept by the triggers (-kept +built):\n%s", diff)
	}
}

// dumpRollups returns every row of the rollup table, as text, in key order.
func dumpRollups(tb testing.TB, s *Store) []string {
	tb.Helper()
	rows, err := s.pool.Query(tb.Context(), `SELECT account_id, agent_id, hour::text, status, sessions::text,
		redaction_total::text, duration_ms::text, kinds::text FROM summary_totals ORDER BY 1, 2, 3, 4`)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	var v [8]string
	_, err = pgx.ForEachRow(rows, []any{&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]}, func() error {
		out = append(out, fmt.Sprint(v))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestSummaryTriggersWithoutJIT checks that the functions of the summary triggers turn JIT off
// for their statements (migration 0006, and 0008 which replaces them): with JIT, a server
// compiled the statement of a batch of 10,000 on every batch, for most of the batch's time.
func TestSummaryTriggersWithoutJIT(t *testing.T) {
	s := newTestStore(t)
	rows, err := s.pool.Query(t.Context(), `SELECT p.proname, coalesce(array_to_string(p.proconfig, ','), '')
		FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
		WHERE n.nspname = current_schema() AND p.proname LIKE 'sessions\_summary\_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var name, config string
	_, err = pgx.ForEachRow(rows, []any{&name, &config}, func() error {
		got[name] = config
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sessions_summary_delete": "jit=off", "sessions_summary_insert": "jit=off",
		"sessions_summary_update": "jit=off"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings of the summary functions (-want +got):\n%s", diff)
	}
}
