package agentnames

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/masker-dev/sessions"
)

// TestFill checks that Kept gives names only at the version they were kept at, and only when it
// holds every agent of the page.
func TestFill(t *testing.T) {
	var k Kept
	a, b := sessions.NewAgentID(), sessions.NewAgentID()
	page := []sessions.Session{{AgentID: a}, {AgentID: b}, {AgentID: a}}
	if k.Fill("acme", 0, page) {
		t.Fatal("Fill found names in an empty Kept")
	}
	k.Keep("acme", 3, map[string]string{a: "front desk"})
	if k.Fill("acme", 3, page) {
		t.Fatal("Fill found every name with one agent of two kept")
	}
	k.Keep("acme", 3, map[string]string{b: "billing"})
	for _, v := range []int64{2, 4} {
		if k.Fill("acme", v, page) {
			t.Fatalf("Fill found names of version 3 for a page of version %d", v)
		}
	}
	if k.Fill("globex", 3, page) {
		t.Fatal("Fill found acme's names for globex")
	}
	if !k.Fill("acme", 3, page) {
		t.Fatal("Fill did not find the names kept")
	}
	if page[0].AgentName != "front desk" || page[1].AgentName != "billing" || page[2].AgentName != "front desk" {
		t.Errorf("names filled: %q, %q, %q", page[0].AgentName, page[1].AgentName, page[2].AgentName)
	}
	k.Keep("acme", 4, map[string]string{a: "reception"})
	if k.Fill("acme", 3, page) || k.Fill("acme", 4, page) {
		t.Error("names of version 3 survived a Keep of version 4")
	}
}

// TestBound checks that Kept stops at MaxKept names: past it, it forgets them all.
func TestBound(t *testing.T) {
	var k Kept
	byAgent := map[string]string{}
	for range MaxKept {
		byAgent[sessions.NewAgentID()] = "a"
	}
	k.Keep("acme", 1, byAgent)
	if k.size != MaxKept {
		t.Fatalf("%d names kept, want %d", k.size, MaxKept)
	}
	k.Keep("globex", 1, map[string]string{sessions.NewAgentID(): "b"})
	if k.size != 1 || len(k.accounts) != 1 {
		t.Errorf("after one more: %d names of %d accounts kept, want 1 of 1", k.size, len(k.accounts))
	}
	k.Keep("globex", 2, map[string]string{sessions.NewAgentID(): "c"})
	if k.size != 1 || k.accounts["globex"].version != 2 {
		t.Errorf("after a new version: %d names at version %d, want 1 at 2", k.size, k.accounts["globex"].version)
	}
}

// TestDistinct checks Distinct's order and uniqueness.
func TestDistinct(t *testing.T) {
	got := Distinct([]sessions.Session{{AgentID: "b"}, {AgentID: "a"}, {AgentID: "b"}})
	if len(got) != 2 || got[0] != "b" || got[1] != "a" {
		t.Errorf("Distinct = %q, want [b a]", got)
	}
}

// TestSet checks that Set names the page from what was read and keeps it at the version read,
// and keeps nothing when the statement found no agent (it told no version then).
func TestSet(t *testing.T) {
	var k Kept
	a, b := sessions.NewAgentID(), sessions.NewAgentID()
	page := []sessions.Session{{AgentID: a}, {AgentID: b, AgentName: "stale"}}
	k.Set("acme", 0, map[string]string{}, page)
	if page[1].AgentName != "" || len(k.accounts) != 0 {
		t.Fatalf("after an empty read: AgentName %q, %d accounts kept; want \"\" and none", page[1].AgentName, len(k.accounts))
	}
	k.Set("acme", 2, map[string]string{a: "front desk", b: "billing"}, page)
	if page[0].AgentName != "front desk" || page[1].AgentName != "billing" {
		t.Errorf("names set: %q, %q", page[0].AgentName, page[1].AgentName)
	}
	if !k.Fill("acme", 2, page) || k.Fill("acme", 1, page) {
		t.Error("Set did not keep the names at the version read, and only there")
	}
}

// TestName checks that Name reads only when the kept names miss, once for the page's distinct
// agents, keeps what it read, and returns read's error.
func TestName(t *testing.T) {
	var k Kept
	a, b := sessions.NewAgentID(), sessions.NewAgentID()
	page := []sessions.Session{{AgentID: a}, {AgentID: b}, {AgentID: a}}
	var calls [][]string
	read := func(_ context.Context, account string, ids []string, names map[string]string) (int64, error) {
		calls = append(calls, ids)
		names[a], names[b] = "front desk", "billing"
		return 5, nil
	}
	for range 2 {
		if err := k.Name(context.Background(), "acme", 5, page, read); err != nil {
			t.Fatal(err)
		}
	}
	if len(calls) != 1 || !slices.Equal(calls[0], []string{a, b}) {
		t.Errorf("reads: %v, want one of %v", calls, []string{a, b})
	}
	if page[0].AgentName != "front desk" || page[1].AgentName != "billing" || page[2].AgentName != "front desk" {
		t.Errorf("names: %q, %q, %q", page[0].AgentName, page[1].AgentName, page[2].AgentName)
	}
	failed := errors.New("down")
	err := k.Name(context.Background(), "acme", 6, page, func(context.Context, string, []string, map[string]string) (int64, error) {
		return 0, failed
	})
	if !errors.Is(err, failed) {
		t.Errorf("Name with a failing read returned %v, want %v", err, failed)
	}
	if err := k.Name(context.Background(), "acme", 6, nil, nil); err != nil {
		t.Errorf("Name of an empty page: %v", err)
	}
}
