package memory

import (
	"context"
	"math"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/rollup"
)

// SummarizeSessions folds the sessions that f selects into one sessions.Summary, as
// sessions.Summarizer documents. It reads them under the store's read lock, so the summary is
// of one state of the store, never a mix of before and after a concurrent PutSessions.
//
// It has no rollups: it reads the index of the agent (or of the account, when f has no agent)
// from Until down to Since, as a walk of the same filter would, and folds each matching record
// in place, without making a sessions.Session of it. It returns a *sessions.ValidationError for
// an invalid filter, and the errors of a cancelled context or a closed store. It is safe for
// concurrent use.
func (s *Store) SummarizeSessions(ctx context.Context, f sessions.Filter) (sessions.Summary, error) {
	f, err := sessions.SummaryFilter(f)
	if err != nil {
		return sessions.Summary{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return sessions.Summary{}, err
	}
	sum := sessions.NewSummary()
	x := s.indexOf(f)
	if x == nil {
		return sum, nil
	}
	start, since := bounds(f)
	keep := matcher(f)
	var byStatus [3]int64 // by status number
	var millis int64
	byKind := map[uint32]int64{} // interned kind -> count
	b, i := x.seek(start)
fold:
	for ; b < len(x.blocks); b, i = b+1, 0 {
		for _, r := range x.blocks[b][i:] {
			rec := s.records.at(r)
			if rec.started < since {
				break fold
			}
			if !keep(rec) {
				continue
			}
			byStatus[rec.status]++
			if d := rec.ended - rec.started; millis > math.MaxInt64-d {
				millis = math.MaxInt64 // past any time.Duration: rollup.Duration saturates it
			} else {
				millis += d
			}
			sum.RedactionCount += rec.count
			for _, kc := range s.kinds(r) {
				if kc.n != 0 {
					byKind[kc.kind] += int64(kc.n)
				}
			}
		}
	}
	for st, n := range byStatus {
		sum.ByStatus[statuses[st]] = n
		sum.Sessions += n
	}
	for kind, n := range byKind {
		sum.RedactionsByKind[s.names[kind]] = n
	}
	sum.Duration = rollup.Duration(millis)
	return sum, nil
}
