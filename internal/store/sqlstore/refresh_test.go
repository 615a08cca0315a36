package sqlstore_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// pair names the digests of an access token and the refresh token issued with it: the
// test digests are name+"-at" and name+"-rt".
type pair string

func (p pair) access() []byte  { return []byte(string(p) + "-at") }
func (p pair) refresh() []byte { return []byte(string(p) + "-rt") }

// loginPair stores the pair p as a login with refresh tokens issues it for device, the
// device included; the refresh token expires at expiresMS (0: never).
func loginPair(t *testing.T, s *sqlstore.Store, user mxid.UserID, device mxid.DeviceID,
	p pair, expiresMS int64,
) {
	t.Helper()

	ctx := t.Context()
	d := &store.Device{UserID: user, DeviceID: device, CreatedMS: nowMS}
	if _, err := s.EnsureDevice(ctx, d); err != nil {
		t.Fatalf("EnsureDevice(%s, %s): %v", user, device, err)
	}
	err := s.CreateAccessToken(ctx, &store.AccessToken{Digest: p.access(), UserID: user,
		DeviceID: device, CreatedMS: nowMS, ExpiresMS: nowMS + 60_000})
	if err != nil {
		t.Fatalf("CreateAccessToken(%s): %v", p, err)
	}
	err = s.CreateRefreshToken(ctx, &store.RefreshToken{Digest: p.refresh(), UserID: user,
		DeviceID: device, AccessDigest: p.access(), CreatedMS: nowMS, ExpiresMS: expiresMS})
	if err != nil {
		t.Fatalf("CreateRefreshToken(%s): %v", p, err)
	}
}

// rotate refreshes with the refresh token of old at atMS, issuing the pair p, and returns
// the outcome. Revoked tokens are kept 1000 ms.
func rotate(t *testing.T, s *sqlstore.Store, old, p pair, atMS int64) store.RotationOutcome {
	t.Helper()

	out, err := s.RotateRefreshToken(t.Context(), rotation(old, p, atMS))
	if err != nil {
		t.Fatalf("RotateRefreshToken(%s → %s): %v", old, p, err)
	}
	return out
}

// rotation is the refresh from the refresh token of old to the pair p at atMS.
func rotation(old, p pair, atMS int64) *store.Rotation {
	return &store.Rotation{
		Old:            old.refresh(),
		Access:         &store.AccessToken{Digest: p.access(), CreatedMS: atMS},
		Refresh:        &store.RefreshToken{Digest: p.refresh(), CreatedMS: atMS},
		NowMS:          atMS,
		RevokedUntilMS: atMS + 1000,
	}
}

// readRefresh returns the stored refresh token of p, or nil when there is none.
func readRefresh(t *testing.T, s *sqlstore.Store, p pair) *store.RefreshToken {
	t.Helper()

	rt, err := s.RefreshToken(t.Context(), p.refresh())
	if err != nil {
		wantErr(t, "RefreshToken("+string(p)+")", err, store.ErrNotFound)
		return nil
	}
	return rt
}

// pending returns the PendingRefresh of the access token of p, and whether it works.
func pending(t *testing.T, s *sqlstore.Store, p pair) ([]byte, bool) {
	t.Helper()

	r, err := s.RequesterByToken(t.Context(), p.access())
	if err != nil {
		wantErr(t, "RequesterByToken("+string(p)+")", err, store.ErrNotFound)
		return nil, false
	}
	return r.PendingRefresh, true
}

// wantChain fails the test unless the refresh token of p exists with the given links
// (nil: none) and revocation.
func wantChain(t *testing.T, s *sqlstore.Store, p pair, prev, next []byte, revoked bool) {
	t.Helper()

	rt := readRefresh(t, s, p)
	switch {
	case rt == nil:
		t.Fatalf("refresh token %s is missing", p)
	case !bytes.Equal(rt.Prev, prev) || !bytes.Equal(rt.Next, next) || rt.Revoked != revoked:
		t.Fatalf("refresh token %s: prev %q, next %q, revoked %v; want %q, %q, %v", p,
			rt.Prev, rt.Next, rt.Revoked, prev, next, revoked)
	case !bytes.Equal(rt.AccessDigest, p.access()):
		t.Fatalf("refresh token %s is paired with %q, want %q", p, rt.AccessDigest,
			p.access())
	}
}

