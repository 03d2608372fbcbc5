package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// TestNowDefault checks the contract's default of Config.Now, time.Now: with the field left
// nil, the default since=24h is resolved against the real clock, on the list and in the
// summary's stated bound.
func TestNowDefault(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Now = nil })
	wall := time.Now().UTC()
	recent := session(accountA, e.agentA1, now.Sub(wall)+time.Hour) // an hour before the wall now
	old := session(accountA, e.agentA1, now.Sub(wall)+25*time.Hour) // 25 hours before it
	e.put(t, recent, old)
	if !recent.StartedAt.Before(wall) || wall.Sub(recent.StartedAt) > 2*time.Hour {
		t.Fatalf("bad case: recent session started at %s, wall now %s", recent.StartedAt, wall)
	}

	got := e.do(t, http.MethodGet, "/api/v1/sessions", e.cookieA).page(t).ids()
	if diff := cmp.Diff([]string{recent.ID}, got); diff != "" {
		t.Errorf("default since=24h with Config.Now nil (-want +got):\n%s", diff)
	}

	before := time.Now()
	res := e.do(t, http.MethodGet, "/api/v1/sessions/summary", e.cookieA)
	after := time.Now()
	var body struct {
		Summary struct {
			Since    time.Time `json:"since"`
			Sessions int64     `json:"sessions"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || res.status != http.StatusOK {
		t.Fatalf("summary: %d %s (%v)", res.status, res.body, err)
	}
	lo, hi := sessions.Millis(before.Add(-24*time.Hour)), after.Add(-24*time.Hour).Add(time.Millisecond)
	if body.Summary.Since.Before(lo) || body.Summary.Since.After(hi) || body.Summary.Sessions != 1 {
		t.Errorf("summary since %s (want 24h before the real clock, %s to %s), sessions %d (want 1)",
			body.Summary.Since, lo, hi, body.Summary.Sessions)
	}
}
