package sqlstore_test

import (
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

func TestCreateAccountRoundTrip(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		a    store.Account
	}{
		{"user", store.Account{Localpart: "alice", PasswordHash: "$2a$10$abc",
			Kind: store.KindUser, CreatedMS: nowMS}},
		{"admin without password", store.Account{Localpart: "root", Kind: store.KindUser,
			Admin: true, CreatedMS: nowMS + 1}},
		{"guest", store.Account{Localpart: "1234", Kind: store.KindGuest, CreatedMS: 1}},
		{"appservice", store.Account{Localpart: "_bridge_bot", Kind: store.KindAppService,
			CreatedMS: nowMS}},
		{"odd characters", store.Account{Localpart: "a.b_c=d-e/f+g", Kind: store.KindUser,
			CreatedMS: nowMS}},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()

		for _, tt := range tests {
			want := tt.a
			want.UserID = userID(want.Localpart)
			if err := s.CreateAccount(ctx, &want); err != nil {
				t.Fatalf("%s: CreateAccount: %v", tt.name, err)
			}

			got, err := s.AccountByLocalpart(ctx, want.Localpart)
			if err != nil {
				t.Fatalf("%s: AccountByLocalpart: %v", tt.name, err)
			}
			if *got != want {
				t.Errorf("%s: read back %+v; want %+v", tt.name, *got, want)
			}
		}

		n, err := s.CountAccounts(ctx)
		if err != nil {
			t.Fatalf("CountAccounts: %v", err)
		}
		if n != int64(len(tests)) {
			t.Errorf("CountAccounts = %d; want %d", n, len(tests))
		}
	})
}

func TestCreateAccountConflict(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		second store.Account
		want   error
	}{
		{"same localpart and user ID", *newAccount("alice"), store.ErrConflict},
		{"same localpart, other user ID", store.Account{UserID: "@alice:other.example",
			Localpart: "alice", Kind: store.KindUser}, store.ErrConflict},
		{"other localpart, same user ID", store.Account{UserID: userID("alice"),
			Localpart: "alice2", Kind: store.KindUser}, store.ErrConflict},
		{"other guest kind, same localpart", store.Account{UserID: userID("alice"),
			Localpart: "alice", Kind: store.KindGuest}, store.ErrConflict},
		{"another localpart", *newAccount("bob"), nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
				ctx := t.Context()
				first := createAccount(t, s, "alice")

				err := s.CreateAccount(ctx, &tt.second)
				wantErr(t, "second CreateAccount", err, tt.want)

				// A conflict leaves the first account as it was.
				got, err := s.AccountByLocalpart(ctx, "alice")
				if err != nil {
					t.Fatalf("AccountByLocalpart: %v", err)
				}
				if *got != *first {
					t.Errorf("first account is now %+v; want %+v", *got, *first)
				}
			})
		})
	}
}

func TestAccountNotFound(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		createAccount(t, s, "alice")

		_, err := s.AccountByLocalpart(ctx, "bob")
		wantErr(t, "AccountByLocalpart(bob)", err, store.ErrNotFound)

		// Localparts are compared exactly; the grammar keeps new ones lower case.
		_, err = s.AccountByLocalpart(ctx, "Alice")
		wantErr(t, "AccountByLocalpart(Alice)", err, store.ErrNotFound)

		err = s.SetPasswordHash(ctx, userID("bob"), "hash")
		wantErr(t, "SetPasswordHash(bob)", err, store.ErrNotFound)
	})
}

func TestLocalpartTaken(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		createAccount(t, s, "alice")

		for _, tt := range []struct {
			localpart string
			want      bool
		}{
			{"alice", true},
			{"bob", false},
			{"alic", false},
			{"", false},
		} {
			got, err := s.LocalpartTaken(ctx, tt.localpart)
			if err != nil {
				t.Fatalf("LocalpartTaken(%q): %v", tt.localpart, err)
			}
			if got != tt.want {
				t.Errorf("LocalpartTaken(%q) = %v; want %v", tt.localpart, got, tt.want)
			}
		}
	})
}

func TestCountAccounts(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()

		count := func(want int64) {
			t.Helper()
			n, err := s.CountAccounts(ctx)
			if err != nil {
				t.Fatalf("CountAccounts: %v", err)
			}
			if n != want {
				t.Fatalf("CountAccounts = %d; want %d", n, want)
			}
		}

		count(0)

		for i, kind := range []store.AccountKind{store.KindUser, store.KindGuest,
			store.KindAppService} {
			a := newAccount(string(kind))
			a.Kind = kind
			if err := s.CreateAccount(ctx, a); err != nil {
				t.Fatalf("CreateAccount(%s): %v", kind, err)
			}
			count(int64(i + 1))
		}

		// A failed insert counts nothing.
		_ = s.CreateAccount(ctx, newAccount("user"))
		count(3)
	})
}

func TestSetPasswordHash(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice := createAccount(t, s, "alice")
		bob := createAccount(t, s, "bob")

		for _, hash := range []string{"$argon2id$new", ""} {
			if err := s.SetPasswordHash(ctx, alice.UserID, hash); err != nil {
				t.Fatalf("SetPasswordHash(%q): %v", hash, err)
			}

			got, err := s.AccountByLocalpart(ctx, "alice")
			if err != nil {
				t.Fatalf("AccountByLocalpart: %v", err)
			}
			want := *alice
			want.PasswordHash = hash
			if *got != want {
				t.Errorf("after SetPasswordHash(%q): %+v; want %+v", hash, *got, want)
			}
		}

		// Only alice changed.
		got, err := s.AccountByLocalpart(ctx, "bob")
		if err != nil {
			t.Fatalf("AccountByLocalpart(bob): %v", err)
		}
		if *got != *bob {
			t.Errorf("bob is now %+v; want %+v", *got, *bob)
		}
	})
}
