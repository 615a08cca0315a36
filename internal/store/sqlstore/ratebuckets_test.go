package sqlstore_test

import (
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// wantFullAt fails the test unless key's bucket is full again at want.
func wantFullAt(t *testing.T, s *sqlstore.Store, key string, want int64) {
	t.Helper()

	got, err := s.RateBucketFullAt(t.Context(), key)
	if err != nil {
		t.Fatalf("RateBucketFullAt(%s): %v", key, err)
	}
	if got != want {
		t.Errorf("bucket %s is full at %d; want %d", key, got, want)
	}
}

func TestRateBuckets(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		const interval = 1000
		spend := func(key string, nowMS int64) {
			t.Helper()
			if err := s.SpendRateBucket(ctx, key, interval, nowMS); err != nil {
				t.Fatalf("SpendRateBucket(%s, %d): %v", key, nowMS, err)
			}
		}

		wantFullAt(t, s, "a", 0)

		// Spends in a row push the time one interval each, from now.
		spend("a", nowMS)
		wantFullAt(t, s, "a", nowMS+interval)
		spend("a", nowMS+10)
		wantFullAt(t, s, "a", nowMS+2*interval)

		// A bucket full again starts from the time of the spend, not from the past.
		spend("a", nowMS+5*interval)
		wantFullAt(t, s, "a", nowMS+6*interval)
		wantFullAt(t, s, "b", 0)

		// Racing spends all count.
		errs := race(func(int) error { return s.SpendRateBucket(ctx, "c", interval, nowMS) })
		for i, err := range errs {
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
		}
		wantFullAt(t, s, "c", nowMS+racers*interval)

		// Only buckets full by then are swept.
		n, err := s.DeleteFullRateBuckets(ctx, nowMS+6*interval)
		if err != nil {
			t.Fatalf("DeleteFullRateBuckets: %v", err)
		}
		if n != 1 {
			t.Errorf("DeleteFullRateBuckets removed %d buckets; want 1 (a)", n)
		}
		wantFullAt(t, s, "a", 0)
		wantFullAt(t, s, "c", nowMS+racers*interval)
	})
}
