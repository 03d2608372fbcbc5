package sharedread

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// key is the key of the tests' reads: an account and a position.
type key struct {
	account string
	after   int64
}

// TestReadsReuse checks when a tail reuses another tail's read: only a read of the same
// account and position that started after the changes the tail must see committed, and, for a
// fresh read, after the tail asked, so that it sees every write a read of the tail's own would
// see.
func TestReadsReuse(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		account  string
		after    int64
		need     string // when the tail asked: a key of needs below
		want     int64  // the value returned: 100 from the first read, 200 from a new one
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
			var sr Reads[key, int64]
			var queries atomic.Int32
			query := func(pos int64) func(context.Context) (int64, error) {
				return func(context.Context) (int64, error) { queries.Add(1); return pos, nil }
			}
			sr.Changed()
			needs := map[string]Need{"early": sr.Need(false), "earlyFresh": sr.Need(true)}
			sr.Read(ctx, key{"a", 7}, sr.Need(true), query(100)) // the first read
			needs["late"], needs["lateFresh"] = sr.Need(false), sr.Need(true)
			sr.Changed()
			needs["afterWrite"] = sr.Need(false)

			before := queries.Load()
			got, err := sr.Read(ctx, key{c.account, c.after}, needs[c.need], query(200))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.wantRead, queries.Load() > before); diff != "" {
				t.Errorf("queried (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadsUnderWay checks that tails that ask while a read of their account and position
// is under way, having asked before it started, wait for it and share it: one query for all.
func TestReadsUnderWay(t *testing.T) {
	ctx := context.Background()
	var sr Reads[key, int64]
	release := make(chan struct{})
	var queries atomic.Int32
	query := func(context.Context) (int64, error) {
		queries.Add(1)
		<-release
		return 8, nil
	}
	const tails = 20
	asked := make([]Need, tails)
	for i := range asked {
		asked[i] = sr.Need(true)
	}
	var wg sync.WaitGroup
	got := make([]int64, tails)
	started := make(chan struct{})
	wg.Add(1)
	go func() { // the first tail: its read is under way until release
		defer wg.Done()
		v, _ := sr.Read(ctx, key{"a", 7}, asked[0], func(ctx context.Context) (int64, error) {
			close(started)
			return query(ctx)
		})
		got[0] = v
	}()
	<-started
	for i := 1; i < tails; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _ := sr.Read(ctx, key{"a", 7}, asked[i], query)
			got[i] = v
		}()
	}
	close(release)
	wg.Wait()
	want := make([]int64, tails)
	for i := range want {
		want[i] = 8
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if n := queries.Load(); n != 1 {
		t.Errorf("%d queries, want 1", n)
	}
}

// TestReadsCancelled checks that a tail whose shared read failed because the tail that ran
// it went away reads again, rather than failing with another tail's error.
func TestReadsCancelled(t *testing.T) {
	var sr Reads[key, int64]
	asked := sr.Need(true)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	sr.Read(gone, key{"a", 7}, asked, func(ctx context.Context) (int64, error) { return 0, ctx.Err() })
	v, err := sr.Read(context.Background(), key{"a", 7}, asked, func(context.Context) (int64, error) {
		return 8, nil
	})
	if err != nil || v != 8 {
		t.Errorf("read after a cancelled shared read: %v, %v; want 8, nil", v, err)
	}
}
