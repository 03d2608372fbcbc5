package memory

import (
	"github.com/masker-dev/sessions"
	"github.com/oklog/ulid/v2"
)

// The store keeps its sessions in memory that holds no pointers, so that the garbage collector
// neither scans nor marks it: records live in fixed-size chunks and refer to one another, and
// are referred to, by number. Marking a heap of millions of small objects with pointers would
// otherwise cost more than serving a page (the collector runs again after every few thousand
// pages, each of which allocates its result).

// ref is the number of a record in a table.
type ref uint32

// inlineKinds is how many redaction kinds a record holds itself; a session with more keeps them
// all in Store.moreKinds. Sessions rarely have more than a few kinds.
const inlineKinds = 4

// record is a stored session. It holds no pointers: the ID as the 16 bytes of its ULID (IDs are
// validated session IDs, whose ULIDs sort as the IDs do), times in Unix milliseconds, the agent as
// its number and the kinds and model as numbers of interned names.
type record struct {
	id       ulid.ULID
	started  int64
	ended    int64
	count    int64  // the sum of the kinds' counts, for min_redactions
	written  uint64 // the feed position of the session's latest write
	agent    uint32
	upstream uint32 // interned name
	status   status
	nKinds   uint8 // the kinds of inline, or, above inlineKinds, of Store.moreKinds
	inline   [inlineKinds]kindCount
}

type kindCount struct {
	kind uint32 // interned name
	n    int32  // at most sessions.MaxKindCount
}

// status is a sessions.Status as a number.
type status uint8

var statuses = []sessions.Status{sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}

func statusOf(s sessions.Status) status {
	for i, v := range statuses {
		if v == s {
			return status(i)
		}
	}
	panic("memory: unvalidated status " + string(s))
}

// position is a place in list order, as in sessions.Cursor, with the ULID of the session ID.
type position struct {
	started int64
	id      ulid.ULID
}

func (r *record) position() position { return position{r.started, r.id} }

// chunkBits sets the records per chunk: 4,096, about 350 KiB.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// table holds records by number. Numbers of deleted records are used again.
type table struct {
	chunks [][]record // each chunkSize long
	used   ref        // records handed out, deleted ones included
	free   []ref
}

// at returns the record numbered r.
func (t *table) at(r ref) *record { return &t.chunks[r>>chunkBits][r&(chunkSize-1)] }

// full reports whether the table cannot take n more records.
func (t *table) full(n int) bool {
	return uint64(t.used)-uint64(len(t.free))+uint64(n) > uint64(maxRecords)
}

// maxRecords is the most records a table holds: the numbers of ref.
const maxRecords = 1<<32 - 1

// add returns the number of a new, zero record. The caller has checked full.
func (t *table) add() ref {
	if n := len(t.free); n > 0 {
		r := t.free[n-1]
		t.free = t.free[:n-1]
		return r
	}
	r := t.used
	if int(r>>chunkBits) == len(t.chunks) {
		t.chunks = append(t.chunks, make([]record, chunkSize))
	}
	t.used++
	return r
}

// release zeroes the record r and keeps its number for a later add.
func (t *table) release(r ref) {
	*t.at(r) = record{}
	t.free = append(t.free, r)
}
