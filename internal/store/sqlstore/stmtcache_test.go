package sqlstore

import (
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
)

func TestStmtCache(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &stmtCache{db: db, limit: 2}
	ctx := t.Context()

	// Racing requests for one query share one statement.
	var wg sync.WaitGroup
	got := make([]*sql.Stmt, 8)
	for i := range got {
		wg.Go(func() {
			st, err := c.get(ctx, "SELECT 1")
			if err != nil {
				t.Errorf("get: %v", err)
			}
			got[i] = st
		})
	}
	wg.Wait()
	for i, st := range got {
		if st == nil || st != got[0] {
			t.Fatalf("statement %d is %p; want the one of the first, %p", i, st, got[0])
		}
	}
	if c.cached("SELECT 1") != got[0] || c.cached("SELECT 2") != nil {
		t.Error("cached does not tell the prepared query from another")
	}

	// Past the limit a query is to run unprepared; a bad one is an error.
	if st, err := c.get(ctx, "SELECT 2"); st == nil || err != nil {
		t.Errorf("second query: %v, %v; want a statement", st, err)
	}
	if st, err := c.get(ctx, "SELECT 3"); st != nil || err != nil {
		t.Errorf("a query past the limit: %v, %v; want neither statement nor error", st,
			err)
	}
	c.limit = 3
	if _, err := c.get(ctx, "SELEC 4"); err == nil {
		t.Error("a malformed query prepared without error")
	}

	if err := c.close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := got[0].QueryContext(ctx); err == nil {
		t.Error("a statement still works after close")
	}
}
