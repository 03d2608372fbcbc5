package sqlite

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/plandata"
	"github.com/masker-dev/sessions/internal/testscale"
)

// TestExplain checks that every shape of the list query (agent or account; each filter and
// their combinations; first page or after a cursor) runs as a seek in the index of its scope,
// in list order: its EXPLAIN QUERY PLAN has a SEARCH of sessions with that index, bounded by the
// account (and agent), no SCAN of any table, and no temporary B-tree for ORDER BY. It checks the
// very SQL that ListSessions runs, from listQuery, before and after ANALYZE (INDEXED BY should
// make statistics irrelevant; the test proves it). A batch of PurgeSessions is checked too.
//
// With the small test data sets it writes 500 sessions rather than 10,000: every query names its
// index with INDEXED BY, so the number of rows cannot change which index a plan searches, and
// the plans of every query here were found identical, line for line, at 100, 300, 500 and 10,000
// sessions. The ANALYZE step checks that the statistics it plans with cover the indexes checked.
func TestExplain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	d := plandata.Write(t, s, testscale.Pick(500, 10_000), 20, 1000)

	scopes := []struct {
		name  string
		agent string
		index string
		eq    string // the equality constraints of the SEARCH
	}{
		{"busy agent", d.Busy.ID, "sessions_agent_list", "account_id=? AND agent_id=?"},
		{"quiet agent", d.Quiet.ID, "sessions_agent_list", "account_id=? AND agent_id=?"},
		{"account", "", "sessions_account_list", "account_id=?"},
	}
	filters := []struct {
		name string
		f    sessions.Filter
	}{
		{"all", sessions.Filter{}},
		{"since", sessions.Filter{Since: d.Now.Add(-24 * time.Hour)}},
		{"until", sessions.Filter{Until: d.Now.Add(-10 * 24 * time.Hour)}},
		{"window", sessions.Filter{Since: d.Now.Add(-20 * 24 * time.Hour), Until: d.Now.Add(-10 * 24 * time.Hour)}},
		{"status=error", sessions.Filter{Status: sessions.StatusError}},
		{"min_redactions=5", sessions.Filter{MinRedactions: 5}},
		{"status=error min_redactions=5", sessions.Filter{Status: sessions.StatusError, MinRedactions: 5}},
		{"everything limit=100", sessions.Filter{Since: d.Now.Add(-20 * 24 * time.Hour), Until: d.Now.Add(-time.Hour),
			Status: sessions.StatusPartial, MinRedactions: 2, Limit: 100}},
	}
	cursor := &sessions.Cursor{StartedAt: d.Now.Add(-15 * 24 * time.Hour), ID: sessions.NewSessionID(d.Now.Add(-15 * 24 * time.Hour))}
	for _, stats := range []string{"no statistics", "after ANALYZE"} {
		if stats == "after ANALYZE" {
			if _, err := s.write.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
			checkStatistics(t, s)
		}
		t.Run(stats+"/purge", func(t *testing.T) {
			plan := explain(t, s, purgeBatchSQL, []any{d.Account, d.Now.UnixMilli(), 1000})
			checkPlan(t, plan, "sessions_account_list", "account_id=? AND started_at<?")
		})
		for _, scope := range scopes {
			for _, fc := range filters {
				for _, page := range []string{"first page", "after a cursor"} {
					t.Run(stats+"/"+scope.name+"/"+fc.name+"/"+page, func(t *testing.T) {
						f := fc.f
						f.AccountID, f.AgentID = d.Account, scope.agent
						if page == "after a cursor" {
							f.After = cursor
						}
						if err := f.Validate(); err != nil {
							t.Fatal(err)
						}
						f = f.Normalize()
						query, args := listQuery(f)
						if f.Status != "" || f.MinRedactions > 0 {
							query, args = prefilterQuery(f)
							testExplainGroups(t, s, f, scope.eq)
						}
						plan := explain(t, s, query, args)
						// The range of the seek: bounded below by Since, above by the cursor or
						// Until. (EXPLAIN shows >= as >.)
						want := scope.eq
						if !f.Since.IsZero() {
							want += " AND started_at>?"
						}
						if _, ok := f.StartAfter(); ok {
							want += " AND (started_at,id)<(?,?)"
						}
						checkPlan(t, plan, scope.index, want)
						checkNamesVersion(t, plan)
						if filtered := f.Status != "" || f.MinRedactions > 0; filtered && !slices.Contains(plan, "SEARCH s USING PRIMARY KEY (id=?)") {
							t.Errorf("want the rows of the matching entries read by ID, got:\n%s", strings.Join(plan, "\n"))
						}
						if t.Failed() {
							t.Logf("query: %s\nargs: %v", query, args)
						}
					})
				}
			}
		}
	}
}

// checkNamesVersion fails unless plan, a page's, reads the version of the account's agent names
// once (an uncorrelated subquery, one seek of its primary key) and reads no agent.
func checkNamesVersion(tb testing.TB, plan []string) {
	tb.Helper()
	if !slices.Contains(plan, "SCALAR SUBQUERY 1") || !slices.Contains(plan, "SEARCH agent_names_versions USING PRIMARY KEY (account_id=?)") ||
		slices.ContainsFunc(plan, func(l string) bool { return strings.Contains(l, " agents ") || strings.HasPrefix(l, "CORRELATED") }) {
		tb.Errorf("want the version of the names read once and no agent, got:\n%s", strings.Join(plan, "\n"))
	}
}