// wantAccess fails the test unless the access token of p works as want says and, when
// it works, is pending on the refresh token wantPending (nil: not pending).
func wantAccess(t *testing.T, s *sqlstore.Store, p pair, want bool, wantPending []byte) {
	t.Helper()

	got, works := pending(t, s, p)
	switch {
	case works != want:
		t.Fatalf("access token %s works: %v, want %v", p, works, want)
	case works && !bytes.Equal(got, wantPending):
		t.Fatalf("access token %s pending on %q, want %q", p, got, wantPending)
	}
}

// TestRefreshRetryThenConfirm walks one refresh token through a lost answer: the retry
// replaces the unused pair, the first use of the new access token revokes the old pair,
// and presenting the old refresh token after that ends the device's session.
func TestRefreshRetryThenConfirm(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice := createAccount(t, s, "alice").UserID
		loginPair(t, s, alice, "PHONE", "p0", 0)
		loginPair(t, s, alice, "LAPTOP", "l0", 0)

		if got := rotate(t, s, "p0", "p1", nowMS); got != store.Rotated {
			t.Fatalf("first refresh: outcome %v, want Rotated", got)
		}
		wantChain(t, s, "p0", nil, pair("p1").refresh(), false)
		wantChain(t, s, "p1", pair("p0").refresh(), nil, false)
		wantAccess(t, s, "p0", true, nil)
		wantAccess(t, s, "p1", true, pair("p1").refresh())

		// The answer was lost: the client retries with the same token.
		if got := rotate(t, s, "p0", "p2", nowMS+1); got != store.Rotated {
			t.Fatalf("retried refresh: outcome %v, want Rotated", got)
		}
		if readRefresh(t, s, "p1") != nil {
			t.Errorf("the unused refresh token p1 survived the retry")
		}
		wantAccess(t, s, "p1", false, nil)
		wantChain(t, s, "p0", nil, pair("p2").refresh(), false)
		wantAccess(t, s, "p0", true, nil)

		// The first use of the new access token confirms the refresh.
		ok, err := s.ConfirmRotation(ctx, pair("p2").refresh(), nowMS+1000)
		if err != nil || !ok {
			t.Fatalf("ConfirmRotation(p2) = %v, %v; want true, nil", ok, err)
		}
		wantChain(t, s, "p0", nil, pair("p2").refresh(), true)
		wantChain(t, s, "p2", nil, nil, false)
		wantAccess(t, s, "p0", false, nil)
		wantAccess(t, s, "p2", true, nil)

		// A replaced pair confirms nothing; a confirmed one confirms again harmlessly.
		if ok, err := s.ConfirmRotation(ctx, pair("p1").refresh(), nowMS); err != nil || ok {
			t.Errorf("ConfirmRotation(discarded p1) = %v, %v; want false, nil", ok, err)
		}
		if ok, err := s.ConfirmRotation(ctx, pair("p2").refresh(), nowMS); err != nil || !ok {
			t.Errorf("ConfirmRotation(p2) again = %v, %v; want true, nil", ok, err)
		}

		// The old token again is reuse: every token of the device goes, no other's.
		if got := rotate(t, s, "p0", "p3", nowMS+2); got != store.RotationReused {
			t.Fatalf("refresh with a revoked token: outcome %v, want RotationReused", got)
		}
		for _, p := range []pair{"p0", "p2", "p3"} {
			if readRefresh(t, s, p) != nil {
				t.Errorf("refresh token %s survived the reuse", p)
			}
			wantAccess(t, s, p, false, nil)
		}
		wantChain(t, s, "l0", nil, nil, false)
		wantAccess(t, s, "l0", true, nil)
	})
}

