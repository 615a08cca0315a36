package sqlstore_test

import (
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// seedAccounts stores one account of each shape ListAccounts filters on and returns
// their localparts: alice (user), bob (admin), carol (locked), dave (deactivated) and
// 0042 (guest). Each is created one millisecond after the one before.
func seedAccounts(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()

	for i, lp := range []string{"alice", "bob", "carol", "dave", "0042"} {
		a := newAccount(lp)
		a.CreatedMS = nowMS + int64(i)
		a.Admin = lp == "bob"
		if lp == "0042" {
			a.Kind = store.KindGuest
		}
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatalf("CreateAccount(%s): %v", lp, err)
		}
	}
	if err := s.UpdateAccount(ctx, userID("carol"), store.AccountUpdate{
		Locked: ptr(true)}); err != nil {
		t.Fatalf("lock carol: %v", err)
	}
	if err := s.Deactivate(ctx, userID("dave"), true); err != nil {
		t.Fatalf("deactivate dave: %v", err)
	}
}

// localparts returns the localparts of accounts, in order.
func localparts(accounts []store.AccountDetails) []string {
	var out []string
	for _, a := range accounts {
		out = append(out, a.Localpart)
	}
	return out
}

func TestListAccounts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		f         store.AccountFilter
		want      []string
		wantTotal int64
	}{
		{"defaults leave out guests, locked and deactivated", store.AccountFilter{},
			[]string{"alice", "bob"}, 2},
		{"everyone", store.AccountFilter{Guests: true, Locked: true, Deactivated: true},
			[]string{"0042", "alice", "bob", "carol", "dave"}, 5},
		{"admins only", store.AccountFilter{Admins: ptr(true), Locked: true},
			[]string{"bob"}, 1},
		{"no admins", store.AccountFilter{Admins: ptr(false), Locked: true},
			[]string{"alice", "carol"}, 2},
		{"localpart contains", store.AccountFilter{LocalpartContains: "A", Locked: true,
			Deactivated: true}, []string{"alice", "carol", "dave"}, 3},
		{"user ID contains", store.AccountFilter{UserIDContains: "@bo"},
			[]string{"bob"}, 1},
		{"wildcards are literal", store.AccountFilter{UserIDContains: "%"}, nil, 0},
		{"page", store.AccountFilter{Guests: true, Locked: true, Deactivated: true,
			Offset: 1, Limit: 2}, []string{"alice", "bob"}, 5},
		{"newest first", store.AccountFilter{Locked: true, OrderBy: store.OrderByCreated,
			Descending: true}, []string{"carol", "bob", "alice"}, 3},
		{"admins first", store.AccountFilter{OrderBy: store.OrderByAdmin,
			Descending: true}, []string{"bob", "alice"}, 2},
		{"guests last", store.AccountFilter{Guests: true, OrderBy: store.OrderByGuest},
			[]string{"alice", "bob", "0042"}, 3},
		{"by last seen", store.AccountFilter{OrderBy: store.OrderByLastSeen,
			Descending: true}, []string{"bob", "alice"}, 2},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		seedAccounts(t, s)
		createDevice(t, s, userID("bob"), "BOBDEV", "bob-token")
		seen := &store.Device{UserID: userID("bob"), DeviceID: "BOBDEV", LastSeenMS: nowMS,
			LastSeenIP: "192.0.2.1"}
		if err := s.TouchDevice(t.Context(), seen, nowMS); err != nil {
			t.Fatalf("TouchDevice: %v", err)
		}

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := s.ListAccounts(t.Context(), tt.f)
				if err != nil {
					t.Fatalf("ListAccounts: %v", err)
				}
				if !slices.Equal(localparts(got), tt.want) || total != tt.wantTotal {
					t.Errorf("ListAccounts(%+v) = %q, total %d; want %q, total %d", tt.f,
						localparts(got), total, tt.want, tt.wantTotal)
				}
			})
		}
	})
}

func TestAccountDetailsAndUpdate(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		seedAccounts(t, s)

		dave, err := s.AccountDetails(ctx, userID("dave"))
		if err != nil {
			t.Fatalf("AccountDetails(dave): %v", err)
		}
		if !dave.Deactivated || !dave.Erased || dave.UserType != "" || dave.LastSeenMS != 0 {
			t.Errorf("dave after an erasing deactivation: %+v", dave)
		}

		u := store.AccountUpdate{Admin: ptr(true), Suspended: ptr(true), Reactivate: true,
			UserType: ptr("bot")}
		if err := s.UpdateAccount(ctx, userID("dave"), u); err != nil {
			t.Fatalf("UpdateAccount: %v", err)
		}
		got, err := s.AccountDetails(ctx, userID("dave"))
		if err != nil {
			t.Fatalf("AccountDetails: %v", err)
		}
		want := *dave
		want.Admin, want.Suspended, want.Deactivated, want.Erased = true, true, false, false
		want.UserType = "bot"
		if *got != want {
			t.Errorf("after UpdateAccount: %+v; want %+v", *got, want)
		}

		// Nil fields stay as they are; an empty user type clears it.
		if err := s.UpdateAccount(ctx, userID("dave"), store.AccountUpdate{
			UserType: ptr("")}); err != nil {
			t.Fatalf("UpdateAccount: %v", err)
		}
		got, _ = s.AccountDetails(ctx, userID("dave"))
		want.UserType = ""
		if *got != want {
			t.Errorf("after clearing the type: %+v; want %+v", *got, want)
		}

		err = s.UpdateAccount(ctx, userID("nobody"), store.AccountUpdate{Locked: ptr(true)})
		wantErr(t, "UpdateAccount(nobody)", err, store.ErrNotFound)
		_, err = s.AccountDetails(ctx, mxid.UserID("@nobody:"+serverName))
		wantErr(t, "AccountDetails(nobody)", err, store.ErrNotFound)
	})
}

func TestRegistrationNonces(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		for _, n := range []string{"fresh", "stale", "other"} {
			exp := nowMS + 60_000
			if n == "stale" {
				exp = nowMS
			}
			if err := s.CreateRegistrationNonce(ctx, n, exp); err != nil {
				t.Fatalf("CreateRegistrationNonce(%s): %v", n, err)
			}
		}
		wantErr(t, "a second nonce with the same value",
			s.CreateRegistrationNonce(ctx, "fresh", nowMS), store.ErrConflict)

		wantErr(t, "first use", s.ConsumeRegistrationNonce(ctx, "fresh", nowMS), nil)
		wantErr(t, "second use", s.ConsumeRegistrationNonce(ctx, "fresh", nowMS),
			store.ErrNotFound)
		wantErr(t, "expired", s.ConsumeRegistrationNonce(ctx, "stale", nowMS),
			store.ErrNotFound)
		wantErr(t, "unknown", s.ConsumeRegistrationNonce(ctx, "never", nowMS),
			store.ErrNotFound)

		n, err := s.DeleteExpiredRegistrationNonces(ctx, nowMS)
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredRegistrationNonces = %d, %v; want 1 (stale)", n, err)
		}
		wantErr(t, "the other nonce", s.ConsumeRegistrationNonce(ctx, "other", nowMS), nil)
	})
}
