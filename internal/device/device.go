// Package device manages login sessions: devices and the access tokens bound to them.
// It issues tokens, resolves a token to its requester and revokes devices.
package device

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// Service issues and checks access tokens.
type Service struct {
	store store.Store
	now   func() time.Time
}

// New returns a Service over st.
func New(st store.Store) *Service {
	return &Service{store: st, now: time.Now}
}

// Login is what a client gets when it logs in or registers.
type Login struct {
	UserID      mxid.UserID
	DeviceID    mxid.DeviceID
	AccessToken string
}

// NewLogin describes the device a login asks for.
type NewLogin struct {
	UserID mxid.UserID
	// DeviceID reuses or creates that device; empty generates a new one.
	DeviceID mxid.DeviceID
	// DisplayName names a new device; it is ignored for an existing one.
	DisplayName *string
}

// StartLogin creates or reuses the device and issues a fresh access token for it, in
// tx. Tokens issued earlier to a reused device are revoked, so a client that logs in
// again with its device ID leaves no stale session behind.
func (s *Service) StartLogin(ctx context.Context, tx store.Store, nl NewLogin) (*Login, error) {
	now := s.now().UnixMilli()
	deviceID := nl.DeviceID
	if deviceID == "" {
		deviceID = mxid.DeviceID(token.DeviceID())
	}

	created, err := tx.EnsureDevice(ctx, &store.Device{UserID: nl.UserID, DeviceID: deviceID,
		DisplayName: nl.DisplayName, CreatedMS: now})
	if err != nil {
		return nil, err
	}
	if !created {
		if err := tx.DeleteDeviceTokens(ctx, nl.UserID, deviceID); err != nil {
			return nil, err
		}
	}

	access := token.New(token.Access)
	err = tx.CreateAccessToken(ctx, &store.AccessToken{Digest: token.Digest(access),
		UserID: nl.UserID, DeviceID: deviceID, CreatedMS: now})
	if err != nil {
		return nil, err
	}
	return &Login{UserID: nl.UserID, DeviceID: deviceID, AccessToken: access}, nil
}

// Authenticate returns the requester an access token speaks for. An ill-formed token is
// refused without a database read; unknown and expired tokens are M_UNKNOWN_TOKEN
// (expired ones with soft_logout), a locked account is M_USER_LOCKED.
func (s *Service) Authenticate(ctx context.Context, access string) (*store.Requester, error) {
	if !token.WellFormed(token.Access, access) {
		return nil, mxerr.ErrUnknownToken.Msg("unrecognised access token")
	}

	r, err := s.store.RequesterByToken(ctx, token.Digest(access))
	if errors.Is(err, store.ErrNotFound) {
		return nil, mxerr.ErrUnknownToken.Msg("unrecognised access token")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate access token: %w", err)
	}

	if r.ExpiresMS != 0 && r.ExpiresMS <= s.now().UnixMilli() {
		e := mxerr.ErrUnknownToken.Msg("the access token has expired")
		e.SoftLogout = true
		return nil, e
	}
	if r.Deactivated {
		return nil, mxerr.ErrUnknownToken.Msg("this account has been deactivated")
	}
	return r, nil
}

// Logout deletes the requester's device and its tokens.
func (s *Service) Logout(ctx context.Context, r *store.Requester) error {
	return s.store.DeleteDevice(ctx, r.UserID, r.DeviceID)
}

// LogoutAll deletes every device of the requester's user, the current one included.
func (s *Service) LogoutAll(ctx context.Context, r *store.Requester) error {
	return s.store.DeleteAllDevices(ctx, r.UserID)
}