// TestRefreshConfirmedByRefreshToken checks that refreshing with a new refresh token
// before its access token was used counts as the first use of that pair.
func TestRefreshConfirmedByRefreshToken(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		alice := createAccount(t, s, "alice").UserID
		loginPair(t, s, alice, "PHONE", "p0", 0)

		rotate(t, s, "p0", "p1", nowMS)
		if got := rotate(t, s, "p1", "p2", nowMS+1); got != store.Rotated {
			t.Fatalf("refresh with p1: outcome %v, want Rotated", got)
		}

		wantChain(t, s, "p0", nil, pair("p1").refresh(), true)
		wantAccess(t, s, "p0", false, nil)
		wantChain(t, s, "p1", nil, pair("p2").refresh(), false)
		wantAccess(t, s, "p1", true, nil)
		wantChain(t, s, "p2", pair("p1").refresh(), nil, false)
		wantAccess(t, s, "p2", true, pair("p2").refresh())
	})
}

// TestRefreshUnknownAndExpired checks that unknown and expired refresh tokens change
// nothing.
func TestRefreshUnknownAndExpired(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		alice := createAccount(t, s, "alice").UserID
		loginPair(t, s, alice, "PHONE", "p0", nowMS+10)

		if got := rotate(t, s, "nobody", "x1", nowMS); got != store.RotationUnknown {
			t.Errorf("unknown token: outcome %v, want RotationUnknown", got)
		}
		if got := rotate(t, s, "p0", "p1", nowMS+10); got != store.RotationExpired {
			t.Errorf("expired token: outcome %v, want RotationExpired", got)
		}
		if readRefresh(t, s, "x1") != nil || readRefresh(t, s, "p1") != nil {
			t.Errorf("a refused refresh stored a new token")
		}
		wantChain(t, s, "p0", nil, nil, false)

		// Until it expires, the token works, and its successor expires later.
		if got := rotate(t, s, "p0", "p2", nowMS+9); got != store.Rotated {
			t.Errorf("unexpired token: outcome %v, want Rotated", got)
		}
	})
}

// TestRefreshDropsExpiredRevoked checks that a revoked token is remembered until its
// retention ends, and dropped by the next refresh of its device after that.
func TestRefreshDropsExpiredRevoked(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		alice := createAccount(t, s, "alice").UserID
		loginPair(t, s, alice, "PHONE", "p0", 0)

		rotate(t, s, "p0", "p1", nowMS)
		rotate(t, s, "p1", "p2", nowMS) // revokes p0, kept until nowMS+1000
		if rt := readRefresh(t, s, "p0"); rt == nil || rt.ExpiresMS != nowMS+1000 {
			t.Fatalf("revoked p0 is %+v, want it kept until %d", rt, nowMS+1000)
		}

		rotate(t, s, "p2", "p3", nowMS+999) // revokes p1
		if readRefresh(t, s, "p0") == nil {
			t.Fatalf("p0 was dropped before its retention ended")
		}
		rotate(t, s, "p3", "p4", nowMS+1000)
		if readRefresh(t, s, "p0") != nil {
			t.Errorf("p0 is still kept after its retention ended")
		}
		wantChain(t, s, "p1", nil, pair("p2").refresh(), true)
	})
}

