package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache holds prepared statements of one pool, by their SQL: the read queries (the list
// builds its SQL from fixed fragments, so there are a few dozen of them at most), and the
// writes' statements. database/sql prepares a statement on each connection of the pool the first
// time that connection runs it, and the driver (modernc.org/sqlite since v1.41) keeps SQLite's
// statement handle: a page then skips the parsing and planning of its query (sqlite3_prepare),
// and a write the compiling of the triggers of the sessions table into its program.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// prepared returns the prepared statement of query on the read pool, preparing it on first use.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	return s.stmts.prepare(ctx, s.read, query)
}

// preparedIn returns the prepared statement of query on the read pool, as prepared does, or for
// tx when tx is not nil: the cached statement bound to the transaction, or one prepared on the
// transaction's own connection (both closed with it). A transaction never prepares through the
// pool, which would need a second connection while it holds one: with the pool's other
// connections busy, it would wait for its own.
func (s *Store) preparedIn(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if tx == nil {
		return s.prepared(ctx, query)
	}
	if stmt, ok := s.stmts.cached(query); ok {
		return tx.StmtContext(ctx, stmt), nil
	}
	return tx.PrepareContext(ctx, query)
}

// preparedWrite returns the prepared statement of query on the write pool, preparing it on first
// use.
func (s *Store) preparedWrite(ctx context.Context, query string) (*sql.Stmt, error) {
	return s.writeStmts.prepare(ctx, s.write, query)
}

// cached returns the statement of query, if it is prepared.
func (c *stmtCache) cached(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stmt, ok := c.stmts[query]
	return stmt, ok
}

// prepare returns the prepared statement of query on db, the pool of c, preparing it on first
// use.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	stmt, ok := c.stmts[query]
	c.mu.Unlock()
	if ok {
		return stmt, nil
	}
	stmt, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok { // prepared meanwhile by another call
		stmt.Close()
		return prev, nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = stmt
	return stmt, nil
}

// close closes the cached statements.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, stmt := range c.stmts {
		errs = append(errs, stmt.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}
