package sqlstore_test

import (
	"errors"
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
		const interval, slack = 1000, 2000 // a burst of 3
		take := func(key string, nowMS int64, want bool) {
			t.Helper()
			got, err := s.TakeRateBucket(ctx, key, interval, slack, nowMS)
			if err != nil || got != want {
				t.Fatalf("TakeRateBucket(%s, %d) = %v, %v; want %v", key, nowMS, got, err,
					want)
			}
		}

		wantFullAt(t, s, "a", 0)

		// Takes in a row push the time one interval each, from now, until the burst is
		// spent; a refused take changes nothing.
		take("a", nowMS, true)
		wantFullAt(t, s, "a", nowMS+interval)
		take("a", nowMS+10, true)
		take("a", nowMS+10, true)
		wantFullAt(t, s, "a", nowMS+3*interval)
		take("a", nowMS+10, false)
		wantFullAt(t, s, "a", nowMS+3*interval)

		// A refund gives one back.
		if err := s.RefundRateBucket(ctx, "a", interval); err != nil {
			t.Fatalf("RefundRateBucket: %v", err)
		}
		take("a", nowMS+10, true)

		// A bucket full again starts from the time of the take, not from the past.
		take("a", nowMS+10*interval, true)
		wantFullAt(t, s, "a", nowMS+11*interval)
		wantFullAt(t, s, "b", 0)

		// Racing takes get no more than the burst.
		errs := race(func(int) error {
			ok, err := s.TakeRateBucket(ctx, "c", interval, slack, nowMS)
			if err == nil && !ok {
				return errRefused
			}
			return err
		})
		wantTaken(t, errs, 3)
		wantFullAt(t, s, "c", nowMS+3*interval)

		// Only buckets full by then are swept.
		n, err := s.DeleteFullRateBuckets(ctx, nowMS+11*interval)
		if err != nil {
			t.Fatalf("DeleteFullRateBuckets: %v", err)
		}
		if n != 2 {
			t.Errorf("DeleteFullRateBuckets removed %d buckets; want 2 (a and c)", n)
		}
		wantFullAt(t, s, "a", 0)
	})
}

// errRefused marks a take that found no room.
var errRefused = errors.New("refused")

// wantTaken fails the test unless exactly n racers took an event and the others were
// refused.
func wantTaken(t *testing.T, errs []error, n int) {
	t.Helper()

	taken := 0
	for i, err := range errs {
		switch {
		case err == nil:
			taken++
		case !errors.Is(err, errRefused):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if taken != n {
		t.Errorf("%d racers took an event; want %d", taken, n)
	}
}