// TestRefreshConcurrentRetries races retries of one refresh token: each succeeds, and
// one successor pair is left in the end, the one the old token links to.
func TestRefreshConcurrentRetries(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice := createAccount(t, s, "alice").UserID
		loginPair(t, s, alice, "PHONE", "p0", 0)

		errs := race(func(i int) error {
			p := pair("r" + string(rune('a'+i)))
			out, err := s.RotateRefreshToken(ctx, rotation("p0", p, nowMS))
			if err == nil && out != store.Rotated {
				t.Errorf("retry %s: outcome %v, want Rotated", p, out)
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("retry %d: %v", i, err)
			}
		}

		var refresh, access int64
		err := s.RawQueryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM refresh_tokens WHERE user_id = ?),
			(SELECT COUNT(*) FROM access_tokens WHERE user_id = ?)`, alice, alice).
			Scan(&refresh, &access)
		if err != nil {
			t.Fatalf("count tokens: %v", err)
		}
		if refresh != 2 || access != 2 {
			t.Errorf("%d refresh and %d access tokens left, want 2 of each (p0 and the "+
				"last successor)", refresh, access)
		}

		last := readRefresh(t, s, "p0").Next
		if last == nil {
			t.Fatalf("p0 links to no successor")
		}
		if ok, err := s.ConfirmRotation(ctx, last, nowMS); err != nil || !ok {
			t.Errorf("ConfirmRotation(last successor) = %v, %v; want true, nil", ok, err)
		}
	})
}

// TestDeviceDeletionRemovesRefreshTokens checks that every way of deleting devices or
// their tokens takes the refresh tokens along, and the user's login tokens where the
// user's other sessions end.
func TestDeviceDeletionRemovesRefreshTokens(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		del  func(ctx context.Context, s *sqlstore.Store, user mxid.UserID) error
		// gone lists the devices whose refresh tokens must be gone.
		gone []mxid.DeviceID
		// loginTokensGone says whether the user's login tokens must be gone.
		loginTokensGone bool
	}{
		{"DeleteDevice", func(ctx context.Context, s *sqlstore.Store, u mxid.UserID) error {
			return s.DeleteDevice(ctx, u, "PHONE")
		}, []mxid.DeviceID{"PHONE"}, false},
		{"DeleteDeviceTokens", func(ctx context.Context, s *sqlstore.Store, u mxid.UserID) error {
			return s.DeleteDeviceTokens(ctx, u, "PHONE")
		}, []mxid.DeviceID{"PHONE"}, false},
		{"DeleteOtherDevices", func(ctx context.Context, s *sqlstore.Store, u mxid.UserID) error {
			return s.DeleteOtherDevices(ctx, u, "LAPTOP")
		}, []mxid.DeviceID{"PHONE"}, true},
		{"DeleteAllDevices", func(ctx context.Context, s *sqlstore.Store, u mxid.UserID) error {
			return s.DeleteAllDevices(ctx, u)
		}, []mxid.DeviceID{"PHONE", "LAPTOP"}, true},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		bob := createAccount(t, s, "bob").UserID
		loginPair(t, s, bob, "PHONE", "bob-phone", 0)
		createLoginToken(t, s, bob, "bob-login", nowMS+1000)

		for i, tt := range tests {
			user := createAccount(t, s, "user"+string(rune('a'+i))).UserID
			phone, laptop := pair(tt.name+"-phone"), pair(tt.name+"-laptop")
			loginPair(t, s, user, "PHONE", phone, 0)
			loginPair(t, s, user, "LAPTOP", laptop, 0)
			// A revoked token of the phone must go too.
			rotate(t, s, phone, phone+"2", nowMS)
			rotate(t, s, phone+"2", phone+"3", nowMS)
			login := tt.name + "-login"
			createLoginToken(t, s, user, login, nowMS+1000)

			if err := tt.del(ctx, s, user); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}

			var phoneLeft, laptopLeft int64
			err := s.RawQueryRow(ctx, `SELECT
				(SELECT COUNT(*) FROM refresh_tokens WHERE user_id = ? AND device_id = ?),
				(SELECT COUNT(*) FROM refresh_tokens WHERE user_id = ? AND device_id = ?)`,
				user, "PHONE", user, "LAPTOP").Scan(&phoneLeft, &laptopLeft)
			if err != nil {
				t.Fatalf("%s: count refresh tokens: %v", tt.name, err)
			}
			wantPhone, wantLaptop := int64(3), int64(1)
			for _, d := range tt.gone {
				if d == "PHONE" {
					wantPhone = 0
				} else {
					wantLaptop = 0
				}
			}
			if phoneLeft != wantPhone || laptopLeft != wantLaptop {
				t.Errorf("%s: %d refresh tokens of PHONE and %d of LAPTOP left, want %d "+
					"and %d", tt.name, phoneLeft, laptopLeft, wantPhone, wantLaptop)
			}
			if got := loginTokenExists(t, s, login); got == tt.loginTokensGone {
				t.Errorf("%s: login token exists: %v, want %v", tt.name, got,
					!tt.loginTokensGone)
			}
		}

		wantChain(t, s, "bob-phone", nil, nil, false)
		if !loginTokenExists(t, s, "bob-login") {
			t.Errorf("another user's login token was deleted")
		}
	})
}
