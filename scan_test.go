package sessions_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

// batchReader serves the sessions of list as the read function of ScanBatches: up to f.Limit+1
// after f.After. It records the filters it was called with, and fails on the call numbered
// failAt (from 1).
type batchReader struct {
	list   []sessions.Session
	failAt int

	mu    sync.Mutex
	calls []sessions.Filter
}

var errBatch = errors.New("batch failed")

func (r *batchReader) read(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	r.mu.Lock()
	r.calls = append(r.calls, f)
	n := len(r.calls)
	r.mu.Unlock()
	if n == r.failAt {
		return nil, errBatch
	}
	i := 0
	if f.After != nil {
		for i < len(r.list) && !f.After.Before(r.list[i].Cursor()) {
			i++
		}
	}
	return r.list[i:min(len(r.list), i+f.Limit+1)], nil
}

func TestScanBatches(t *testing.T) {
	at := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	var list []sessions.Session
	for i := range 7 {
		list = append(list, sessions.Session{ID: sessions.NewSessionID(at), StartedAt: at.Add(-time.Duration(i) * time.Second)})
	}
	stop := errors.New("stop")
	tests := []struct {
		name      string
		f         sessions.Filter
		failAt    int
		stopAt    int // fn returns stop on its call numbered stopAt
		want      []sessions.Session
		wantErr   error
		wantCalls []sessions.Filter // Since and Until normalized; every Limit is the batch, 3
	}{
		{
			name: "every batch", f: sessions.Filter{AccountID: "acme", Limit: 50}, // Limit is ignored
			want: list,
			wantCalls: []sessions.Filter{
				{AccountID: "acme", Limit: 3},
				{AccountID: "acme", Limit: 3, After: ptr(list[2].Cursor())},
				{AccountID: "acme", Limit: 3, After: ptr(list[5].Cursor())},
			},
		},
		{
			name: "from a position", f: sessions.Filter{AccountID: "acme", After: ptr(list[3].Cursor())},
			want: list[4:],
			wantCalls: []sessions.Filter{
				{AccountID: "acme", Limit: 3, After: ptr(list[3].Cursor())},
			},
		},
		{
			name: "error on the second batch, after the first", failAt: 2, f: sessions.Filter{AccountID: "acme"},
			want: list[:3], wantErr: errBatch,
			wantCalls: []sessions.Filter{
				{AccountID: "acme", Limit: 3},
				{AccountID: "acme", Limit: 3, After: ptr(list[2].Cursor())},
			},
		},
		{
			name: "fn stops", stopAt: 2, f: sessions.Filter{AccountID: "acme"},
			want: list[:2], wantErr: stop,
		},
		{
			name: "invalid filter", f: sessions.Filter{AccountID: "acme", MinRedactions: -1},
			wantErr: &sessions.ValidationError{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &batchReader{list: list, failAt: tt.failAt}
			var got []sessions.Session
			err := sessions.ScanBatches(t.Context(), tt.f, 3, r.read, func(s sessions.Session) error {
				got = append(got, s)
				if len(got) == tt.stopAt {
					return stop
				}
				return nil
			})
			var ve *sessions.ValidationError
			switch {
			case tt.wantErr == nil && err != nil,
				tt.wantErr != nil && errors.As(tt.wantErr, &ve) && !errors.As(err, &ve),
				tt.wantErr != nil && !errors.As(tt.wantErr, &ve) && err != tt.wantErr:
				t.Errorf("err = %v; want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("passed to fn (-want +got):\n%s", diff)
			}
			if tt.stopAt == 0 {
				r.mu.Lock()
				defer r.mu.Unlock()
				if diff := cmp.Diff(tt.wantCalls, r.calls); diff != "" {
					t.Errorf("read calls (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestScanBatchesContext checks that ScanBatches returns when its context ends, even while a read
// that does not honour the context goes on, and that fn's error cancels the read ahead.
func TestScanBatchesContext(t *testing.T) {
	f := sessions.Filter{AccountID: "acme"}
	at := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	one := []sessions.Session{{ID: sessions.NewSessionID(at), StartedAt: at}, {ID: sessions.NewSessionID(at), StartedAt: at.Add(-time.Second)}}

	t.Run("a read that hangs", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			done <- sessions.ScanBatches(ctx, f, 1, func(context.Context, sessions.Filter) ([]sessions.Session, error) {
				<-release // ignores its context
				return nil, nil
			}, func(sessions.Session) error { return nil })
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v; want one that matches context.Canceled", err)
		}
	})
	t.Run("fn stops the read ahead", func(t *testing.T) {
		calls := 0
		readAhead := make(chan error, 1)
		stop := errors.New("stop")
		err := sessions.ScanBatches(t.Context(), f, 1, func(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
			calls++
			if calls == 1 {
				return one, nil // more than the batch: a second read follows, ahead of fn
			}
			<-ctx.Done()
			readAhead <- ctx.Err()
			return nil, ctx.Err()
		}, func(sessions.Session) error { return stop })
		if err != stop {
			t.Errorf("err = %v; want fn's error", err)
		}
		if err := <-readAhead; !errors.Is(err, context.Canceled) {
			t.Errorf("the read ahead ended with %v; want its context cancelled", err)
		}
	})
}
