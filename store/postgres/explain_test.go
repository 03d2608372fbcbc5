package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/plandata"
)

// TestExplain checks that every shape of the list query (agent or account; each filter; first or
// deep page; the plan for the values, and the generic plan that prepared statements may adopt)
// runs as index seeks: on 60,000 sessions after VACUUM ANALYZE, listQuery's plan (checkListPlan)
// reads the index of its scope in list order, bounded by the cursor, with no sort, and
// groupsQuery's (checkGroupsPlan, filtered shapes) seeks each group of the groups index of its
// scope. On one agent, its name is read once (an InitPlan); across the account, the version of
// its agents' names is, and agents not at all (see listQuery). A batch of PurgeSessions is
// checked too. It writes the same data set with the small data sets as with the large ones: the
// planner's choices are what it checks, and they follow the size of the table (on 20,000
// sessions, rightly, some deep pages of a quiet agent and some generic plans take other paths).
func TestExplain(t *testing.T) {
	// Not parallel: a transaction of another test left open while VACUUM runs keeps it from
	// marking pages all-visible, and then index-only scans lose to bitmap scans (see below).
	s := newTestStore(t)
	d := plandata.Write(t, s, 60_000, 100, 10_000)
	// As autovacuum leaves an insert-mostly table (the migration tunes it to): statistics, and a
	// visibility map that lets an index-only scan skip the table. With statistics alone, every
	// index-only scan is costed as if it read the table too, and for a selective filter over a
	// small range (a quiet agent's 1,000 sessions, status=error) the planner may rightly prefer a
	// bitmap scan of the whole range and a sort of its few matches.
	vacuumAllVisible(t, s)

	scopes := []struct {
		name  string
		agent string
		index string
	}{
		{"busy agent", d.Busy.ID, "sessions_agent"},
		{"quiet agent", d.Quiet.ID, "sessions_agent"},
		{"account", "", "sessions_account"},
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
		{"min_redactions=1000000000", sessions.Filter{MinRedactions: 1_000_000_000}},
	}
	t.Run("purge", func(t *testing.T) { testExplainPurge(t, s, d) })
	for _, scope := range scopes {
		for _, fc := range filters {
			shapes := []string{"list"}
			if fc.f.Status != "" || fc.f.MinRedactions > 0 {
				shapes = append(shapes, "groups")
			}
			for _, shape := range shapes {
				for _, page := range []string{"first page", "deep page", "deep page, generic plan"} {
					t.Run(scope.name+"/"+fc.name+"/"+shape+"/"+page, func(t *testing.T) {
						f := fc.f
						f.AccountID, f.AgentID = d.Account, scope.agent
						if page != "first page" {
							// 90% down the unfiltered list of the scope.
							f.After = position(t, s, f.AccountID, f.AgentID, 0.9)
						}
						if err := f.Validate(); err != nil {
							t.Fatal(err)
						}
						query, args := listQuery(f.Normalize())
						if shape == "groups" {
							query, args = groupsQuery(f.Normalize())
						}
						var plan planNode
						if page == "deep page, generic plan" {
							plan = explainGeneric(t, s, query, args)
						} else {
							plan = explain(t, s, query, args)
						}
						if shape == "groups" {
							checkGroupsPlan(t, plan, f, scope.index+"_groups")
						} else {
							checkListPlan(t, plan, f, scope.index+"_list")
						}
						if t.Failed() {
							t.Logf("query: %s\nargs: %v\nplan: %s", query, args, plan.raw)
						}
					})
				}
			}
		}
	}
}

