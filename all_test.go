package sessions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// pagedStore is a sessions.Store whose ListSessions serves fixed pages, and fails on the page
// numbered failAt (from 1), to check the walk of All.
type pagedStore struct {
	sessions.Store
	pages  []sessions.Page
	failAt int
	calls  []sessions.Filter
}

var errPage = errors.New("page failed")

func (s *pagedStore) ListSessions(ctx context.Context, f sessions.Filter) (sessions.Page, error) {
	s.calls = append(s.calls, f)
	if len(s.calls) == s.failAt {
		return sessions.Page{}, errPage
	}
	return s.pages[len(s.calls)-1], nil
}

func TestAll(t *testing.T) {
	at := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	mk := func(n int) sessions.Session {
		return sessions.Session{ID: sessions.NewSessionID(at), StartedAt: at.Add(-time.Duration(n) * time.Second)}
	}
	s1, s2, s3 := mk(1), mk(2), mk(3)
	pages := []sessions.Page{
		{Sessions: []sessions.Session{s1, s2}, Next: ptr(s2.Cursor())},
		{Sessions: []sessions.Session{s3}},
	}
	start := &sessions.Cursor{StartedAt: at, ID: ""}
	tests := []struct {
		name      string
		failAt    int
		breakAt   int
		f         sessions.Filter
		want      []sessions.Session
		wantErr   bool
		wantCalls []sessions.Filter
	}{
		{
			name: "every page", f: sessions.Filter{AccountID: "acme", After: start},
			want: []sessions.Session{s1, s2, s3},
			wantCalls: []sessions.Filter{
				{AccountID: "acme", Limit: sessions.MaxLimit, After: start},
				{AccountID: "acme", Limit: sessions.MaxLimit, After: ptr(s2.Cursor())},
			},
		},
		{
			name: "the filter's page size", f: sessions.Filter{AccountID: "acme", Limit: 2},
			want: []sessions.Session{s1, s2, s3},
			wantCalls: []sessions.Filter{
				{AccountID: "acme", Limit: 2},
				{AccountID: "acme", Limit: 2, After: ptr(s2.Cursor())},
			},
		},
		{
			name: "error on the second page", failAt: 2, f: sessions.Filter{AccountID: "acme"},
			want: []sessions.Session{s1, s2, {}}, wantErr: true,
			wantCalls: []sessions.Filter{
				{AccountID: "acme", Limit: sessions.MaxLimit},
				{AccountID: "acme", Limit: sessions.MaxLimit, After: ptr(s2.Cursor())},
			},
		},
		{
			name: "break", breakAt: 2, f: sessions.Filter{AccountID: "acme"},
			want:      []sessions.Session{s1, s2},
			wantCalls: []sessions.Filter{{AccountID: "acme", Limit: sessions.MaxLimit}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &pagedStore{pages: pages, failAt: tt.failAt}
			var got []sessions.Session
			var gotErr bool
			for s, err := range sessions.All(t.Context(), store, tt.f) {
				got = append(got, s)
				if err != nil {
					if !errors.Is(err, errPage) {
						t.Errorf("err = %v; want the store's error", err)
					}
					gotErr = true
				}
				if len(got) == tt.breakAt {
					break
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("yielded (-want +got):\n%s", diff)
			}
			if gotErr != tt.wantErr {
				t.Errorf("yielded an error: %t; want %t", gotErr, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, store.calls); diff != "" {
				t.Errorf("ListSessions calls (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestSessionIDFor(t *testing.T) {
	a := sessions.SessionIDFor("acme", "CA1234567890abcdef1234567890abcdef")
	if !sessions.IsSessionID(a) {
		t.Fatalf("SessionIDFor = %q: not a session ID", a)
	}
	if again := sessions.SessionIDFor("acme", "CA1234567890abcdef1234567890abcdef"); again != a {
		t.Errorf("SessionIDFor is not stable: %q, then %q", a, again)
	}
	seen := map[string]string{}
	for _, in := range [][2]string{
		{"acme", "call-1"}, {"acme", "call-2"}, {"globex", "call-1"}, {"", "call-1"}, {"acme", ""},
		{"acm", "ecall-1"}, {"acme\x00", "call-1"}, {"ACME", "call-1"},
	} {
		id := sessions.SessionIDFor(in[0], in[1])
		if !sessions.IsSessionID(id) {
			t.Errorf("SessionIDFor(%q, %q) = %q: not a session ID", in[0], in[1], id)
		}
		if prev, ok := seen[id]; ok {
			t.Errorf("SessionIDFor(%q, %q) = %q, the ID of %s too", in[0], in[1], id, prev)
		}
		seen[id] = in[0] + "/" + in[1]
	}
}
