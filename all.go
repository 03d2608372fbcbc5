package sessions

import (
	"context"
	"iter"
)

// All walks every page of f through s.ListSessions, in list order (StartedAt descending, then ID
// descending). It yields (session, nil) for each session, and stops after yielding (zero
// Session, err) once on the first error, which is any error of ListSessions. Breaking out of the
// loop stops the walk. f.After, when set, is where the walk starts; f.Limit is the size of the
// pages it reads, and MaxLimit when it is 0.
//
// The walk has the guarantee of ListSessions' cursors: every session that matched f when the
// walk began, and still matches with the same StartedAt, is yielded exactly once, even while
// other sessions are written. The returned sequence may be ranged over once per call of All; it
// is safe for concurrent use when s is.
func All(ctx context.Context, s Store, f Filter) iter.Seq2[Session, error] {
	return func(yield func(Session, error) bool) {
		if f.Limit == 0 {
			f.Limit = MaxLimit
		}
		for {
			page, err := s.ListSessions(ctx, f)
			if err != nil {
				yield(Session{}, err)
				return
			}
			for _, sess := range page.Sessions {
				if !yield(sess, nil) {
					return
				}
			}
			if page.Next == nil {
				return
			}
			f.After = page.Next
		}
	}
}
