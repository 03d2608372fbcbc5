package postgres

import (
	"context"

	"github.com/masker-dev/sessions"
)

var _ sessions.Scanner = (*Store)(nil)

// ScanSessions calls fn with every session that f selects, in list order, as
// [sessions.Scanner] documents. It reads batches of [sessions.ScanBatch] sessions with the
// keyset query of ListSessions (listQuery), each one statement on a connection of the read pool
// that goes back to the pool with the batch: no transaction, and no snapshot that holds back
// vacuum, lasts as long as the scan, and a slow reader of the scan holds no connection while
// fn runs. A batch of 1,000 shares one round trip and one planning among its rows. It is safe
// for concurrent use.
func (s *Store) ScanSessions(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
	return sessions.ScanBatches(ctx, f, sessions.ScanBatch, s.list, fn)
}
