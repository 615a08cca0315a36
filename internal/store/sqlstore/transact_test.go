package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// errAbort is the error the transactions in these tests fail with.
var errAbort = errors.New("abort")

// writeAll writes through tx one record of every kind, some of them through methods
// that start transactions of their own, and checks that tx reads its own writes. It
// returns errors rather than failing the test, since a test that stops inside Transact
// leaves the transaction open.
func writeAll(t *testing.T, tx store.Store) error {
	t.Helper()

	ctx := t.Context()
	steps := []struct {
		name string
		run  func() error
	}{
		{"create account", func() error { return tx.CreateAccount(ctx, newAccount("alice")) }},
		{"set password", func() error {
			return tx.SetPasswordHash(ctx, userID("old"), "$new")
		}},
		{"create device", func() error {
			_, err := tx.EnsureDevice(ctx, &store.Device{UserID: userID("alice"),
				DeviceID: "PHONE", CreatedMS: nowMS})
			return err
		}},
		{"create access token", func() error {
			return tx.CreateAccessToken(ctx, &store.AccessToken{Digest: []byte("d"),
				UserID: userID("alice"), DeviceID: "PHONE", CreatedMS: nowMS})
		}},
		{"delete old device", func() error { return tx.DeleteDevice(ctx, userID("old"), "OLD") }},
		{"create UIA session", func() error {
			return tx.CreateUIASession(ctx, newSession("s1", nowMS+1))
		}},
		{"consume UIA session", func() error { return tx.ConsumeUIASession(ctx, "old") }},
		{"delete expired sessions", func() error {
			_, err := tx.DeleteExpiredUIASessions(ctx, nowMS)
			return err
		}},
		{"create token", func() error {
			return tx.CreateRegistrationToken(ctx, &store.RegistrationToken{Token: "new",
				CreatedMS: nowMS})
		}},
		{"reserve token", func() error { return tx.ReserveRegistrationToken(ctx, "tok", nowMS) }},
		{"complete token", func() error {
			return tx.CompleteRegistrationToken(ctx, "tok", userID("alice"), nowMS)
		}},
	}
	for _, step := range steps {
		if err := step.run(); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}

	// Inside the transaction, its writes are visible.
	if _, err := tx.AccountByLocalpart(ctx, "alice"); err != nil {
		return fmt.Errorf("read own account: %w", err)
	}
	if _, err := tx.RequesterByToken(ctx, []byte("d")); err != nil {
		return fmt.Errorf("read own token: %w", err)
	}
	if _, err := tx.UIASession(ctx, "s1"); err != nil {
		return fmt.Errorf("read own session: %w", err)
	}
	return nil
}

// seed stores what writeAll changes: an old account with a device, an expired UIA
// session and a token with one reservation from it.
func seed(t *testing.T, s *sqlstore.Store) {
	t.Helper()

	createAccount(t, s, "old")
	createDevice(t, s, userID("old"), "OLD", "old-token")
	createToken(t, s, "tok", ptr[int64](5), nil)
	if err := s.ReserveRegistrationToken(t.Context(), "tok", nowMS); err != nil {
		t.Fatalf("ReserveRegistrationToken: %v", err)
	}
	old := newSession("old", nowMS-1)
	old.RegistrationToken = "tok"
	if err := s.CreateUIASession(t.Context(), old); err != nil {
		t.Fatalf("CreateUIASession: %v", err)
	}
}

// wantSeedOnly fails the test unless the store holds what seed stored and nothing of
// what writeAll wrote.
func wantSeedOnly(t *testing.T, s *sqlstore.Store) {
	t.Helper()

	ctx := t.Context()
	if n, err := s.CountAccounts(ctx); err != nil || n != 1 {
		t.Errorf("CountAccounts = %d, %v; want 1, nil", n, err)
	}
	if a, err := s.AccountByLocalpart(ctx, "old"); err != nil || a.PasswordHash == "$new" {
		t.Errorf("old account: %+v, %v; want its first password", a, err)
	}
	if !tokenWorks(t, s, "old-token") || tokenWorks(t, s, "d") {
		t.Errorf("access tokens changed")
	}
	if _, ok := readDevice(t, s, userID("alice"), "PHONE"); ok {
		t.Errorf("the device written in the transaction exists")
	}
	if u, err := s.UIASession(ctx, "old"); err != nil || u.Consumed {
		t.Errorf("old session: %+v, %v; want it unconsumed", u, err)
	}
	if _, err := s.UIASession(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UIASession(s1) = %v; want ErrNotFound", err)
	}
	if _, err := s.RegistrationToken(ctx, "new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RegistrationToken(new) = %v; want ErrNotFound", err)
	}
	wantUses(t, s, "tok", 1, 0)
	wantTokenUses(t, s, "tok", map[string]int64{})
}

