package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// testContext checks that every method of sessions.Store honours its context (PurgeSessions:
// see testPurgeContext): a cancelled context gives an error
// that matches context.Canceled, and a passed deadline one that matches sessions.ErrUnavailable;
// either way nothing is written, and the store works afterwards.
func testContext(t *testing.T, h *harness) {
	a := h.newAgent("acme", "Front desk")
	s := newSession(a, base, map[string]int{"PHONE": 1})
	h.put(s, newSession(a, base.Add(-time.Second), nil), newSession(a, base.Add(-2*time.Second), nil))
	newAgentID := sessions.NewAgentID()
	rewritten := s
	rewritten.Status = sessions.StatusError

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"PutAgent rename", func(ctx context.Context) error {
			return h.store.PutAgent(ctx, sessions.Agent{ID: a.ID, AccountID: "acme", Name: "Renamed"})
		}},
		{"PutAgent new", func(ctx context.Context) error {
			return h.store.PutAgent(ctx, sessions.Agent{ID: newAgentID, AccountID: "acme"})
		}},
		{"GetAgent", func(ctx context.Context) error {
			_, err := h.store.GetAgent(ctx, "acme", a.ID)
			return err
		}},
		{"PutSessions", func(ctx context.Context) error {
			return h.store.PutSessions(ctx, newSession(a, base.Add(time.Hour), nil), rewritten)
		}},
		{"ListSessions", func(ctx context.Context) error {
			_, err := h.store.ListSessions(ctx, sessions.Filter{AccountID: "acme"})
			return err
		}},
		{"ListSessions after a cursor", func(ctx context.Context) error {
			_, err := h.store.ListSessions(ctx, sessions.Filter{AccountID: "acme", AgentID: a.ID, Limit: 1, After: ptr(s.Cursor())})
			return err
		}},
	}

	cancelled, cancel := context.WithCancel(h.ctx)
	cancel()
	expired, cancelExpired := context.WithDeadline(h.ctx, time.Unix(1, 0))
	defer cancelExpired()
	for _, ctx := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", expired, sessions.ErrUnavailable},
	} {
		for _, c := range calls {
			t.Run(ctx.name+"/"+c.name, func(t *testing.T) {
				wantIs(t, c.name, c.call(ctx.ctx), ctx.want)
			})
		}
	}

	t.Run("nothing written", func(t *testing.T) {
		h := h.with(t)
		h.checkAll()
		got, err := h.store.GetAgent(h.ctx, "acme", a.ID)
		if err != nil {
			t.Fatalf("GetAgent: %v", err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("GetAgent (-want +got):\n%s", diff)
		}
		_, err = h.store.GetAgent(h.ctx, "acme", newAgentID)
		wantIs(t, "GetAgent of the agent put with a dead context", err, sessions.ErrAgentNotFound)
	})

	t.Run("store works afterwards", func(t *testing.T) {
		h := h.with(t)
		h.put(newSession(a, base.Add(time.Minute), nil), rewritten)
		h.putAgent(sessions.Agent{ID: a.ID, AccountID: "acme", Name: "Reception"})
		h.checkAll()
	})
}
