package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/plandata"
)

// TestExplain checks that every shape of the list query (agent or account; each filter; first or
// deep page) runs as an index seek in list order: its plan, on 60,000 sessions after VACUUM
// ANALYZE, has no Sort and no sequential scan, the page's IDs come from an index-only scan of the
// index of its scope, and a cursor bounds that scan. A batch of PurgeSessions is checked too.
func TestExplain(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: the EXPLAIN test writes 60,000 sessions")
	}
	ctx := context.Background()
	s := newTestStore(t)
	d := plandata.Write(t, s, 60_000, 100, 10_000)
	// As autovacuum leaves an insert-mostly table (the migration tunes it to): statistics, and a
	// visibility map that lets an index-only scan skip the table. With statistics alone, every
	// index-only scan is costed as if it read the table too, and for a selective filter over a
	// small range (a quiet agent's 1,000 sessions, status=error) the planner may rightly prefer a
	// bitmap scan of the whole range and a sort of its few matches.
	for _, sql := range []string{"VACUUM (ANALYZE) agents", "VACUUM (ANALYZE) sessions"} {
		if _, err := s.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}

	scopes := []struct {
		name  string
		agent string
		index string
	}{
		{"busy agent", d.Busy.ID, "sessions_agent_list"},
		{"quiet agent", d.Quiet.ID, "sessions_agent_list"},
		{"account", "", "sessions_account_list"},
	}
	filters := []struct {
		name string
		f    sessions.Filter
	}{
		{"all", sessions.Filter{}},
		{"last 24h", sessions.Filter{Since: d.Now.Add(-24 * time.Hour)}},
		{"window", sessions.Filter{Since: d.Now.Add(-20 * 24 * time.Hour), Until: d.Now.Add(-10 * 24 * time.Hour)}},
		{"status=error", sessions.Filter{Status: sessions.StatusError}},
		{"min_redactions=5", sessions.Filter{MinRedactions: 5}},
		{"status=error min_redactions=5", sessions.Filter{Status: sessions.StatusError, MinRedactions: 5}},
		{"status=partial since limit=100", sessions.Filter{Status: sessions.StatusPartial, Since: d.Now.Add(-7 * 24 * time.Hour), Limit: 100}},
	}
	t.Run("purge", func(t *testing.T) { testExplainPurge(t, s, d) })
	for _, scope := range scopes {
		for _, fc := range filters {
			for _, page := range []string{"first page", "deep page"} {
				t.Run(scope.name+"/"+fc.name+"/"+page, func(t *testing.T) {
					f := fc.f
					f.AccountID, f.AgentID = d.Account, scope.agent
					if page == "deep page" {
						// 90% down the unfiltered list of the scope.
						f.After = position(t, s, f.AccountID, f.AgentID, 0.9)
					}
					if err := f.Validate(); err != nil {
						t.Fatal(err)
					}
					query, args := listQuery(f.Normalize())
					plan := explain(t, s, query, args)
					var scans []string
					walkPlan(plan, func(n planNode) {
						switch {
						case strings.Contains(n.NodeType, "Sort"), n.NodeType == "Seq Scan":
							t.Errorf("plan has a %s node (on %q)", n.NodeType, n.RelationName)
						case n.RelationName == "sessions" && n.IndexName != "sessions_pkey":
							scans = append(scans, n.NodeType+" on "+n.IndexName)
							// The cursor must bound the scan, not filter its rows.
							if f.After != nil && !strings.Contains(n.IndexCond, "ROW(started_at, id) < ROW(") {
								t.Errorf("the cursor is not in the index condition %q", n.IndexCond)
							}
						}
					})
					if want := "Index Only Scan on " + scope.index; len(scans) != 1 || scans[0] != want {
						t.Errorf("the page's IDs come from %q, want one %q", scans, want)
					}
					if t.Failed() {
						t.Logf("query: %s\nargs: %v\nplan: %s", query, args, plan.raw)
					}
				})
			}
		}
	}
}

// testExplainPurge checks that a batch of PurgeSessions finds its sessions with an ordered index
// scan, account by account, and neither scans the table nor collects a bitmap of every old
// session of an account.
func testExplainPurge(t *testing.T, s *Store, d plandata.Dataset) {
	ctx := context.Background()
	// Retention: the oldest day of the 30 goes. (To delete most of a table, a bitmap scan is as
	// good, and the planner may rightly choose it.)
	for _, age := range []time.Duration{29 * 24 * time.Hour, 29*24*time.Hour + 12*time.Hour} {
		var raw []byte
		err := s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+purgeBatchSQL, s.purgeMode, d.Now.Add(-age), defaultPurgeBatch).Scan(&raw)
		if err != nil {
			t.Fatal(err)
		}
		var out []struct {
			Plan planNode `json:"Plan"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
			t.Fatalf("EXPLAIN output %s: %v", raw, err)
		}
		walkPlan(out[0].Plan, func(n planNode) {
			if strings.Contains(n.NodeType, "Sort") ||
				n.RelationName == "sessions" && (n.NodeType == "Seq Scan" || n.NodeType == "Bitmap Heap Scan") {
				t.Errorf("purging sessions older than %v: a %s on sessions\n%s", age, n.NodeType, raw)
			}
		})
	}
}

// position returns the cursor at the fraction frac of the unfiltered list of an account, or of
// one of its agents.
func position(tb testing.TB, s *Store, account, agent string, frac float64) *sessions.Cursor {
	tb.Helper()
	var c sessions.Cursor
	err := s.pool.QueryRow(context.Background(), `SELECT started_at, id FROM sessions
		WHERE account_id = $1 AND ($2 = '' OR agent_id = $2)
		ORDER BY started_at DESC, id DESC
		OFFSET (SELECT count(*) FROM sessions WHERE account_id = $1 AND ($2 = '' OR agent_id = $2)) * $3::float8
		LIMIT 1`, account, agent, frac).Scan(&c.StartedAt, &c.ID)
	if err != nil {
		tb.Fatal(err)
	}
	c.StartedAt = c.StartedAt.UTC()
	return &c
}

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	IndexCond    string     `json:"Index Cond"`
	Plans        []planNode `json:"Plans"`
	raw          string
}

// explain returns the plan of query with args, as the store runs it, executed (ANALYZE).
func explain(tb testing.TB, s *Store, query string, args []any) planNode {
	tb.Helper()
	var raw []byte
	err := s.read.QueryRow(context.Background(), "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+query,
		append([]any{s.listMode}, args...)...).Scan(&raw)
	if err != nil {
		tb.Fatal(err)
	}
	var out []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		tb.Fatalf("EXPLAIN output %s: %v", raw, err)
	}
	out[0].Plan.raw = string(raw)
	return out[0].Plan
}

func walkPlan(n planNode, visit func(planNode)) {
	visit(n)
	for _, c := range n.Plans {
		walkPlan(c, visit)
	}
}
