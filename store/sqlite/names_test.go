package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// TestKeptNames checks the agent names that a store keeps for its pages: the version of
// migration 0007 makes a change of a name show on the next page of another store on the same
// file (another process), whether the change came through PutAgent or plain SQL, and a
// deletion moves the version too; a PutAgent that keeps the name does not.
func TestKeptNames(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	writer, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	reader, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	a1 := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "front desk"}
	a2 := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme", Name: "billing"}
	t0 := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	var ss []sessions.Session
	for i, a := range []sessions.Agent{a1, a2, a1, a2} {
		if i < 2 {
			if err := writer.PutAgent(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		start := t0.Add(time.Duration(i) * time.Second)
		ss = append(ss, sessions.Session{ID: sessions.NewSessionID(start), AccountID: a.AccountID, AgentID: a.ID,
			StartedAt: start, EndedAt: start.Add(time.Second), Status: sessions.StatusOK})
	}
	if err := writer.PutSessions(ctx, ss...); err != nil {
		t.Fatal(err)
	}
	check := func(want map[string]string, version int64) {
		t.Helper()
		for _, f := range []sessions.Filter{{AccountID: "acme"}, {AccountID: "acme", AgentID: a1.ID}, {AccountID: "acme", MinRedactions: 0, Status: sessions.StatusOK}} {
			p, err := reader.ListSessions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Sessions {
				if s.AgentName != want[s.AgentID] {
					t.Errorf("%+v: session %s of agent %s: AgentName %q, want %q", f, s.ID, s.AgentID, s.AgentName, want[s.AgentID])
				}
			}
		}
		var got int64
		if err := reader.read.QueryRowContext(ctx, "SELECT coalesce((SELECT version FROM agent_names_versions WHERE account_id = 'acme'), 0)").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != version {
			t.Errorf("the account's names are at version %d, want %d", got, version)
		}
	}
	check(map[string]string{a1.ID: "front desk", a2.ID: "billing"}, 0)
	check(map[string]string{a1.ID: "front desk", a2.ID: "billing"}, 0) // from the kept names

	if err := writer.PutAgent(ctx, a1); err != nil { // the same name
		t.Fatal(err)
	}
	check(map[string]string{a1.ID: "front desk", a2.ID: "billing"}, 0)

	a1.Name = "reception"
	if err := writer.PutAgent(ctx, a1); err != nil {
		t.Fatal(err)
	}
	check(map[string]string{a1.ID: "reception", a2.ID: "billing"}, 1)

	if _, err := writer.write.ExecContext(ctx, "UPDATE agents SET name = 'accounts' WHERE id = ?", a2.ID); err != nil {
		t.Fatal(err)
	}
	check(map[string]string{a1.ID: "reception", a2.ID: "accounts"}, 2)

	if _, err := writer.write.ExecContext(ctx, "DELETE FROM sessions WHERE agent_id = ?; DELETE FROM agents WHERE id = ?", a2.ID, a2.ID); err != nil {
		t.Fatal(err)
	}
	check(map[string]string{a1.ID: "reception"}, 3)
}
