package memory_test

import (
	"context"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/store/memory"
)

var (
	loadOnce sync.Once
	loaded   *memory.Store
)

// benchStore returns a memory store holding the benchmark data set, loaded once per process.
func benchStore(b *testing.B) *memory.Store {
	b.Helper()
	loadOnce.Do(func() {
		n, err := benchdata.Size()
		if err != nil {
			b.Fatal(err)
		}
		loaded = memory.New()
		benchdata.Load(b, loaded, n, 10_000)
	})
	return loaded
}

// BenchmarkMemoryList measures ListSessions on each query of benchdata.Cases.
func BenchmarkMemoryList(b *testing.B) {
	benchdata.RunList(b, benchStore(b))
}

// BenchmarkMemoryFloor measures the least a page can cost: sort.Search on a sorted slice of the
// busiest agent's sessions, and a copy of the page with its maps, as ListSessions returns it.
func BenchmarkMemoryFloor(b *testing.B) {
	store := benchStore(b)
	busy := sessions.Filter{AccountID: benchdata.Account, AgentID: benchdata.AgentList()[0].ID, Limit: sessions.MaxLimit}
	var all []sessions.Session
	for f := busy; ; {
		page, err := store.ListSessions(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, page.Sessions...)
		if page.Next == nil {
			break
		}
		f.After = page.Next
	}
	positions := make([]sessions.Cursor, len(all))
	for i, s := range all {
		positions[i] = s.Cursor()
	}
	for _, c := range []struct {
		name string
		page int
	}{{"first", 1}, {"page1000", 1000}} {
		after := benchdata.PageCursor(positions, 100, c.page)
		b.Run("agent/"+c.name+"/limit=100", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				i := 0
				if after != nil {
					i = sort.Search(len(all), func(i int) bool { return after.Before(all[i].Cursor()) })
				}
				out := slices.Clone(all[i:min(i+100, len(all))])
				for j := range out {
					out[j] = out[j].Clone()
				}
			}
		})
	}
}

// BenchmarkMemoryIngest measures PutSessions in batches of 1, 100 and 10,000.
func BenchmarkMemoryIngest(b *testing.B) {
	benchdata.RunIngest(b, benchStore(b), 1, 100, 10_000)
}

// BenchmarkMemoryHeap reports the heap that the store holds per session of the data set.
func BenchmarkMemoryHeap(b *testing.B) {
	n, err := benchdata.Size()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		store := memory.New()
		benchdata.Load(b, store, n, 10_000)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/session")
		runtime.KeepAlive(store)
	}
}

// BenchmarkMemoryDepth measures pages 1 to 1,000 of the account-wide list.
func BenchmarkMemoryDepth(b *testing.B) {
	benchdata.RunKeysetDepth(b, benchStore(b))
}
