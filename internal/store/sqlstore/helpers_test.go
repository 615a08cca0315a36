package sqlstore_test

import (
	"errors"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// serverName is the server part of the user IDs in these tests.
const serverName = "example.org"

// nowMS is the fixed "now" of these tests, so that expiry never depends on the clock.
const nowMS int64 = 1_700_000_000_000

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// userID returns the user ID of localpart on serverName.
func userID(localpart string) mxid.UserID { return mxid.NewUserID(localpart, serverName) }

// newAccount returns an ordinary user account for localpart, not yet stored.
func newAccount(localpart string) *store.Account {
	return &store.Account{
		UserID:       userID(localpart),
		Localpart:    localpart,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Kind:         store.KindUser,
		CreatedMS:    nowMS,
	}
}

// createAccount stores an ordinary user account for localpart and returns it.
func createAccount(t *testing.T, s *sqlstore.Store, localpart string) *store.Account {
	t.Helper()

	a := newAccount(localpart)
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount(%s): %v", localpart, err)
	}
	return a
}

// createDevice stores a device of user with a token whose digest is digest.
func createDevice(t *testing.T, s *sqlstore.Store, user mxid.UserID, device mxid.DeviceID,
	digest string,
) {
	t.Helper()

	ctx := t.Context()
	d := &store.Device{UserID: user, DeviceID: device, CreatedMS: nowMS}
	if _, err := s.EnsureDevice(ctx, d); err != nil {
		t.Fatalf("EnsureDevice(%s, %s): %v", user, device, err)
	}

	tok := &store.AccessToken{Digest: []byte(digest), UserID: user, DeviceID: device,
		CreatedMS: nowMS}
	if err := s.CreateAccessToken(ctx, tok); err != nil {
		t.Fatalf("CreateAccessToken(%s, %s): %v", user, device, err)
	}
}

// createToken stores a registration token that allows uses uses (nil: unlimited) and
// expires at expiry (nil: never).
func createToken(t *testing.T, s *sqlstore.Store, token string, uses, expiry *int64) {
	t.Helper()

	rt := &store.RegistrationToken{Token: token, UsesAllowed: uses, ExpiryMS: expiry,
		CreatedMS: nowMS}
	if err := s.CreateRegistrationToken(t.Context(), rt); err != nil {
		t.Fatalf("CreateRegistrationToken(%s): %v", token, err)
	}
}

// readToken returns the stored registration token.
func readToken(t *testing.T, s *sqlstore.Store, token string) *store.RegistrationToken {
	t.Helper()

	rt, err := s.RegistrationToken(t.Context(), token)
	if err != nil {
		t.Fatalf("RegistrationToken(%s): %v", token, err)
	}
	return rt
}

// wantUses fails the test unless token has pending and completed uses.
func wantUses(t *testing.T, s *sqlstore.Store, token string, pending, completed int64) {
	t.Helper()

	rt := readToken(t, s, token)
	if rt.Pending != pending || rt.Completed != completed {
		t.Fatalf("token %s: pending %d, completed %d; want %d, %d", token, rt.Pending,
			rt.Completed, pending, completed)
	}
}

// wantErr fails the test unless errors.Is(err, target); a nil target wants no error.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()

	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: error %v; want one wrapping %v", what, err, target)
	}
}

// newSession returns a registration UIA session with id, not yet stored.
func newSession(id string, expiresMS int64) *store.UIASession {
	return &store.UIASession{
		ID:        id,
		Operation: "register",
		Method:    "POST",
		Path:      "/_matrix/client/v3/register",
		Params:    []byte(`{"username":"alice","initial_device_display_name":"phone"}`),
		CreatedMS: nowMS,
		ExpiresMS: expiresMS,
	}
}