// checkStatistics fails unless ANALYZE left statistics (sqlite_stat1) for every index of
// sessions whose plans TestExplain checks, so that its "after ANALYZE" plans are planned with them.
func checkStatistics(tb testing.TB, s *Store) {
	tb.Helper()
	rows, err := s.read.QueryContext(context.Background(), "SELECT idx FROM sqlite_stat1 WHERE tbl = 'sessions'")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var indexes []string
	for rows.Next() {
		var idx string
		if err := rows.Scan(&idx); err != nil {
			tb.Fatal(err)
		}
		indexes = append(indexes, idx)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	for _, idx := range []string{"sessions_agent_list", "sessions_account_list", "sessions_agent_groups", "sessions_account_groups"} {
		if !slices.Contains(indexes, idx) {
			tb.Errorf("no statistics for %s after ANALYZE (statistics for %v)", idx, indexes)
		}
	}
}

// testExplainGroups checks the plans of the queries of a filtered page's loose index scan
// (groupIDs) and of byIDsSQL: each group's next count and sessions are one seek of the groups
// index of the scope, bounded by the status and the count (and the window and positions), and
// the page's rows are lookups by ID.
func testExplainGroups(t *testing.T, s *Store, f sessions.Filter, eq string) {
	t.Helper()
	index := "sessions_agent_groups"
	if f.AgentID == "" {
		index = "sessions_account_groups"
	}
	query, args := groupNextQuery(f)
	checkPlan(t, explain(t, s, query, append(args, "ok", 1)), index, eq+" AND status=? AND redaction_count>?")
	for _, after := range []bool{false, true} {
		query, args := groupQuery(f, after)
		args = append(args, "ok", 1)
		want := eq + " AND status=? AND redaction_count=?"
		if after {
			args = append(args, 0, "sess_")
			want += " AND (started_at,id)>(?,?)"
		} else if !f.Since.IsZero() {
			want += " AND started_at>?"
		}
		if _, ok := f.StartAfter(); ok {
			want += " AND (started_at,id)<(?,?)"
		}
		checkPlan(t, explain(t, s, query, append(args, f.Limit+1)), index, want)
	}
	plan := explain(t, s, byIDsSQL, []any{f.AccountID, `["sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA"]`})
	if !slices.Contains(plan, "SEARCH s USING PRIMARY KEY (id=?)") || slices.ContainsFunc(plan, func(l string) bool {
		return strings.Contains(l, "TEMP B-TREE") || strings.HasPrefix(l, "SCAN ") && !strings.HasPrefix(l, "SCAN j VIRTUAL TABLE")
	}) {
		t.Errorf("byIDsSQL: want one lookup by ID per element of the list, got:\n%s", strings.Join(plan, "\n"))
	}
}

var searchRE = regexp.MustCompile(`^SEARCH sessions USING (?:COVERING )?INDEX (\w+) \((.*)\)$`)

// checkPlan fails when plan scans a table, sorts with a temporary B-tree, or reads sessions
// other than by one SEARCH of index with exactly the constraints cons (and lookups of single
// rows by ID).
func checkPlan(tb testing.TB, plan []string, index, cons string) {
	tb.Helper()
	searched := 0
	for _, line := range plan {
		switch {
		case strings.HasPrefix(line, "SCAN (subquery-"), strings.HasPrefix(line, "CO-ROUTINE (subquery-"),
			line == "CO-ROUTINE k", line == "SCAN k":
			// prefilterQuery's scan of the list index and its matches, run as co-routines
		case line == "SEARCH s USING PRIMARY KEY (id=?)":
			// prefilterQuery's read of a matching entry's row by its ID
		case strings.HasPrefix(line, "SCAN "):
			tb.Errorf("full scan: %q", line)
		case strings.Contains(line, "TEMP B-TREE"):
			tb.Errorf("sort: %q", line)
		case line == "SEARCH sessions USING PRIMARY KEY (id=?)":
			// one row by its ID: the rows a batch of PurgeSessions deletes
		case strings.HasPrefix(line, "SEARCH sessions "):
			m := searchRE.FindStringSubmatch(line)
			if m == nil || m[1] != index || m[2] != cons {
				tb.Errorf("%q, want a SEARCH of sessions USING INDEX %s (%s)", line, index, cons)
			}
			searched++
		}
	}
	if searched != 1 {
		tb.Errorf("%d SEARCHes of sessions, want 1", searched)
	}
	if tb.Failed() {
		tb.Logf("plan:\n%s", strings.Join(plan, "\n"))
	}
}

// explain returns the lines of EXPLAIN QUERY PLAN of query with args, as the read pool runs it.
func explain(tb testing.TB, s *Store, query string, args []any) []string {
	tb.Helper()
	rows, err := s.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			tb.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return plan
}