func TestTransactRollsBack(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		fn   func(t *testing.T, s *sqlstore.Store) error
	}{
		{"error after the writes", func(t *testing.T, s *sqlstore.Store) error {
			return s.Transact(t.Context(), func(tx store.Store) error {
				if err := writeAll(t, tx); err != nil {
					return fmt.Errorf("writeAll: %w", err)
				}
				return fmt.Errorf("give up: %w", errAbort)
			})
		}},
		{"error from a nested Transact", func(t *testing.T, s *sqlstore.Store) error {
			return s.Transact(t.Context(), func(tx store.Store) error {
				if err := writeAll(t, tx); err != nil {
					return fmt.Errorf("writeAll: %w", err)
				}
				return tx.Transact(t.Context(), func(inner store.Store) error {
					if err := inner.CreateAccount(t.Context(), newAccount("bob")); err != nil {
						return fmt.Errorf("create bob: %w", err)
					}
					return errAbort
				})
			})
		}},
		{"nested Transact commits, outer fails", func(t *testing.T, s *sqlstore.Store) error {
			return s.Transact(t.Context(), func(tx store.Store) error {
				err := tx.Transact(t.Context(), func(inner store.Store) error {
					return writeAll(t, inner)
				})
				if err != nil {
					return fmt.Errorf("inner Transact: %w", err)
				}
				return errAbort
			})
		}},
		{"a store error in the middle", func(t *testing.T, s *sqlstore.Store) error {
			return s.Transact(t.Context(), func(tx store.Store) error {
				if err := tx.CreateAccount(t.Context(), newAccount("alice")); err != nil {
					return fmt.Errorf("create account: %w", err)
				}
				if err := tx.ReserveRegistrationToken(t.Context(), "tok", nowMS); err != nil {
					return fmt.Errorf("reserve token: %w", err)
				}
				if _, err := tx.UIASession(t.Context(), "missing"); err != nil {
					return fmt.Errorf("%w: %w", errAbort, err)
				}
				return nil
			})
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
				seed(t, s)

				err := tt.fn(t, s)
				wantErr(t, "Transact", err, errAbort)

				wantSeedOnly(t, s)

				// The store still works after the rollback.
				createAccount(t, s, "after")
			})
		})
	}
}

func TestTransactCommits(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		seed(t, s)

		err := s.Transact(ctx, func(tx store.Store) error {
			return tx.Transact(ctx, func(inner store.Store) error { return writeAll(t, inner) })
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}

		if n, err := s.CountAccounts(ctx); err != nil || n != 2 {
			t.Errorf("CountAccounts = %d, %v; want 2, nil", n, err)
		}
		if a, err := s.AccountByLocalpart(ctx, "old"); err != nil || a.PasswordHash != "$new" {
			t.Errorf("old account: %+v, %v; want password $new", a, err)
		}
		if tokenWorks(t, s, "old-token") || !tokenWorks(t, s, "d") {
			t.Errorf("access tokens did not change as written")
		}
		if _, err := s.UIASession(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UIASession(old) = %v; want ErrNotFound, it had expired", err)
		}
		if _, err := s.UIASession(ctx, "s1"); err != nil {
			t.Errorf("UIASession(s1): %v", err)
		}
		if _, err := s.RegistrationToken(ctx, "new"); err != nil {
			t.Errorf("RegistrationToken(new): %v", err)
		}

		// The old session was consumed before it was deleted, so its reservation stayed
		// pending; the new reservation was completed.
		wantUses(t, s, "tok", 1, 1)
		wantTokenUses(t, s, "tok", map[string]int64{string(userID("alice")): nowMS})
	})
}

func TestTransactIsolation(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		// Reads outside the transaction must neither wait for it nor see its writes.
		count := func(want int64) {
			t.Helper()
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if n, err := s.CountAccounts(ctx); err != nil || n != want {
				t.Errorf("CountAccounts outside = %d, %v; want %d, nil", n, err, want)
			}
		}

		err := s.Transact(t.Context(), func(tx store.Store) error {
			if err := tx.CreateAccount(t.Context(), newAccount("alice")); err != nil {
				return fmt.Errorf("create account: %w", err)
			}
			count(0)
			return nil
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		count(1)
	})
}
