package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/agentnames"
	"github.com/masker-dev/sessions/internal/sharedread"
)

// Store is a [sessions.Store], [sessions.Purger], [sessions.Tailer], [sessions.Summarizer] and
// [sessions.Scanner] on PostgreSQL. It is safe for concurrent use by multiple goroutines.
type Store struct {
	pool  *pgxpool.Pool // reads and writes
	read  *pgxpool.Pool // the reads of sessions: pool, or the pool of WithReadPool
	owned bool          // Close closes pool (Open made it)

	// listMode runs the statements of ListSessions on read, purgeMode those of PurgeSessions on
	// pool: see listMode and customPlans.
	listMode, purgeMode pgx.QueryExecMode
	customListPlans     bool // WithCustomPlans

	purgeBatch int
	noMigrate  bool // WithoutMigrate

	// The most times an operation runs on each pool: once more than the connections that a
	// failover may have left dead in it.
	attempts, readAttempts int

	tailPoll time.Duration // how often a waiting tail reads without a notification
	system   string        // the server's system_identifier, in the tail's positions ("" when not readable)
	// withoutFeedLocks leaves out the accounts' locks of PutSessions (lockAccountsSQL): only for
	// the store without the feed of BenchmarkIngestFeedCost, whose tails would miss rows.
	withoutFeedLocks bool
	listenMu         sync.Mutex
	listen           *listener // started by the first Tail, stopped by Close
	listenClosed     bool      // set by Close: no listener starts again
	// The tails' reads of the feed, shared by the tails of an account. Its changes are the
	// listener's wake-ups and this store's purges and agent puts.
	reads sharedread.Reads[feedKey, feedRead]
	// The agent names that account-wide pages have met, by version (names.go).
	names agentnames.Kept
}

// retry runs the idempotent op on pool (s.pool or s.read) with retry.
func (s *Store) retry(ctx context.Context, pool *pgxpool.Pool, op func() error) error {
	if pool == s.read {
		return retry(ctx, s.readAttempts, op)
	}
	return retry(ctx, s.attempts, op)
}

var (
	_ sessions.Store           = (*Store)(nil)
	_ sessions.Purger          = (*Store)(nil)
	_ sessions.Tailer          = (*Store)(nil)
	_ sessions.PositionChecker = (*Store)(nil)
)

// Option configures a store made by [Open] or [New].
type Option func(*Store)

// WithReadPool sends the reads of sessions (ListSessions, GetSession, SummarizeSessions and
// ScanSessions, and so the exports of httpapi) to pool, typically connected to a streaming
// replica of the primary, and keeps the other methods on the primary: migrations, PutAgent,
// GetAgent, PutSessions, PurgeSessions, and the live tail (TailPosition, Tail), whose watermark
// reads the primary's locks. The store runs no migration on pool and never closes it.
//
// The trade-off is replication lag. A session that PutSessions has just written, or the new name
// of an agent, appears on the replica only when the replica has replayed it, usually within
// milliseconds and sometimes far later (a long query on the replica, a network partition). A list
// read from the replica is consistent with itself, and cursors stay valid across replicas, since
// a cursor holds a position, not a row. But a walk through pages may miss a session that was
// written on the primary before the walk began and reached the replica after the walk had passed
// its position; and if pool spreads its connections over several replicas, consecutive pages can
// come from replicas that lag differently. Applications that need read-your-writes should keep
// these reads on the primary (no WithReadPool), or route only the traffic that tolerates lag,
// such as audit dashboards, to a store with a read pool; an export that must hold every session
// written before it began reads from the primary too.
func WithReadPool(pool *pgxpool.Pool) Option {
	return func(s *Store) { s.read = pool }
}

// WithoutMigrate makes [Open] and [New] leave the schema to the application (its schema tool
// applies the files of [Migrations], or it calls [Migrate]): they only read the schema's
// version, in a read-only transaction, and refuse a schema that is behind with
// [ErrSchemaTooOld], and one that is ahead with [ErrSchemaTooNew]. The application role then
// needs no right to create anything.
func WithoutMigrate() Option {
	return func(s *Store) { s.noMigrate = true }
}

// DefaultStatementTimeout is the statement_timeout that Open sets on its connections when
// connString sets none: below httpapi.DefaultTimeout (10 s), so that the server ends a
// statement whose request was abandoned, and its connection goes back to the pool, before the
// handler gives up on it, even when a cancel request is lost on the way (as through some
// poolers). Migrations lift it for their own transaction.
const DefaultStatementTimeout = 8 * time.Second

// DefaultMaxConns is the least pool size of Open when connString sets no pool_max_conns (it
// takes pgxpool's own default, the larger of 4 and the number of CPUs, when that is larger):
// twice httpapi.DefaultMaxAccountCalls, so that one account's slow requests hold at most half of
// the connections.
const DefaultMaxConns = 8

