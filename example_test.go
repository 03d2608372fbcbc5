package sessions_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/masker-dev/sessions"
)

func ExampleParseDuration() {
	for _, s := range []string{"90s", "36h", "1d12h", "2w", "7x"} {
		d, err := sessions.ParseDuration(s)
		fmt.Println(d, err)
	}
	// Output:
	// 1m30s <nil>
	// 36h0m0s <nil>
	// 36h0m0s <nil>
	// 336h0m0s <nil>
	// 0s sessions: duration: "7x": want a duration like 24h, 7d or 1d12h (units s, m, h, d, w)
}

func ExampleParseSince() {
	now := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	for _, s := range []string{"24h", "7d", "2026-05-01", "2026-05-03T23:00:00+02:00"} {
		t, _ := sessions.ParseSince(s, now)
		fmt.Println(t.Format(time.RFC3339))
	}
	// Output:
	// 2026-05-02T21:14:32Z
	// 2026-04-26T21:14:32Z
	// 2026-05-01T00:00:00Z
	// 2026-05-03T21:00:00Z
}

func ExampleParseTime() {
	now := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	// The bounds of a window from two days ago until one hour ago.
	since, _ := sessions.ParseTime("2d", now)
	until, _ := sessions.ParseTime("1h", now)
	fmt.Println(since.Format(time.RFC3339), until.Format(time.RFC3339))
	_, err := sessions.ParseTime("yesterday", now)
	fmt.Println(err)
	// Output:
	// 2026-05-01T21:14:32Z 2026-05-03T20:14:32Z
	// sessions: time: "yesterday": want a duration like 24h or 7d, or an RFC 3339 timestamp
}

func ExampleSession_Validate() {
	start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	s := sessions.Session{
		ID:               "sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB",
		AccountID:        "acct_1",
		AgentID:          "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA",
		StartedAt:        start,
		EndedAt:          start.Add(794 * time.Millisecond),
		Status:           sessions.StatusOK,
		RedactionsByKind: map[string]int{"phone": 1},
	}
	err := s.Validate()
	var verr *sessions.ValidationError
	if errors.As(err, &verr) {
		fmt.Println(verr.Field)
	}
	fmt.Println(err)
	// Output:
	// RedactionsByKind["phone"]
	// sessions: session sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFB: RedactionsByKind["phone"]: want a kind like PHONE, matching ^[A-Z][A-Z0-9_]{0,31}$
}

// A voice pipeline that knows only the platform's call ID records the call under the same
// session ID from any process, so that recording it again is an upsert. The output is fixed: the
// derivation never changes, or a call recorded by an older version would be recorded twice.
func ExampleSessionIDFor() {
	id := sessions.SessionIDFor("acct_1", "CA5f0e4a1c2b3d4e5f60718293a4b5c6d7")
	fmt.Println(id, sessions.IsSessionID(id))
	fmt.Println(id == sessions.SessionIDFor("acct_1", "CA5f0e4a1c2b3d4e5f60718293a4b5c6d7"))
	// Output:
	// sess_7CXBC9X4BV8B4PVFFGTX2WTDVC true
	// true
}
