package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxid"
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
			CreatedMS: nowMS, AppServiceID: "bridge"}},
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

func TestAccountFlags(t *testing.T) {
	t.Parallel()

	// No store method sets these flags yet, so the tests set them directly.
	tests := []struct {
		column string
		set    func(a *store.Account)
	}{
		{"deactivated", func(a *store.Account) { a.Deactivated = true }},
		{"locked", func(a *store.Account) { a.Locked = true }},
		{"suspended", func(a *store.Account) { a.Suspended = true }},
		{"admin", func(a *store.Account) { a.Admin = true }},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()

		for _, tt := range tests {
			want := createAccount(t, s, tt.column)
			createDevice(t, s, want.UserID, "D", "token-"+tt.column)
			n, err := s.RawExec(ctx, `UPDATE accounts SET `+tt.column+` = TRUE
				WHERE localpart = ?`, tt.column)
			if err != nil || n != 1 {
				t.Fatalf("set %s: %d rows, %v", tt.column, n, err)
			}
			tt.set(want)

			got, err := s.AccountByLocalpart(ctx, tt.column)
			if err != nil {
				t.Fatalf("AccountByLocalpart(%s): %v", tt.column, err)
			}
			if *got != *want {
				t.Errorf("account with %s set: %+v; want %+v", tt.column, *got, *want)
			}

			r, err := s.RequesterByToken(ctx, []byte("token-"+tt.column))
			if err != nil {
				t.Fatalf("RequesterByToken(%s): %v", tt.column, err)
			}
			if r.Account != *want {
				t.Errorf("requester with %s set: %+v; want %+v", tt.column, r.Account, *want)
			}

			// Even a deactivated account keeps its localpart.
			if taken, err := s.LocalpartTaken(ctx, tt.column); err != nil || !taken {
				t.Errorf("LocalpartTaken(%s) = %v, %v; want true, nil", tt.column, taken, err)
			}
		}
	})
}

func TestDeactivate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		erase bool
	}{
		{"keep data", false},
		{"erase", true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
				ctx := t.Context()
				alice := createAccount(t, s, "alice")
				bob := createAccount(t, s, "bob")

				for i := range 2 {
					// Deactivating twice is no error and changes nothing more.
					if err := s.Deactivate(ctx, alice.UserID, tt.erase); err != nil {
						t.Fatalf("Deactivate #%d: %v", i+1, err)
					}
				}

				want := *alice
				want.Deactivated, want.PasswordHash = true, ""
				got, err := s.AccountByLocalpart(ctx, "alice")
				if err != nil {
					t.Fatalf("AccountByLocalpart: %v", err)
				}
				if *got != want {
					t.Errorf("deactivated account: %+v; want %+v", *got, want)
				}

				var erased bool
				err = s.RawQueryRow(ctx, `SELECT erased FROM accounts WHERE localpart = ?`,
					"alice").Scan(&erased)
				if err != nil || erased != tt.erase {
					t.Errorf("erased = %v, %v; want %v", erased, err, tt.erase)
				}

				// The localpart stays reserved, and other accounts are untouched.
				if taken, err := s.LocalpartTaken(ctx, "alice"); err != nil || !taken {
					t.Errorf("LocalpartTaken = %v, %v; want true, nil", taken, err)
				}
				if n, err := s.CountAccounts(ctx); err != nil || n != 2 {
					t.Errorf("CountAccounts = %d, %v; want 2, nil", n, err)
				}
				if got, err := s.AccountByLocalpart(ctx, "bob"); err != nil || *got != *bob {
					t.Errorf("bob is now %+v, %v; want %+v", got, err, *bob)
				}

				// An erasure stays when the account is deactivated again without one.
				if err := s.Deactivate(ctx, alice.UserID, false); err != nil {
					t.Fatalf("Deactivate without erase: %v", err)
				}
				err = s.RawQueryRow(ctx, `SELECT erased FROM accounts WHERE localpart = ?`,
					"alice").Scan(&erased)
				if err != nil || erased != tt.erase {
					t.Errorf("erased after another deactivation = %v, %v; want %v", erased,
						err, tt.erase)
				}

				err = s.Deactivate(ctx, userID("nobody"), tt.erase)
				wantErr(t, "Deactivate(nobody)", err, store.ErrNotFound)
			})
		})
	}
}

func TestRecordTermsAcceptance(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice, bob := userID("alice"), userID("bob")

		for _, acc := range []struct {
			user            mxid.UserID
			policy, version string
			atMS            int64
		}{
			{alice, "privacy", "1.0", nowMS},
			{alice, "privacy", "2.0", nowMS + 10},
			{alice, "tos", "1.0", nowMS + 20},
			{bob, "privacy", "1.0", nowMS + 30},
			// Accepting the same version again is no error and keeps the first time.
			{alice, "privacy", "1.0", nowMS + 40},
		} {
			err := s.RecordTermsAcceptance(ctx, acc.user, acc.policy, acc.version, acc.atMS)
			if err != nil {
				t.Fatalf("RecordTermsAcceptance(%s, %s %s): %v", acc.user, acc.policy,
					acc.version, err)
			}
		}

		want := []string{
			string(alice) + " privacy 1.0 " + fmt.Sprint(nowMS),
			string(alice) + " privacy 2.0 " + fmt.Sprint(nowMS+10),
			string(alice) + " tos 1.0 " + fmt.Sprint(nowMS+20),
			string(bob) + " privacy 1.0 " + fmt.Sprint(nowMS+30),
		}
		var got []string
		query(t, s, `SELECT user_id, policy, version, accepted_ms FROM terms_acceptances
			ORDER BY user_id, policy, version`, nil, func(r sqlstore.Rows) error {
			var (
				user, policy, version string
				atMS                  int64
			)
			err := r.Scan(&user, &policy, &version, &atMS)
			got = append(got, fmt.Sprintf("%s %s %s %d", user, policy, version, atMS))
			return err
		})
		if !slices.Equal(got, want) {
			t.Errorf("terms_acceptances:\n%q\nwant\n%q", got, want)
		}
	})
}

func TestUpgradeGuest(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		createAccount(t, s, "alice")
		for _, lp := range []string{"1234", "5678", "9012"} {
			g := newAccount(lp)
			g.Kind, g.PasswordHash = store.KindGuest, ""
			if err := s.CreateAccount(ctx, g); err != nil {
				t.Fatalf("CreateAccount(%s): %v", lp, err)
			}
		}
		if err := s.Deactivate(ctx, userID("5678"), false); err != nil {
			t.Fatalf("Deactivate(5678): %v", err)
		}
		locked := true
		if err := s.UpdateAccount(ctx, userID("9012"),
			store.AccountUpdate{Locked: &locked}); err != nil {
			t.Fatalf("lock 9012: %v", err)
		}

		if err := s.UpgradeGuest(ctx, userID("1234"), "$new"); err != nil {
			t.Fatalf("UpgradeGuest(1234): %v", err)
		}
		got, err := s.AccountByLocalpart(ctx, "1234")
		if err != nil {
			t.Fatalf("AccountByLocalpart(1234): %v", err)
		}
		if got.Kind != store.KindUser || got.PasswordHash != "$new" {
			t.Errorf("upgraded guest is kind %q with hash %q; want user with $new",
				got.Kind, got.PasswordHash)
		}

		// Only a live guest account is upgraded, and only once.
		for _, lp := range []string{"1234", "alice", "5678", "9012", "nobody"} {
			err := s.UpgradeGuest(ctx, userID(lp), "$other")
			wantErr(t, "UpgradeGuest("+lp+")", err, store.ErrNotFound)
		}
	})
}
