package account

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/mxaccounts/mxaccounts/internal/appservice"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// EnsureAppServiceSenders creates the sender account of every service that lacks one,
// so that the services can act as themselves.
func (s *Service) EnsureAppServiceSenders(ctx context.Context) error {
	if s.cfg.AppServices == nil {
		return nil
	}
	for _, svc := range s.cfg.AppServices.Services() {
		err := s.store.CreateAccount(ctx, &store.Account{UserID: svc.Sender,
			Localpart: svc.SenderLocalpart, Kind: store.KindAppService,
			CreatedMS: s.now().UnixMilli(), AppServiceID: svc.ID})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

// RegisterAppService runs POST /register with type m.login.application_service: no
// UIA; the username must lie in one of the service's namespaces (M_EXCLUSIVE
// otherwise); the service is recorded as the account's registrar.
func (s *Service) RegisterAppService(
	ctx context.Context, svc *appservice.Service, p *RegisterParams,
) (*Registered, error) {
	if p.Username == nil || *p.Username == "" {
		return nil, mxerr.ErrMissingParam.Msg("username is required for application " +
			"service registration")
	}
	localpart := s.NormalizeUsername(*p.Username)
	if err := s.checkGrammar(localpart); err != nil {
		return nil, err
	}
	userID := s.userID(localpart)
	if !svc.Claims(userID) {
		return nil, mxerr.ErrExclusive.Msg("%s is outside the namespaces of application "+
			"service %q", userID, svc.ID)
	}
	if err := s.checkFree(ctx, localpart); err != nil {
		return nil, err
	}

	out := &Registered{UserID: userID}
	err := s.store.Transact(ctx, func(tx store.Store) error {
		err := tx.CreateAccount(ctx, &store.Account{UserID: userID, Localpart: localpart,
			Kind: store.KindUser, CreatedMS: s.now().UnixMilli(), AppServiceID: svc.ID})
		if err != nil || p.InhibitLogin {
			return err
		}
		nl := device.NewLogin{UserID: userID, DisplayName: p.InitialDeviceDisplayName,
			Refresh: p.RefreshToken}
		if p.DeviceID != nil {
			nl.DeviceID = mxid.DeviceID(*p.DeviceID)
		}
		out.Login, err = s.devices.StartLogin(ctx, tx, nl)
		return err
	})
	if err != nil {
		return nil, userInUse(err, localpart)
	}
	return out, nil
}

// LoginAppService runs POST /login with type m.login.application_service: the service
// logs in as a registered user in its namespaces.
func (s *Service) LoginAppService(
	ctx context.Context, svc *appservice.Service, req *LoginRequest,
) (*device.Login, error) {
	localpart, _, err := s.identifiedLocalpart(ctx, req.Identifier, req.User, "", "")
	if err != nil {
		return nil, err
	}
	if localpart == "" { // a 3PID that no account holds
		return nil, errBadCredentials
	}
	userID := s.userID(localpart)
	if !svc.Claims(userID) {
		return nil, mxerr.ErrExclusive.Msg("%s is outside the namespaces of application "+
			"service %q", userID, svc.ID)
	}
	acct, err := s.store.AccountByLocalpart(ctx, localpart)
	if errors.Is(err, store.ErrNotFound) {
		return nil, mxerr.ErrForbidden.Msg("%s is not registered", userID)
	}
	if err != nil {
		return nil, err
	}
	if acct.Deactivated {
		return nil, mxerr.ErrUserDeactivated
	}

	nl := device.NewLogin{UserID: userID, DisplayName: req.InitialDeviceDisplayName,
		Refresh: req.RefreshToken}
	if req.DeviceID != nil {
		nl.DeviceID = mxid.DeviceID(*req.DeviceID)
	}
	var out *device.Login
	err = s.store.Transact(ctx, func(tx store.Store) error {
		now, err := tx.LockAccount(ctx, userID)
		if err != nil {
			return err
		}
		if err := usable(now); err != nil {
			return err
		}
		out, err = s.devices.StartLogin(ctx, tx, nl)
		return err
	})
	return out, err
}

// DecodeRegisterParams reads the fields of a registration body.
func DecodeRegisterParams(body map[string]json.RawMessage) (*RegisterParams, error) {
	var p RegisterParams
	if err := decodeParams(body, &p); err != nil {
		return nil, err
	}
	if err := CheckDeviceFields(p.DeviceID, p.InitialDeviceDisplayName); err != nil {
		return nil, err
	}
	return &p, nil
}