// checkListPlan checks the plan of listQuery for f: no sort and no sequential scan of sessions,
// one scan of index bounded by the cursor, and one agent's name read once at most. Unfiltered, the scan
// reads the page's rows itself; with a status or min_redactions filter, an index-only scan skips
// entries, and the page's rows are read by ID.
func checkListPlan(t *testing.T, plan planNode, f sessions.Filter, index string) {
	t.Helper()
	var scans []string
	pkey := false
	walkPlan(plan, func(n planNode) {
		switch {
		case strings.Contains(n.NodeType, "Sort"), n.NodeType == "Seq Scan" && n.RelationName == "sessions":
			t.Errorf("plan has a %s node (on %q)", n.NodeType, n.RelationName)
		case n.RelationName == "agents" || n.RelationName == "agent_names_versions":
			checkNamesRead(t, n, f)
		case n.RelationName == "sessions" && n.IndexName == "sessions_pkey":
			pkey = true
		case n.RelationName == "sessions":
			scans = append(scans, n.NodeType+" on "+n.IndexName)
			// The cursor must bound the scan, not filter its rows.
			if f.After != nil && !strings.Contains(n.IndexCond, "ROW(started_at, id) < ROW(") {
				t.Errorf("the cursor is not in the index condition %q", n.IndexCond)
			}
		}
	})
	want, wantPkey := "Index Scan on "+index, false
	if f.Status != "" || f.MinRedactions > 0 {
		want, wantPkey = "Index Only Scan on "+index, true
	}
	if len(scans) != 1 || scans[0] != want {
		t.Errorf("the page comes from %q, want one %q", scans, want)
	}
	if pkey != wantPkey {
		t.Errorf("lookups in sessions_pkey: %v, want %v", pkey, wantPkey)
	}
}

// checkNamesRead checks a node n of a page's plan that reads agents or agent_names_versions: on
// one agent, its name is read once per page (or never, for an empty page); across the account,
// the version of the names is, and agents are not read.
func checkNamesRead(t *testing.T, n planNode, f sessions.Filter) {
	t.Helper()
	want := "agents"
	if f.AgentID == "" {
		want = "agent_names_versions"
	}
	if n.RelationName != want || n.ActualLoops > 1 {
		t.Errorf("%s read %d times, want %s read once per page", n.RelationName, n.ActualLoops, want)
	}
}

