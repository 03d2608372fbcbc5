package postgres

import (
	"context"
	"fmt"

	"github.com/masker-dev/sessions"
)

var _ sessions.Scanner = (*Store)(nil)

// scanQuery returns the query of one batch of a scan of f, which must be valid and normalized,
// and its arguments: up to f.Limit+1 sessions after f's position, in list order, without their
// agents' names (scanBatch wraps it in listAccountNames). Like listQuery, it is put together only from fixed fragments with
// numbered placeholders.
//
// Without a status or min_redactions filter, a batch is an index scan of the list index from a
// seek, which reads its rows as it goes and stops after limit+1 entries, as listQuery's
// unfiltered page (scanDirect). It took half the server's time of the form below (pgbench,
// 10M sessions, batches of 1,001: 3.4 ms against 6.6-7.4 ms).
//
// With a filter, an index-only scan of the list index finds the batch's IDs, and the rows are
// then read by primary key in a LATERAL subquery that OFFSET 0 keeps from being flattened into
// a join (scanByID). That form makes the plan a nested loop of primary-key lookups whatever
// the batch and the statistics: with a plain join, the planner reads a batch of 1,000 of a
// 100,000-session table with a hash join over a sequential scan of the whole table (90 ms a
// batch measured, against 8 ms for this plan), which makes an export cost the square of its
// size. TestExplainScan checks both.
func scanQuery(f sessions.Filter) (string, []any) {
	w := newWhere(f)
	w.bounds(f)
	w.WriteString(w.filter(f))
	limit := w.arg(f.Limit + 1)
	if f.Status == "" && f.MinRedactions == 0 {
		return fmt.Sprintf(scanDirect, w.String(), limit), w.args
	}
	return fmt.Sprintf(scanByID, w.String(), limit), w.args
}

// The two shapes of scanQuery: the batch's rows straight from the index scan (scanDirect), as
// listQuery's unfiltered page; and, with a status or min_redactions filter, its IDs from an
// index-only scan, then its rows by ID (scanByID). Each takes the WHERE clause and the limit's
// placeholder.
const (
	scanDirect = `SELECT ` + listColumns + `
FROM sessions
WHERE %s
ORDER BY started_at DESC, id DESC
LIMIT $%d`
	scanByID = `SELECT s.id, s.account_id, s.agent_id, s.started_at, s.ended_at, s.status,
	s.redactions_by_kind, s.upstream_model
FROM (
	SELECT id, started_at FROM sessions
	WHERE %s
	ORDER BY started_at DESC, id DESC
	LIMIT $%d
) AS page
CROSS JOIN LATERAL (SELECT * FROM sessions WHERE sessions.id = page.id OFFSET 0) AS s
ORDER BY page.started_at DESC, page.id DESC`
)

// ScanSessions calls fn with every session that f selects, in list order, as
// [sessions.Scanner] documents. It reads batches of [sessions.ScanBatch] sessions (scanQuery),
// each one statement on a connection of the read pool (of WithReadPool, when there is one) that
// goes back to the pool with the batch: no transaction, and no snapshot that holds back vacuum,
// lasts as long as the scan, and a slow reader of the scan holds no connection while fn runs. A
// batch of 1,000 shares one round trip and one planning among its rows. Each batch reads the
// version of its account's agents' names, and takes the names that the store keeps at that
// version (agentnames.Kept, as account-wide pages do), or reads those of its distinct agents:
// rather than the list's subquery for every row, which on the benchmark data set was a third to
// a half of the server's time for a batch. It is safe for concurrent use.
func (s *Store) ScanSessions(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
	return sessions.ScanBatches(ctx, f, sessions.ScanBatch, s.scanBatch, fn)
}

// scanBatch reads the sessions of one batch of a scan of f, which is valid and normalized: up to
// f.Limit+1, with their agents' names.
func (s *Store) scanBatch(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	query, args := scanQuery(f)
	query = fmt.Sprintf(listAccountNames, query)
	var ss []sessions.Session
	err := s.retry(ctx, s.read, func() error {
		var err error
		var version int64
		if ss, version, err = s.readPage(ctx, f, query, args, false); err != nil {
			return err
		}
		return s.names.Name(ctx, f.AccountID, version, ss, s.agentNames)
	})
	return ss, err
}
