package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// maxCachedStmts bounds a stmtCache. The queries are the constants of this package and
// the shapes the admin filters build, far fewer than this; past it, queries run
// unprepared.
const maxCachedStmts = 1024

// stmtCache prepares each query once on a pool. database/sql prepares a statement
// again on each connection that runs it, and keeps it there.
type stmtCache struct {
	db *sql.DB
	// limit is how many statements it keeps; 0 means maxCachedStmts.
	limit int

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// cached returns the prepared statement of query if there is one, else nil.
func (c *stmtCache) cached(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// get returns the prepared statement of query, or nil (and no error) when the cache is
// full and query is to run unprepared.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	st, ok := c.stmts[query]
	c.mu.RUnlock()
	if ok {
		return st, nil
	}

	c.mu.RLock()
	full := len(c.stmts) >= cmp.Or(c.limit, maxCachedStmts)
	c.mu.RUnlock()
	if full {
		return nil, nil
	}

	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok {
		_ = st.Close() // prepared by another request meanwhile
		return prev, nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
}

// close closes every cached statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}
