package ratelimit

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TestSharedBurstAndRefill spends a Shared limiter's burst on a real store, checks the
// wait it then asks for, and that time refills it; a second limiter of the same store
// stands for another instance.
func TestSharedBurstAndRefill(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		now := time.Unix(1_000_000, 0)
		clock := func() time.Time { return now }
		a := NewShared("guesses", 0.5, 3, true, s) // one event per 2 s, burst 3
		b := NewShared("guesses", 0.5, 3, true, s)
		other := NewShared("another limit", 0.5, 3, true, s)
		a.now, b.now, other.now = clock, clock, clock
		rejected := 0
		a.OnReject(func() { rejected++ })

		for i, l := range []*Shared{a, b, a} {
			if ok, _, err := l.Check(ctx, "alice"); !ok || err != nil {
				t.Fatalf("check before failure %d: %v, %v; want room", i+1, ok, err)
			}
			if err := l.Spend(ctx, "alice"); err != nil {
				t.Fatalf("spend %d: %v", i+1, err)
			}
		}

		ok, wait, err := b.Check(ctx, "alice")
		if ok || err != nil || wait != 2*time.Second {
			t.Errorf("check after the burst: %v, %v, %v; want false with a wait of 2s",
				ok, wait, err)
		}
		if ok, _, _ := a.Check(ctx, "alice"); ok || rejected != 1 {
			t.Errorf("check on the first limiter: %v with %d rejections counted; want "+
				"false and 1", ok, rejected)
		}
		if ok, _, _ := a.Check(ctx, "bob"); !ok {
			t.Error("bob shares alice's bucket")
		}
		if ok, _, _ := other.Check(ctx, "alice"); !ok {
			t.Error("another limiter shares alice's bucket")
		}

		now = now.Add(2 * time.Second)
		if ok, _, _ := b.Check(ctx, "alice"); !ok {
			t.Error("no room one interval after the burst")
		}
	})
}

// TestSharedOff checks that a disabled or nil limiter allows everything and stores
// nothing.
func TestSharedOff(t *testing.T) {
	t.Parallel()

	var none *Shared
	off := NewShared("off", 1, 1, false, nil) // a nil store would panic if used
	for _, l := range []*Shared{none, off} {
		for range 3 {
			if err := l.Spend(t.Context(), "k"); err != nil {
				t.Fatalf("spend: %v", err)
			}
		}
		if ok, _, err := l.Check(t.Context(), "k"); !ok || err != nil {
			t.Errorf("check: %v, %v; want room", ok, err)
		}
	}
}

func TestExceeded(t *testing.T) {
	t.Parallel()

	for wait, wantMS := range map[time.Duration]int64{1500 * time.Millisecond: 1500, 0: 1} {
		e := Exceeded(wait)
		if !errors.Is(e, mxerr.ErrLimitExceeded) || e.Status != http.StatusTooManyRequests ||
			e.RetryAfterMS != wantMS {
			t.Errorf("Exceeded(%v) = %+v; want 429 M_LIMIT_EXCEEDED retrying after %d ms",
				wait, e, wantMS)
		}
	}
}
