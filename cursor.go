package sessions

import "time"

// Cursor is a position in the list order: StartedAt descending, then ID descending. A page that
// starts after a cursor holds the sessions that come strictly after it. A cursor holds a position,
// not a session: it stays valid when its session is changed or deleted.
type Cursor struct {
	StartedAt time.Time // the start time of the position's session
	ID        string    // its ID, which orders sessions that started at the same time
}

// Before reports whether c comes before d in the list order: c started later, or at the same
// time with a greater ID.
func (c Cursor) Before(d Cursor) bool {
	if !c.StartedAt.Equal(d.StartedAt) {
		return c.StartedAt.After(d.StartedAt)
	}
	return c.ID > d.ID
}
