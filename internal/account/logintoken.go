package account

import (
	"context"
	"errors"

	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// CreateLoginToken runs POST /_matrix/client/v1/login/get_token (spec v1.7): after UIA
// proves that rq's user is present, it issues a single-use login token with which
// another client logs in as that user (m.login.token).
func (s *Service) CreateLoginToken(
	ctx context.Context, req *uia.Request, rq *store.Requester,
) (*device.LoginToken, error) {
	req.Operation, req.Requester = uia.OpLoginToken, rq.UserID
	res, err := s.uia.Authenticate(ctx, req)
	if err != nil {
		return nil, err
	}

	var out *device.LoginToken
	err = s.store.Transact(ctx, func(tx store.Store) error {
		if err := s.uia.Consume(ctx, tx, res); err != nil {
			return err
		}
		var err error
		out, err = s.devices.IssueLoginToken(ctx, tx, rq.UserID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// loginWithToken runs POST /login with m.login.token: the token is used up and its user
// gets a new session, in one transaction. An invalid, used or expired token is
// M_FORBIDDEN.
func (s *Service) loginWithToken(ctx context.Context, req *LoginRequest) (*device.Login, error) {
	if req.Token == "" {
		return nil, mxerr.ErrMissingParam.Msg("token is required")
	}

	nl := device.NewLogin{DisplayName: req.InitialDeviceDisplayName, Refresh: req.RefreshToken}
	if req.DeviceID != nil {
		nl.DeviceID = mxid.DeviceID(*req.DeviceID)
	}
	var out *device.Login
	err := s.store.Transact(ctx, func(tx store.Store) error {
		user, err := s.devices.RedeemLoginToken(ctx, tx, req.Token)
		if err != nil {
			return err
		}
		if err := checkLoginAccount(ctx, tx, user); err != nil {
			return err
		}

		nl.UserID = user
		out, err = s.devices.StartLogin(ctx, tx, nl)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkLoginAccount refuses a login token whose account has since been deactivated or
// locked, as a password login would.
func checkLoginAccount(ctx context.Context, tx store.Store, user mxid.UserID) error {
	// Locked, so that a deactivation committing meanwhile sees the new device.
	acct, err := tx.LockAccount(ctx, user)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return device.ErrBadLoginToken
	case err != nil:
		return err
	case acct.Deactivated:
		return mxerr.ErrUserDeactivated
	case acct.Locked:
		return mxerr.ErrUserLocked
	}
	return nil
}
