package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// TestAppendSession checks the hand-written JSON of a batch row against encoding/json, with
// account IDs and models that need escaping.
func TestAppendSession(t *testing.T) {
	start := time.Date(2026, 5, 3, 21, 14, 32, 794e6, time.UTC)
	for _, text := range []string{"acct", `a"b\c`, "é ü 漢字 🙂", "tab\tless"} {
		x := sessions.Session{
			ID: "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB", AccountID: text, AgentID: "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
			StartedAt: start, EndedAt: start.Add(time.Second), Status: sessions.StatusPartial,
			RedactionsByKind: map[string]int{"PHONE": 1, "NAME": 2, "SSN_2": 1 << 30}, UpstreamModel: text,
		}
		var got []any
		if err := json.Unmarshal(appendSession(nil, x), &got); err != nil {
			t.Fatalf("%q: not JSON: %v", text, err)
		}
		want := []any{x.ID, text, x.AgentID, float64(start.UnixMilli()), float64(start.UnixMilli() + 1000), "partial",
			map[string]any{"PHONE": 1.0, "NAME": 2.0, "SSN_2": float64(1 << 30)}, float64(3 + 1<<30), text}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", text, diff)
		}
	}
}

// TestPutSessionsConflictNamed checks that the ErrConflict of PutSessions names the session
// whose ID belongs to another agent, and that nothing of the call is written, in one statement
// and in a transaction of several.
func TestPutSessionsConflictNamed(t *testing.T) {
	ctx := context.Background()
	for _, chunk := range []int{defaultPutChunk, 3} {
		t.Run(fmt.Sprintf("chunk=%d", chunk), func(t *testing.T) {
			s := newTestStore(t)
			s.putChunk = chunk
			a1 := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
			a2 := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acme"}
			for _, a := range []sessions.Agent{a1, a2} {
				if err := s.PutAgent(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
			session := func(a sessions.Agent, i int) sessions.Session {
				at := start.Add(time.Duration(i) * time.Second)
				return sessions.Session{ID: sessions.NewSessionID(at), AccountID: a.AccountID, AgentID: a.ID,
					StartedAt: at, EndedAt: at, Status: sessions.StatusOK}
			}
			taken := session(a1, 0)
			if err := s.PutSessions(ctx, taken); err != nil {
				t.Fatal(err)
			}
			stolen := taken
			stolen.AgentID = a2.ID
			var batch []sessions.Session
			for i := 1; i <= 8; i++ {
				batch = append(batch, session(a2, i))
			}
			batch = append(batch, stolen, session(a2, 9))
			err := s.PutSessions(ctx, batch...)
			if !errors.Is(err, sessions.ErrConflict) || !strings.Contains(err.Error(), taken.ID) {
				t.Errorf("PutSessions = %v; want ErrConflict naming %s", err, taken.ID)
			}
			var n int
			if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM sessions").Scan(&n); err != nil || n != 1 {
				t.Errorf("%d sessions stored (%v); want only the first one", n, err)
			}
		})
	}
}
