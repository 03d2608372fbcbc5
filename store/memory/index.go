package memory

import "sort"

// blockSize is the most entries one block of an index holds. Inserting costs a binary search
// plus moving at most blockSize entries; seeking costs two binary searches.
const blockSize = 512

// index holds records in list order (StartedAt descending, then ID descending) as a sequence of
// sorted blocks, each at most blockSize long. It is not safe for concurrent use: the Store's
// lock guards it.
type index struct {
	blocks [][]*record
	n      int
}

// after reports whether r comes strictly after the position p in list order.
func after(r *record, p position) bool {
	if r.started != p.started {
		return r.started < p.started
	}
	return r.id < p.id
}

// seek returns the place of the first record that comes strictly after p.
func (x *index) seek(p position) (block, i int) {
	block = sort.Search(len(x.blocks), func(b int) bool {
		blk := x.blocks[b]
		return after(blk[len(blk)-1], p)
	})
	if block == len(x.blocks) {
		return block, 0
	}
	blk := x.blocks[block]
	return block, sort.Search(len(blk), func(i int) bool { return after(blk[i], p) })
}

// insert adds r, which the index must not hold already.
func (x *index) insert(r *record) {
	x.n++
	if len(x.blocks) == 0 {
		x.blocks = [][]*record{{r}}
		return
	}
	b, i := x.seek(r.position())
	if b == len(x.blocks) { // after every record: append to the last block
		b--
		i = len(x.blocks[b])
	}
	blk := append(x.blocks[b], nil)
	copy(blk[i+1:], blk[i:])
	blk[i] = r
	if len(blk) <= blockSize {
		x.blocks[b] = blk
		return
	}
	// Split the full block in two halves, each in an array of its own.
	half := len(blk) / 2
	left := append(make([]*record, 0, blockSize), blk[:half]...)
	right := append(make([]*record, 0, blockSize), blk[half:]...)
	x.blocks = append(x.blocks, nil)
	copy(x.blocks[b+2:], x.blocks[b+1:])
	x.blocks[b], x.blocks[b+1] = left, right
}

// remove deletes r, which the index must hold.
func (x *index) remove(r *record) {
	// r is the last record that does not come after the position just before it.
	b, i := x.seek(position{started: r.started, id: r.id + "\x00"})
	blk := x.blocks[b]
	if blk[i] != r {
		panic("memory: index out of order")
	}
	x.n--
	if len(blk) == 1 {
		x.blocks = append(x.blocks[:b], x.blocks[b+1:]...)
		return
	}
	copy(blk[i:], blk[i+1:])
	blk[len(blk)-1] = nil
	x.blocks[b] = blk[:len(blk)-1]
}

// last returns the last record in list order (the oldest), or nil.
func (x *index) last() *record {
	if len(x.blocks) == 0 {
		return nil
	}
	blk := x.blocks[len(x.blocks)-1]
	return blk[len(blk)-1]
}
