package memory

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestIndex checks the block index against a sorted slice through inserts, removals and seeks
// that split and empty many blocks.
func TestIndex(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var x index
	var want []*record
	ids := func(rs []*record) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = fmt.Sprintf("%d/%s", r.started, r.id)
		}
		return out
	}
	order := func(a, b *record) int {
		if a.started != b.started {
			return int(b.started - a.started)
		}
		switch {
		case a.id > b.id:
			return -1
		case a.id < b.id:
			return 1
		}
		return 0
	}
	for step := 0; step < 20000; step++ {
		if len(want) > 0 && rng.Intn(3) == 0 {
			i := rng.Intn(len(want))
			x.remove(want[i])
			want = slices.Delete(want, i, i+1)
		} else {
			r := &record{started: int64(rng.Intn(50)), id: fmt.Sprintf("s%06d", step)}
			x.insert(r)
			i, _ := slices.BinarySearchFunc(want, r, order)
			want = slices.Insert(want, i, r)
		}
		if step%500 != 0 {
			continue
		}
		var got []*record
		for _, blk := range x.blocks {
			if len(blk) == 0 || len(blk) > blockSize {
				t.Fatalf("step %d: block of %d entries", step, len(blk))
			}
			got = append(got, blk...)
		}
		if diff := cmp.Diff(ids(want), ids(got)); diff != "" || x.n != len(want) {
			t.Fatalf("step %d: n=%d, want %d; order (-want +got):\n%s", step, x.n, len(want), diff)
		}
		p := position{started: int64(rng.Intn(52) - 1), id: fmt.Sprintf("s%06d", rng.Intn(step+1))}
		b, i := x.seek(p)
		var rest []*record
		for ; b < len(x.blocks); b, i = b+1, 0 {
			rest = append(rest, x.blocks[b][i:]...)
		}
		k := slices.IndexFunc(want, func(r *record) bool { return after(r, p) })
		if k < 0 {
			k = len(want)
		}
		if diff := cmp.Diff(ids(want[k:]), ids(rest)); diff != "" {
			t.Fatalf("step %d: seek(%v) (-want +got):\n%s", step, p, diff)
		}
	}
}
