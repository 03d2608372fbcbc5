package postgres

import (
	"context"
	"testing"

	"github.com/masker-dev/sessions"
)

// TestKeptNames checks the agent names that a store keeps for its account-wide pages: a page
// whose names are kept costs one statement, and the version of migration 0007 makes a change of
// a name show on the next page however it was made: by another store on the same schema (another
// process, or a replica's primary), by plain SQL, or by a deletion. A PutAgent that keeps the
// name leaves the kept names in use.
func TestKeptNames(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	reader, tracer := tracedStore(t, f.store.pool)
	var ss []sessions.Session
	for i := range 6 {
		ss = append(ss, f.session([]sessions.Agent{f.a1, f.a2}[i%2], i))
	}
	if err := f.store.PutSessions(ctx, ss...); err != nil {
		t.Fatal(err)
	}
	page := func(want map[string]string, statements int64) {
		t.Helper()
		before := tracer.n.Load()
		p, err := reader.ListSessions(ctx, sessions.Filter{AccountID: f.account})
		if err != nil {
			t.Fatal(err)
		}
		if got := tracer.n.Load() - before; got != statements {
			t.Errorf("the page took %d statements, want %d", got, statements)
		}
		if len(p.Sessions) != len(ss) {
			t.Fatalf("%d sessions, want %d", len(p.Sessions), len(ss))
		}
		for _, s := range p.Sessions {
			if s.AgentName != want[s.AgentID] {
				t.Errorf("session %s of agent %s: AgentName %q, want %q", s.ID, s.AgentID, s.AgentName, want[s.AgentID])
			}
		}
	}
	page(map[string]string{f.a1.ID: "front desk", f.a2.ID: "billing"}, 2) // the page, then the names
	page(map[string]string{f.a1.ID: "front desk", f.a2.ID: "billing"}, 1) // kept

	if err := f.store.PutAgent(ctx, f.a1); err != nil { // the same name: no change
		t.Fatal(err)
	}
	page(map[string]string{f.a1.ID: "front desk", f.a2.ID: "billing"}, 1)

	f.a1.Name = "reception"
	if err := f.store.PutAgent(ctx, f.a1); err != nil { // through the other store
		t.Fatal(err)
	}
	page(map[string]string{f.a1.ID: "reception", f.a2.ID: "billing"}, 2)
	page(map[string]string{f.a1.ID: "reception", f.a2.ID: "billing"}, 1)

	if _, err := f.store.pool.Exec(ctx, "UPDATE agents SET name = 'accounts' WHERE id = $1", f.a2.ID); err != nil {
		t.Fatal(err)
	}
	page(map[string]string{f.a1.ID: "reception", f.a2.ID: "accounts"}, 2)

	// A deletion: the sessions of a2 go first (the foreign key), then a2.
	if _, err := f.store.pool.Exec(ctx, "DELETE FROM sessions WHERE agent_id = $1", f.a2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.pool.Exec(ctx, "DELETE FROM agents WHERE id = $1", f.a2.ID); err != nil {
		t.Fatal(err)
	}
	var version int64
	if err := f.store.pool.QueryRow(ctx, "SELECT version FROM agent_names_versions WHERE account_id = $1", f.account).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != 3 {
		t.Errorf("the account's names are at version %d after two renames and a deletion, want 3", version)
	}
}
