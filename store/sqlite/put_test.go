package sqlite

import (
	"encoding/json"
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
