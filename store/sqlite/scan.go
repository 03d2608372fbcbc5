package sqlite

import (
	"context"
	"strings"

	"github.com/masker-dev/sessions"
)

var _ sessions.Scanner = (*Store)(nil)

// scanQuery returns the query of one batch of a scan of f, which must be valid and normalized,
// and its arguments: up to f.Limit+1 sessions from f's position, in list order, with the version
// of the account's names. It is listQuery with the filters from the list index's entries, from
// the same fixed fragments: the same index, named with INDEXED BY, and the same seek. (A scan
// reads the whole window anyway: it has no use for the groups of a rare filter.)
func scanQuery(f sessions.Filter) (string, []any) {
	var q strings.Builder
	q.WriteString(listSelect)
	args := append([]any{f.AccountID}, appendKeyset(&q, f)...) // ?1 of namesVersion, then the scope's
	if f.Status != "" {
		q.WriteString(listStatus)
		args = append(args, string(f.Status))
	}
	if f.MinRedactions > 0 {
		q.WriteString(listMinRed)
		args = append(args, f.MinRedactions)
	}
	q.WriteString(listOrder)
	args = append(args, f.Limit+1)
	return q.String(), args
}

// ScanSessions calls fn with every session that f selects, in list order, as
// [sessions.Scanner] documents. It reads batches of [sessions.ScanBatch] sessions from the
// read pool, each one keyset query (its own read transaction, which ends with the batch, so
// that a slow reader of the scan never holds back the WAL's checkpoints), with the version of
// the account's agents' names: a batch takes the names that the store keeps at that version
// (agentnames.Kept, as pages do), or reads those of its distinct agents. When the list read
// each row's name with a correlated subquery (two B-tree seeks per row), that subquery was 30
// to 45% of a batch's time on the 100,000 sessions of the benchmark data set, and looking the
// names up for every batch, for its distinct agents, still 25 to 35%. It is safe for
// concurrent use.
func (s *Store) ScanSessions(ctx context.Context, f sessions.Filter, fn func(sessions.Session) error) error {
	return sessions.ScanBatches(ctx, f, sessions.ScanBatch, s.scanBatch, fn)
}

// scanBatch reads the sessions of one batch of a scan of f, which is valid and normalized: up to
// f.Limit+1, with their agents' names.
func (s *Store) scanBatch(ctx context.Context, f sessions.Filter) ([]sessions.Session, error) {
	query, args := scanQuery(f)
	ss, version, err := s.readSessions(ctx, nil, f, query, args...)
	if err != nil {
		return nil, err
	}
	return ss, s.names.Name(ctx, f.AccountID, version, ss, s.agentNames)
}
