package memory

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/oklog/ulid/v2"
)

// TestIndex checks the block index against a sorted slice through inserts, removals and seeks
// that split and empty many blocks, with record numbers used again after removals.
func TestIndex(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var tab table
	x := newIndex(&tab)
	var want []position
	id := func(n int) (u ulid.ULID) {
		binary.BigEndian.PutUint64(u[8:], uint64(n))
		return u
	}
	text := func(ps []position) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = fmt.Sprintf("%d/%s", p.started, p.id)
		}
		return out
	}
	order := func(a, b position) int {
		if a.started != b.started {
			return int(b.started - a.started)
		}
		return b.id.Compare(a.id)
	}
	refs := map[position]ref{}
	for step := 0; step < 20000; step++ {
		if len(want) > 0 && rng.Intn(3) == 0 {
			i := rng.Intn(len(want))
			r := refs[want[i]]
			x.remove(r)
			tab.release(r)
			delete(refs, want[i])
			want = slices.Delete(want, i, i+1)
		} else {
			p := position{started: int64(rng.Intn(50)), id: id(step)}
			r := tab.add()
			*tab.at(r) = record{started: p.started, id: p.id}
			refs[p] = r
			x.insert(r)
			i, _ := slices.BinarySearchFunc(want, p, order)
			want = slices.Insert(want, i, p)
		}
		if step%500 != 0 {
			continue
		}
		positions := func(rs []ref) []position {
			var out []position
			for _, r := range rs {
				out = append(out, tab.at(r).position())
			}
			return out
		}
		var got []ref
		for _, blk := range x.blocks {
			if len(blk) == 0 || len(blk) > blockSize {
				t.Fatalf("step %d: block of %d entries", step, len(blk))
			}
			got = append(got, blk...)
		}
		// Positions compared as they are; text and cmp.Diff only for the message, as on
		// thousands of entries they cost most of the test.
		if g := positions(got); !slices.Equal(want, g) || x.n != len(want) {
			t.Fatalf("step %d: n=%d, want %d; order (-want +got):\n%s", step, x.n, len(want), cmp.Diff(text(want), text(g)))
		}
		p := position{started: int64(rng.Intn(52) - 1), id: id(rng.Intn(step + 1))}
		b, i := x.seek(p)
		var rest []ref
		for ; b < len(x.blocks); b, i = b+1, 0 {
			rest = append(rest, x.blocks[b][i:]...)
		}
		k := slices.IndexFunc(want, func(q position) bool { return order(p, q) < 0 })
		if k < 0 {
			k = len(want)
		}
		if g := positions(rest); !slices.Equal(want[k:], g) {
			t.Fatalf("step %d: seek(%v) (-want +got):\n%s", step, p, cmp.Diff(text(want[k:]), text(g)))
		}
	}
	if live := int(tab.used) - len(tab.free); live != len(want) {
		t.Errorf("table holds %d live records, want %d", live, len(want))
	}
}