// checkGroupsPlan checks the plan of groupsQuery for f: every read of sessions other than the
// page's rows by ID is an index-only seek of index (the groups' index of the scope) whose
// condition fixes the status and bounds the redaction count, so that no entry of another group
// is read; the scan of each group's sessions is bounded by the cursor; no sequential scan, and
// one agent's name read once at most. (A top-N sort of the groups' first limit+1 sessions is expected.)
func checkGroupsPlan(t *testing.T, plan planNode, f sessions.Filter, index string) {
	t.Helper()
	pages := 0
	walkPlan(plan, func(n planNode) {
		switch {
		case n.NodeType == "Seq Scan" && n.RelationName == "sessions":
			t.Errorf("plan has a %s node (on %q)", n.NodeType, n.RelationName)
		case n.RelationName == "agents" || n.RelationName == "agent_names_versions":
			checkNamesRead(t, n, f)
		case n.RelationName == "sessions" && n.IndexName == "sessions_pkey":
		case n.RelationName == "sessions":
			// The search for a group's next redaction count may use either groups index: on
			// an agent, the planner may take the account's (an index scan, which checks the
			// agent in the row) when it expects no entry at all.
			if !strings.HasPrefix(n.NodeType, "Index") || !strings.HasSuffix(n.IndexName, "_groups") ||
				!strings.Contains(n.IndexCond, "(status = ") || !strings.Contains(n.IndexCond, "redaction_count") {
				t.Errorf("%s on %s (%s), want an index scan of %s seeking a status and a redaction count",
					n.NodeType, n.IndexName, n.IndexCond, index)
			}
			if strings.Contains(n.IndexCond, "(redaction_count = ") {
				if n.NodeType != "Index Only Scan" || n.IndexName != index {
					t.Errorf("a group's sessions come from an %s on %s, want an Index Only Scan on %s", n.NodeType, n.IndexName, index)
				}
				pages++
				if f.After != nil && !strings.Contains(n.IndexCond, "ROW(started_at, id) < ROW(") {
					t.Errorf("the cursor is not in the index condition %q", n.IndexCond)
				}
			}
		}
	})
	if pages != 1 {
		t.Errorf("%d scans of a group's sessions, want 1", pages)
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
	ActualLoops  int        `json:"Actual Loops"`
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

// explainGeneric returns the generic plan of query, the plan that the server may adopt for a
// statement prepared once and run often (WithPreparedStatements), which knows none of the
// values: it prepares query with SQL PREPARE and explains its EXECUTE with args, written as
// literals (test values only), under plan_cache_mode = force_generic_plan.
func explainGeneric(tb testing.TB, s *Store, query string, args []any) planNode {
	tb.Helper()
	ctx := context.Background()
	conn, err := s.read.Acquire(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Release()
	var literals []string
	for _, a := range args {
		switch v := a.(type) {
		case string:
			literals = append(literals, "'"+strings.ReplaceAll(v, "'", "''")+"'")
		case time.Time:
			literals = append(literals, "'"+v.UTC().Format(time.RFC3339Nano)+"'")
		case []string:
			literals = append(literals, "'{"+strings.Join(v, ",")+"}'")
		default:
			literals = append(literals, fmt.Sprint(v))
		}
	}
	var raw []byte
	for _, sql := range []string{
		"SET plan_cache_mode = force_generic_plan",
		"PREPARE generic_list AS " + query,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
	defer conn.Exec(ctx, "DEALLOCATE generic_list; RESET plan_cache_mode")
	err = conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE generic_list("+strings.Join(literals, ", ")+")").Scan(&raw)
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

// vacuumAllVisible runs VACUUM (ANALYZE) on agents and sessions until the visibility map covers
// nearly all of sessions: a transaction open elsewhere in the database (another test's) holds
// back the horizon under which VACUUM may mark a page all-visible.
func vacuumAllVisible(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; {
		for _, sql := range []string{"VACUUM (ANALYZE) agents", "VACUUM (ANALYZE) sessions"} {
			if _, err := s.pool.Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
		}
		var pages, visible int64
		err := s.pool.QueryRow(ctx, "SELECT relpages, relallvisible FROM pg_class WHERE oid = 'sessions'::regclass").
			Scan(&pages, &visible)
		if err != nil {
			t.Fatal(err)
		}
		if visible*100 >= pages*95 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("VACUUM left %d of %d pages of sessions all-visible for 30 s", visible, pages)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestGenericPlans checks that the prepared statements of ListSessions keep a generic plan after
// their first calls, rather than planning every call: on 20,000 sessions, an account's first
// page, unfiltered and with min_redactions, called ten times on one connection, is planned at
// most the five times that the server plans a statement before it compares the generic plan
// (see pageCap). Before the caps, the server planned all ten calls. (The first page of the busy
// agent is planned on every call, with or without the caps: the statistics give the busy agent
// more rows than the average agent that the generic plan assumes, so the plan for its values is
// costed lower, 19 against 27 at 10M, close to the planning's own cost, and the server keeps
// planning it.)
func TestGenericPlans(t *testing.T) {
	ctx := context.Background()
	pool := newTestPool(t)
	cfg := pool.Config()
	cfg.MaxConns = 1 // every call on the connection whose prepared statements the test reads
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(one.Close)
	s, err := New(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d := plandata.Write(t, s, 20_000, 3, 10_000)
	if _, err := one.Exec(ctx, "VACUUM (ANALYZE) agents, sessions"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []sessions.Filter{
		{AccountID: d.Account, Limit: 25},
		{AccountID: d.Account, Limit: 25, MinRedactions: 3},
	} {
		for range 10 {
			if _, err := s.ListSessions(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		query, _ := listQuery(f.Normalize())
		var generic, custom int64
		err := one.QueryRow(ctx, "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
			query).Scan(&generic, &custom)
		if err != nil {
			t.Fatalf("%+v: the statement's plans: %v", f, err)
		}
		if custom > 5 || generic < 5 {
			t.Errorf("%+v: %d calls planned for their values and %d with the generic plan, want at most 5 and at least 5",
				f, custom, generic)
		}
	}
}
