package memory

import "sort"

// blockSize is the most entries one block of an index holds. Inserting costs a binary search
// plus moving at most blockSize entries; seeking costs two binary searches.
const blockSize = 512

// index holds the numbers of records of a table in list order (StartedAt descending, then ID
// descending) as a sequence of sorted blocks, each at most blockSize long. It is not safe for
// concurrent use: the Store's lock guards it.
type index struct {
	t      *table
	blocks [][]ref
	n      int
}

func newIndex(t *table) *index { return &index{t: t} }

// after reports whether r comes strictly after the position p in list order.
func after(r *record, p position) bool {
	if r.started != p.started {
		return r.started < p.started
	}
	return r.id.Compare(p.id) < 0
}

// notBefore reports whether r is at the position p or after it.
func notBefore(r *record, p position) bool {
	return r.started < p.started || r.started == p.started && r.id.Compare(p.id) <= 0
}

// seek returns the place of the first record that comes strictly after p.
func (x *index) seek(p position) (block, i int) {
	return x.search(func(r ref) bool { return after(x.t.at(r), p) })
}

// search returns the place of the first record for which past is true. Past must be false for
// the records of some prefix of the index and true for the rest.
func (x *index) search(past func(ref) bool) (block, i int) {
	block = sort.Search(len(x.blocks), func(b int) bool {
		blk := x.blocks[b]
		return past(blk[len(blk)-1])
	})
	if block == len(x.blocks) {
		return block, 0
	}
	blk := x.blocks[block]
	return block, sort.Search(len(blk), func(i int) bool { return past(blk[i]) })
}

// insert adds r, which the index must not hold already.
func (x *index) insert(r ref) {
	x.n++
	if len(x.blocks) == 0 {
		x.blocks = [][]ref{{r}}
		return
	}
	b, i := x.seek(x.t.at(r).position())
	if b == len(x.blocks) { // after every record: append to the last block
		b--
		i = len(x.blocks[b])
	}
	blk := append(x.blocks[b], 0)
	copy(blk[i+1:], blk[i:])
	blk[i] = r
	if len(blk) <= blockSize {
		x.blocks[b] = blk
		return
	}
	// Split the full block in two halves, each in an array of its own.
	half := len(blk) / 2
	left := append(make([]ref, 0, blockSize), blk[:half]...)
	right := append(make([]ref, 0, blockSize), blk[half:]...)
	x.blocks = append(x.blocks, nil)
	copy(x.blocks[b+2:], x.blocks[b+1:])
	x.blocks[b], x.blocks[b+1] = left, right
}

// remove deletes r, which the index must hold.
func (x *index) remove(r ref) {
	p := x.t.at(r).position()
	b, i := x.search(func(r ref) bool { return notBefore(x.t.at(r), p) })
	if b == len(x.blocks) || x.blocks[b][i] != r {
		panic("memory: index out of order")
	}
	x.n--
	blk := x.blocks[b]
	if len(blk) == 1 {
		x.blocks = append(x.blocks[:b], x.blocks[b+1:]...)
		return
	}
	copy(blk[i:], blk[i+1:])
	x.blocks[b] = blk[:len(blk)-1]
}

// last returns the last record in list order (the oldest), and whether there is one.
func (x *index) last() (ref, bool) {
	if len(x.blocks) == 0 {
		return 0, false
	}
	blk := x.blocks[len(x.blocks)-1]
	return blk[len(blk)-1], true
}
