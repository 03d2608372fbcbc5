package memory

import (
	"context"

	"github.com/masker-dev/sessions"
)

var _ sessions.Scanner = (*Store)(nil)

// ScanSessions calls fn with every session that f selects, in list order, as
// [sessions.Scanner] documents. It reads batches of [sessions.ScanBatch] sessions, each under
// the read lock for the time of its binary search and its sessions, never while fn runs, so that
// writers wait at most one batch. It is safe for concurrent use.
func (s *Store) ScanSessions(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
	return sessions.ScanBatches(ctx, f, sessions.ScanBatch, s.list, fn)
}
