package sqlstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// racers is how many goroutines each race in this file starts.
const racers = 10

// race runs fn in racers goroutines that start together and returns their errors.
func race(fn func(i int) error) []error {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, racers)
	)
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}

	close(start)
	wg.Wait()
	return errs
}

// wantOneWinner fails the test unless exactly one of errs is nil and every other
// wraps loser.
func wantOneWinner(t *testing.T, errs []error, loser error) {
	t.Helper()

	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, loser):
			t.Errorf("racer %d: error %v; want nil or one wrapping %v", i, err, loser)
		}
	}
	if won != 1 {
		t.Errorf("%d racers succeeded; want exactly 1 (errors: %v)", won, errs)
	}
}

func TestConcurrentCreateAccount(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()

		errs := race(func(i int) error {
			a := newAccount("alice")
			a.PasswordHash = fmt.Sprintf("hash-%d", i)
			return s.CreateAccount(ctx, a)
		})
		wantOneWinner(t, errs, store.ErrConflict)

		// The stored account is the winner's.
		a, err := s.AccountByLocalpart(ctx, "alice")
		if err != nil {
			t.Fatalf("AccountByLocalpart: %v", err)
		}
		for i, err := range errs {
			if err == nil && a.PasswordHash != fmt.Sprintf("hash-%d", i) {
				t.Errorf("stored hash %q; want the winner's, hash-%d", a.PasswordHash, i)
			}
		}
		if n, err := s.CountAccounts(ctx); err != nil || n != 1 {
			t.Errorf("CountAccounts = %d, %v; want 1, nil", n, err)
		}
	})
}

func TestConcurrentReserveLastUse(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		spec tokenSpec
	}{
		{"one use, unused", tokenSpec{uses: ptr[int64](1)}},
		{"five uses, four taken", tokenSpec{uses: ptr[int64](5), pending: 2, completed: 2}},
		{"expiring, one use left", tokenSpec{uses: ptr[int64](2), completed: 1,
			expiry: ptr(nowMS + 1)}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
				tt.spec.setUp(t, s, "tok")

				errs := race(func(int) error {
					return s.ReserveRegistrationToken(t.Context(), "tok", nowMS)
				})
				wantOneWinner(t, errs, store.ErrExhausted)

				wantUses(t, s, "tok", int64(tt.spec.pending+1), int64(tt.spec.completed))
			})
		})
	}
}

func TestConcurrentConsumeUIASession(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		if err := s.CreateUIASession(t.Context(), newSession("s1", nowMS+1)); err != nil {
			t.Fatalf("CreateUIASession: %v", err)
		}

		errs := race(func(int) error { return s.ConsumeUIASession(t.Context(), "s1") })
		wantOneWinner(t, errs, store.ErrConflict)
	})
}

func TestConcurrentDeleteExpiredUIASessions(t *testing.T) {
	t.Parallel()

	const sessions = 20

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		createToken(t, s, "tok", nil, nil)
		for i := range sessions {
			u := newSession(fmt.Sprintf("s%d", i), nowMS-1)
			u.RegistrationToken = "tok"
			if err := s.CreateUIASession(ctx, u); err != nil {
				t.Fatalf("CreateUIASession: %v", err)
			}
			if err := s.ReserveRegistrationToken(ctx, "tok", nowMS); err != nil {
				t.Fatalf("ReserveRegistrationToken: %v", err)
			}
		}
		// One more reservation that belongs to no expired session must survive.
		if err := s.ReserveRegistrationToken(ctx, "tok", nowMS); err != nil {
			t.Fatalf("ReserveRegistrationToken: %v", err)
		}

		var (
			mu    sync.Mutex
			total int
		)
		errs := race(func(int) error {
			n, err := s.DeleteExpiredUIASessions(ctx, nowMS)
			mu.Lock()
			total += n
			mu.Unlock()
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("racer %d: DeleteExpiredUIASessions: %v", i, err)
			}
		}

		// Every session was removed once and its reservation given back once.
		if total != sessions {
			t.Errorf("racers removed %d sessions in all; want %d", total, sessions)
		}
		wantUses(t, s, "tok", 1, 0)
	})
}