// Open connects to the PostgreSQL server of connString (a URL or key=value string, as
// [pgxpool.ParseConfig] reads it), creates or migrates the schema in the connection's current
// schema (unless [WithoutMigrate]), and returns a store that owns its pool: Close closes it.
// Unless connString sets them (statement_timeout as a parameter, or with -c in options or
// PGOPTIONS), the pool has at least DefaultMaxConns connections and each runs with a
// statement_timeout of DefaultStatementTimeout. A store made by [New] keeps the settings
// of its pool: set statement_timeout there (RuntimeParams of its ConnConfig) below the
// handler's timeout.
//
// It returns an error matching [sessions.ErrUnavailable] when the server cannot be reached or
// ctx's deadline passes, one matching [context.Canceled] when ctx is cancelled, and
// [ErrSchemaTooNew] when the schema was made by a newer version of this package; with
// WithoutMigrate, [ErrSchemaTooOld] when the schema is behind.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(connString, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, DefaultMaxConns)
	}
	params := cfg.ConnConfig.RuntimeParams
	// Set as a parameter, or in options (or PGOPTIONS), which a parameter would override.
	if _, ok := params["statement_timeout"]; !ok && !setInOptions(params["options"], "statement_timeout") {
		params["statement_timeout"] = strconv.FormatInt(DefaultStatementTimeout.Milliseconds(), 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", mapError(ctx, err))
	}
	s, err := New(ctx, pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// New returns a store on pool, an application's existing pool, after creating or migrating the
// schema in the pool connections' current schema (unless [WithoutMigrate]). Close leaves pool
// open.
//
// It returns the errors of [Open].
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	s := &Store{pool: pool, read: pool, purgeBatch: defaultPurgeBatch, tailPoll: defaultTailPoll}
	for _, opt := range opts {
		opt(s)
	}
	s.attempts = int(s.pool.Config().MaxConns) + 1
	s.readAttempts = int(s.read.Config().MaxConns) + 1
	s.listMode, s.purgeMode = listMode(s.read, s.customListPlans), customPlans(s.pool)
	prepare := Migrate
	if s.noMigrate {
		prepare = checkVersion
	}
	if err := prepare(ctx, pool); err != nil {
		return nil, err
	}
	// The cluster's identity, for the tail's positions (feedPosition). A server that does not
	// let the role read it (pg_control_system) gives none: positions are then not checked
	// against another cluster's, only against this one's transactions.
	// A bigint: the identifier's first 32 bits are the seconds of the cluster's creation, so it is
	// negative for clusters created from 2038 on. Positions write it unsigned.
	var system int64
	if err := pool.QueryRow(ctx, "SELECT system_identifier FROM pg_control_system()").Scan(&system); err == nil {
		s.system = strconv.FormatUint(uint64(system), 10)
	}
	return s, nil
}

// setInOptions reports whether the command-line options of a connection (the options parameter,
// or PGOPTIONS) set the server setting name, as the server reads them: "-c name=value",
// "-cname=value" or "--name=value", with the name in any case and dashes for underscores.
func setInOptions(options, name string) bool {
	fields := strings.Fields(options)
	for i, f := range fields {
		var setting string
		switch {
		case f == "-c" && i+1 < len(fields):
			setting = fields[i+1]
		case strings.HasPrefix(f, "-c"):
			setting = f[2:]
		case strings.HasPrefix(f, "--"):
			setting = f[2:]
		default:
			continue
		}
		key, _, _ := strings.Cut(setting, "=")
		if strings.ReplaceAll(strings.ToLower(key), "-", "_") == name {
			return true
		}
	}
	return false
}

// WithCustomPlans makes ListSessions plan each call with its values (unnamed statements, in
// one round trip with pgx's description cache), instead of running prepared statements. It
// costs about 0.1–0.3 ms of server time per page (BENCHMARKS.md); use it when a generic plan
// misbehaves on your data, or when prepared statements cannot be used and the pool's
// DefaultQueryExecMode does not already say so.
func WithCustomPlans() Option {
	return func(s *Store) { s.customListPlans = true }
}

// listMode returns the mode of ListSessions' statements on pool: prepared statements (pgx's
// default, QueryExecModeCacheStatement) when the pool uses them, which saves the planning of
// each page; otherwise, or with WithCustomPlans, customPlans. A pool configured for another
// mode (QueryExecModeExec or the simple protocol, for PgBouncer before 1.21 in transaction
// mode) keeps it.
//
// After five runs, the server may switch a prepared statement to its generic plan, which knows
// none of the values (not the time window, not the filter). TestExplain checks the generic plan
// of every shape of the list query: each is the index seek of its scope in list order, with no
// sort. (One shape needed care: see where.bounds.)
func listMode(pool *pgxpool.Pool, custom bool) pgx.QueryExecMode {
	cfg := pool.Config().ConnConfig
	if custom || cfg.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement && cfg.StatementCacheCapacity == 0 {
		return customPlans(pool)
	}
	return cfg.DefaultQueryExecMode
}

// customPlans returns the mode that runs a statement on pool as an unnamed statement, planned by
// the server with its values, in one round trip when the pool caches statement descriptions.
// PurgeSessions uses it: its batch's plan depends on how old the purged sessions are.
func customPlans(pool *pgxpool.Pool) pgx.QueryExecMode {
	if pool.Config().ConnConfig.DescriptionCacheCapacity > 0 {
		return pgx.QueryExecModeCacheDescribe
	}
	return pgx.QueryExecModeDescribeExec
}

// Close releases the store. It closes the listening connection of its tails and the pool that
// Open made, and leaves open the pools given to New and WithReadPool. It returns nil. The store
// must not be used afterwards.
func (s *Store) Close() error {
	s.listenMu.Lock()
	s.listenClosed = true
	if s.listen != nil {
		s.listen.stop()
		s.listen = nil
	}
	s.listenMu.Unlock()
	if s.owned {
		s.pool.Close()
	}
	return nil
}
