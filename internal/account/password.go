package account

import (
	"context"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// changePasswordParams are the body fields of POST /account/password besides auth and
// new_password.
type changePasswordParams struct {
	LogoutDevices *bool `json:"logout_devices"`
}

// ChangePassword runs POST /account/password and returns whose password it changed (or
// was changing, when it failed after authentication). rq is the caller, or nil for a
// request without an access token: a password reset (uia.OpPasswordReset), where the
// UIA stages alone, such as a validated email address, say whose password changes.
// With logout_devices (the default) every other device of the user is logged out;
// the caller's own device stays. The account's addresses are told.
func (s *Service) ChangePassword(
	ctx context.Context, req *uia.Request, rq *store.Requester,
) (mxid.UserID, error) {
	var first changePasswordParams
	if err := decodeParams(req.Body, &first); err != nil {
		return "", err
	}
	if pw, ok, err := stringField(req.Body, "new_password"); err != nil {
		return "", err
	} else if ok {
		var user string
		if rq != nil {
			user = rq.Localpart
		}
		if err := s.cfg.Policy.Check(pw, user, s.cfg.ServerName); err != nil {
			return "", err
		}
	}

	req.Operation, req.Secret = uia.OpPasswordReset, "new_password"
	s.hashSecrets(req)
	if rq != nil {
		req.Operation, req.Requester = uia.OpPassword, rq.UserID
	}
	res, err := s.uia.Authenticate(ctx, req)
	if err != nil {
		return "", err
	}

	var p changePasswordParams
	if err := decodeParams(res.Params, &p); err != nil {
		return "", err
	}
	if res.SecretHash == "" {
		return "", mxerr.ErrMissingParam.Msg("new_password is required; send it with the " +
			"same UIA session")
	}
	user := res.Session.UserID
	logout := p.LogoutDevices == nil || *p.LogoutDevices

	err = s.store.Transact(ctx, func(tx store.Store) error {
		if err := s.uia.Consume(ctx, tx, res); err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, user, res.SecretHash); err != nil {
			return err
		}
		if !logout {
			return nil
		}
		if rq != nil && rq.UserID == user {
			return tx.DeleteOtherDevices(ctx, user, rq.DeviceID)
		}
		return tx.DeleteAllDevices(ctx, user)
	})
	if err != nil {
		return user, err
	}
	s.notify(ctx, user, threepid.KindPasswordChanged)
	return user, nil
}

// hashSecrets lets the UIA engine hash and check the request's secret.
func (s *Service) hashSecrets(req *uia.Request) {
	req.Hash = s.hasher.Hash
	req.Verify = func(hash, pw string) bool {
		_, err := s.hasher.Verify(hash, pw)
		return err == nil
	}
}

// DeactivateResult is the answer to a deactivation.
type DeactivateResult struct {
	// UserID is the account deactivated: the caller's, or for a request without an
	// access token the one the password stage proved.
	UserID mxid.UserID
	// IDServerUnbindResult is "success" when every binding was removed (or there was
	// none), "no-support" when an identity server could not remove one.
	IDServerUnbindResult string
}

type deactivateParams struct {
	Erase bool `json:"erase"`
}

// Deactivate runs POST /account/deactivate. rq is the caller, or nil for a request
// without an access token. Every device and token of the user goes, and so do its
// 3PIDs, which other accounts may then add; the user ID stays taken for good.
func (s *Service) Deactivate(
	ctx context.Context, req *uia.Request, rq *store.Requester,
) (*DeactivateResult, error) {
	var first deactivateParams
	if err := decodeParams(req.Body, &first); err != nil {
		return nil, err
	}

	req.Operation = uia.OpDeactivate
	if rq != nil {
		req.Requester = rq.UserID
	}
	res, err := s.uia.Authenticate(ctx, req)
	if err != nil {
		return nil, err
	}
	var p deactivateParams
	if err := decodeParams(res.Params, &p); err != nil {
		return nil, err
	}
	user := res.Session.UserID

	err = s.store.Transact(ctx, func(tx store.Store) error {
		if err := s.uia.Consume(ctx, tx, res); err != nil {
			return err
		}
		if err := tx.Deactivate(ctx, user, p.Erase); err != nil {
			return err
		}
		if _, err := tx.DeleteThreePIDsOf(ctx, user); err != nil {
			return err
		}
		return tx.DeleteAllDevices(ctx, user)
	})
	if err != nil {
		return nil, err
	}

	// Unbinding talks to other servers, so it runs once the account is gone: an
	// identity server that is slow or down delays the answer but changes nothing.
	result := "success"
	if s.cfg.ThreePIDs != nil {
		result = s.cfg.ThreePIDs.UnbindAll(ctx, user)
	}
	return &DeactivateResult{UserID: user, IDServerUnbindResult: result}, nil
}

// DeleteDevices runs DELETE /devices/{deviceId} and POST /delete_devices for the
// caller's own devices, through UIA. Devices already gone are not an error.
func (s *Service) DeleteDevices(
	ctx context.Context, req *uia.Request, rq *store.Requester, devices []mxid.DeviceID,
) error {
	req.Operation, req.Requester = uia.OpDeleteDevice, rq.UserID
	res, err := s.uia.Authenticate(ctx, req)
	if err != nil {
		return err
	}

	return s.store.Transact(ctx, func(tx store.Store) error {
		if err := s.uia.Consume(ctx, tx, res); err != nil {
			return err
		}
		for _, d := range devices {
			if err := tx.DeleteDevice(ctx, rq.UserID, d); err != nil {
				return err
			}
		}
		return nil
	})
}
