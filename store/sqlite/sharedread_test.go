package sqlite

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSharedReadsReuse checks when a tail reuses another tail's read: only a read of the same
// account and position that started after the changes the tail must see committed, and, for a
// fresh read, after the tail asked, so that it sees every write a read of the tail's own would
// see.
func TestSharedReadsReuse(t *testing.T) {
	ctx := context.Background()
	rows := func(pos int64) []tailRow { return []tailRow{{pos: pos}} }
	for _, c := range []struct {
		name     string
		account  string
		after    int64
		need     string // when the tail asked: a key of needs below
		wantPos  int64  // of the row returned: 100 from the first read, 200 from a new one
		wantRead bool
	}{
		{"asked before it started", "a", 7, "early", 100, false},
		{"fresh, asked before it started", "a", 7, "earlyFresh", 100, false},
		{"asked after it started, no write since", "a", 7, "late", 100, false},
		{"fresh, asked after it started", "a", 7, "lateFresh", 200, true},
		{"a change since it started", "a", 7, "afterWrite", 200, true},
		{"another position", "a", 8, "early", 200, true},
		{"another account", "b", 7, "early", 200, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var sr sharedReads
			var queries atomic.Int32
			query := func(pos int64) func(context.Context) ([]tailRow, error) {
				return func(context.Context) ([]tailRow, error) { queries.Add(1); return rows(pos), nil }
			}
			sr.changed()
			needs := map[string]readNeed{"early": sr.need(false), "earlyFresh": sr.need(true)}
			sr.read(ctx, "a", 7, sr.need(true), query(100)) // the first read
			needs["late"], needs["lateFresh"] = sr.need(false), sr.need(true)
			sr.changed()
			needs["afterWrite"] = sr.need(false)

			before := queries.Load()
			got, err := sr.read(ctx, c.account, c.after, needs[c.need], query(200))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.wantPos, got[0].pos); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.wantRead, queries.Load() > before); diff != "" {
				t.Errorf("queried (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSharedReadsUnderWay checks that tails that ask while a read of their account and position
// is under way, having asked before it started, wait for it and share it: one query for all.
func TestSharedReadsUnderWay(t *testing.T) {
	ctx := context.Background()
	var sr sharedReads
	release := make(chan struct{})
	var queries atomic.Int32
	query := func(context.Context) ([]tailRow, error) {
		queries.Add(1)
		<-release
		return []tailRow{{pos: 8}}, nil
	}
	const tails = 20
	asked := make([]readNeed, tails)
	for i := range asked {
		asked[i] = sr.need(true)
	}
	var wg sync.WaitGroup
	got := make([]int64, tails)
	started := make(chan struct{})
	wg.Add(1)
	go func() { // the first tail: its read is under way until release
		defer wg.Done()
		rows, _ := sr.read(ctx, "a", 7, asked[0], func(ctx context.Context) ([]tailRow, error) {
			close(started)
			return query(ctx)
		})
		got[0] = rows[0].pos
	}()
	<-started
	for i := 1; i < tails; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows, _ := sr.read(ctx, "a", 7, asked[i], query)
			got[i] = rows[0].pos
		}()
	}
	close(release)
	wg.Wait()
	want := make([]int64, tails)
	for i := range want {
		want[i] = 8
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if n := queries.Load(); n != 1 {
		t.Errorf("%d queries, want 1", n)
	}
}

// TestSharedReadsCancelled checks that a tail whose shared read failed because the tail that ran
// it went away reads again, rather than failing with another tail's error.
func TestSharedReadsCancelled(t *testing.T) {
	var sr sharedReads
	asked := sr.need(true)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	sr.read(gone, "a", 7, asked, func(ctx context.Context) ([]tailRow, error) { return nil, ctx.Err() })
	rows, err := sr.read(context.Background(), "a", 7, asked, func(context.Context) ([]tailRow, error) {
		return []tailRow{{pos: 8}}, nil
	})
	if err != nil || len(rows) != 1 {
		t.Errorf("read after a cancelled shared read: %v, %v; want one row", rows, err)
	}
}
