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

// TestSharedBurstAndRefill takes a Shared limiter's burst on a real store, checks the
// wait it then asks for, that a refund gives an event back and that time refills it; a
// second limiter of the same store stands for another instance.
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
			if ok, _, err := l.Take(ctx, "alice"); !ok || err != nil {
				t.Fatalf("take %d: %v, %v; want room", i+1, ok, err)
			}
		}

		ok, wait, err := b.Take(ctx, "alice")
		if ok || err != nil || wait != 2*time.Second {
			t.Errorf("take after the burst: %v, %v, %v; want false with a wait of 2s",
				ok, wait, err)
		}
		if ok, _, _ := a.Take(ctx, "alice"); ok || rejected != 1 {
			t.Errorf("take on the first limiter: %v with %d rejections counted; want "+
				"false and 1", ok, rejected)
		}
		if ok, _, _ := a.Take(ctx, "bob"); !ok {
			t.Error("bob shares alice's bucket")
		}
		if ok, _, _ := other.Take(ctx, "alice"); !ok {
			t.Error("another limiter shares alice's bucket")
		}

		// A refused take took nothing: one refund makes room for one take.
		if err := b.Refund(ctx, "alice"); err != nil {
			t.Fatalf("refund: %v", err)
		}
		if ok, _, _ := a.Take(ctx, "alice"); !ok {
			t.Error("no room after a refund")
		}
		if ok, _, _ := a.Take(ctx, "alice"); ok {
			t.Error("room for two after one refund")
		}

		now = now.Add(2 * time.Second)
		if ok, _, _ := b.Take(ctx, "alice"); !ok {
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
			if ok, _, err := l.Take(t.Context(), "k"); !ok || err != nil {
				t.Errorf("take: %v, %v; want room", ok, err)
			}
		}
		if err := l.Refund(t.Context(), "k"); err != nil {
			t.Errorf("refund: %v", err)
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
