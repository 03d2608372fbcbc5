package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/plandata"
)

// TestExplainScan checks the plan of a batch of ScanSessions (scanQuery, sessions.ScanBatch
// sessions) on 20,000 sessions after VACUUM ANALYZE, for each scope, unfiltered, from the start
// and from a deep position (and that position's generic plan): an index scan of the index of its
// scope, bounded by the cursor, which reads the rows itself; no Sort, no sequential scan of
// sessions and no hash join. Like TestExplain, it writes the same data set with the small data
// sets as with the large ones: on 10,000 sessions the planner rightly reads a deep batch of the
// busy agent otherwise. (A filtered batch, scanByID, is not checked here: with a filter, the
// rest of the busy agent's range at this size is a few batches, and the planner rightly reads it
// with a bitmap scan and a sort, or not, from one sample of statistics to the next.)
func TestExplainScan(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	d := plandata.Write(t, s, 20_000, 3, 10_000)
	if _, err := s.pool.Exec(ctx, "VACUUM (ANALYZE) agents, sessions"); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []struct {
		name  string
		agent string
		index string
	}{
		{"busy agent", d.Busy.ID, "sessions_agent_list"},
		{"account", "", "sessions_account_list"},
	} {
		for _, page := range []string{"first batch", "deep batch", "deep batch, generic plan"} {
			t.Run(scope.name+"/"+page, func(t *testing.T) {
				f := sessions.Filter{AccountID: d.Account, AgentID: scope.agent, Since: d.Now.Add(-31 * 24 * time.Hour)}
				if page != "first batch" {
					f.After = position(t, s, f.AccountID, f.AgentID, 0.5)
				}
				f = f.Normalize()
				f.Limit = sessions.ScanBatch
				query, args := scanQuery(f)
				plan := explain(t, s, query, args)
				if page == "deep batch, generic plan" {
					plan = explainGeneric(t, s, query, args)
				}
				var scans []string
				walkPlan(plan, func(n planNode) {
					switch {
					case strings.Contains(n.NodeType, "Sort"), n.NodeType == "Hash Join",
						n.NodeType == "Seq Scan" && n.RelationName == "sessions": // agents is one page here
						t.Errorf("plan has a %s node (on %q)", n.NodeType, n.RelationName)
					case n.RelationName == "sessions":
						scans = append(scans, n.NodeType+" on "+n.IndexName)
						if f.After != nil && !strings.Contains(n.IndexCond, "ROW(started_at, id) < ROW(") {
							t.Errorf("the cursor is not in the index condition %q", n.IndexCond)
						}
					}
				})
				if want := "Index Scan on " + scope.index; len(scans) != 1 || scans[0] != want {
					t.Errorf("the batch comes from %q, want one %q", scans, want)
				}
				if t.Failed() {
					t.Logf("query: %s\nargs: %v\nplan: %s", query, args, plan.raw)
				}
			})
		}
	}
}
