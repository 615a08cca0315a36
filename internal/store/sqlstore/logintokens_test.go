package sqlstore_test

import (
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// createLoginToken stores a login token of user whose digest is digest.
func createLoginToken(t *testing.T, s *sqlstore.Store, user mxid.UserID, digest string,
	expiresMS int64,
) {
	t.Helper()

	err := s.CreateLoginToken(t.Context(), &store.LoginToken{Digest: []byte(digest),
		UserID: user, CreatedMS: nowMS, ExpiresMS: expiresMS})
	if err != nil {
		t.Fatalf("CreateLoginToken(%s): %v", digest, err)
	}
}

// loginTokenExists reports whether the login token with digest is stored, without
// using it up.
func loginTokenExists(t *testing.T, s *sqlstore.Store, digest string) bool {
	t.Helper()

	var n int64
	err := s.RawQueryRow(t.Context(), `SELECT COUNT(*) FROM login_tokens WHERE digest = ?`,
		[]byte(digest)).Scan(&n)
	if err != nil {
		t.Fatalf("look up login token %s: %v", digest, err)
	}
	return n > 0
}

// TestConsumeLoginToken checks that a login token serves once, expired or not (the
// caller judges expiry), and that a duplicate digest is a conflict.
func TestConsumeLoginToken(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice := userID("alice")
		createLoginToken(t, s, alice, "fresh", nowMS+120_000)
		createLoginToken(t, s, alice, "stale", nowMS-1)

		err := s.CreateLoginToken(ctx, &store.LoginToken{Digest: []byte("fresh"),
			UserID: userID("bob"), CreatedMS: nowMS, ExpiresMS: nowMS + 1})
		wantErr(t, "CreateLoginToken(duplicate)", err, store.ErrConflict)

		for _, tt := range []struct {
			digest    string
			expiresMS int64
		}{
			{"fresh", nowMS + 120_000},
			{"stale", nowMS - 1},
		} {
			lt, err := s.ConsumeLoginToken(ctx, []byte(tt.digest))
			if err != nil {
				t.Fatalf("ConsumeLoginToken(%s): %v", tt.digest, err)
			}
			if lt.UserID != alice || lt.ExpiresMS != tt.expiresMS || lt.CreatedMS != nowMS ||
				string(lt.Digest) != tt.digest {
				t.Errorf("ConsumeLoginToken(%s) = %+v; want alice's, expiring at %d",
					tt.digest, lt, tt.expiresMS)
			}

			_, err = s.ConsumeLoginToken(ctx, []byte(tt.digest))
			wantErr(t, "ConsumeLoginToken("+tt.digest+") again", err, store.ErrNotFound)
		}

		_, err = s.ConsumeLoginToken(ctx, []byte("never"))
		wantErr(t, "ConsumeLoginToken(unknown)", err, store.ErrNotFound)
	})
}

// TestConsumeLoginTokenRace races uses of one login token: exactly one gets it.
func TestConsumeLoginTokenRace(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		createLoginToken(t, s, userID("alice"), "once", nowMS+120_000)

		errs := race(func(int) error {
			_, err := s.ConsumeLoginToken(t.Context(), []byte("once"))
			return err
		})
		wantOneWinner(t, errs, store.ErrNotFound)
	})
}

// TestDeleteExpiredLoginTokens checks that only tokens expired at the given time go.
func TestDeleteExpiredLoginTokens(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		alice := userID("alice")
		createLoginToken(t, s, alice, "old", nowMS-1)
		createLoginToken(t, s, alice, "edge", nowMS)
		createLoginToken(t, s, alice, "new", nowMS+1)

		n, err := s.DeleteExpiredLoginTokens(t.Context(), nowMS)
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpiredLoginTokens = %d, %v; want 2, nil", n, err)
		}
		for digest, want := range map[string]bool{"old": false, "edge": false, "new": true} {
			if got := loginTokenExists(t, s, digest); got != want {
				t.Errorf("login token %s exists: %v, want %v", digest, got, want)
			}
		}
	})
}
