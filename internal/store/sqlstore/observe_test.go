package sqlstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// TestObserveQueryAndPoolStats checks that a store opened with an observer reports
// statements run alone and in transactions, and that it describes its pools.
func TestObserveQueryAndPoolStats(t *testing.T) {
	t.Parallel()

	storetest.RunOptions(t, func(t *testing.T, opts sqlstore.Options) {
		var (
			mu  sync.Mutex
			ops = map[string]int{}
		)
		opts.ObserveQuery = func(op string, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			ops[op]++
		}
		s := storetest.Open(t, opts)
		ctx := t.Context()

		mu.Lock()
		clear(ops) // the migrations ran on their own connection; start afresh
		mu.Unlock()
		createAccount(t, s, "alice")
		if _, err := s.AccountByLocalpart(ctx, "alice"); err != nil {
			t.Fatalf("AccountByLocalpart: %v", err)
		}
		err := s.Transact(ctx, func(tx store.Store) error {
			_, _, err := tx.ListAccounts(ctx, store.AccountFilter{})
			return err
		})
		if err != nil {
			t.Fatalf("ListAccounts in a transaction: %v", err)
		}
		if s.Dialect() == "" {
			t.Fatal("an observed store names no dialect")
		}

		mu.Lock()
		defer mu.Unlock()
		// One insert; one read alone and a count and a list in the transaction.
		if ops["exec"] != 1 || ops["query"] != 3 {
			t.Errorf("observed %v; want 1 exec and 3 queries", ops)
		}

		stats := s.PoolStats()
		if len(stats) == 0 {
			t.Fatal("PoolStats is empty")
		}
		for _, p := range stats {
			if p.Pool == "" || p.MaxOpen < 1 || p.InUse < 0 || p.Open < p.InUse {
				t.Errorf("pool stats %+v", p)
			}
		}
	})
}
