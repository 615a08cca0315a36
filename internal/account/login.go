package account

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/password"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// The login types and identifier types this server knows.
const (
	LoginPassword      = "m.login.password"
	LoginToken         = "m.login.token"
	IdentifierUser     = "m.id.user"
	IdentifierThirdPty = "m.id.thirdparty"
	IdentifierPhone    = "m.id.phone"
)

// Identifier is a user identifier (https://spec.matrix.org/v1.13/client-server-api/#identifier-types).
type Identifier struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Medium  string `json:"medium"`
	Address string `json:"address"`
	Country string `json:"country"`
	Phone   string `json:"phone"`
}

// LoginRequest is the body of POST /login.
type LoginRequest struct {
	Type       string      `json:"type"`
	Identifier *Identifier `json:"identifier"`
	// User, Medium and Address are the deprecated top-level identifier fields.
	User                     string  `json:"user"`
	Medium                   string  `json:"medium"`
	Address                  string  `json:"address"`
	Password                 *string `json:"password"`
	Token                    string  `json:"token"`
	DeviceID                 *string `json:"device_id"`
	InitialDeviceDisplayName *string `json:"initial_device_display_name"`
	RefreshToken             bool    `json:"refresh_token"`
}

// errBadCredentials is the one answer for an unknown user and a wrong password, so that
// login does not tell which accounts exist.
var errBadCredentials = mxerr.ErrForbidden.Msg("invalid username or password")

// DecodeLogin reads a login body.
func DecodeLogin(body map[string]json.RawMessage) (*LoginRequest, error) {
	var req LoginRequest
	if err := decodeParams(body, &req); err != nil {
		return nil, err
	}
	if req.Type == "" {
		return nil, mxerr.ErrMissingParam.Msg("type is required")
	}
	return &req, nil
}

// Login runs POST /login with a password or a login token. Wrong credentials, whether
// the user exists or not, give one answer (see IsBadCredentials), which callers
// rate-limit.
func (s *Service) Login(ctx context.Context, req *LoginRequest) (*device.Login, error) {
	if req.Type == LoginToken {
		return s.loginWithToken(ctx, req)
	}
	if req.Type != LoginPassword {
		return nil, mxerr.ErrUnknown.Msg("unsupported login type %q", req.Type)
	}
	if req.Password == nil {
		return nil, mxerr.ErrMissingParam.Msg("password is required")
	}

	localpart, err := s.identifiedLocalpart(req.Identifier, req.User, req.Medium, req.Address)
	if err != nil {
		return nil, err
	}
	acct, err := s.checkPassword(ctx, localpart, *req.Password)
	if err != nil {
		return nil, err
	}

	nl := device.NewLogin{UserID: acct.UserID, DisplayName: req.InitialDeviceDisplayName,
		Refresh: req.RefreshToken}
	if req.DeviceID != nil {
		nl.DeviceID = mxid.DeviceID(*req.DeviceID)
	}
	var out *device.Login
	err = s.store.Transact(ctx, func(tx store.Store) error {
		var err error
		out, err = s.devices.StartLogin(ctx, tx, nl)
		return err
	})
	return out, err
}

// identifiedLocalpart finds the localpart that an identifier names, or, without one,
// the deprecated top-level user, medium and address fields. 3PID identifiers match
// nobody until addresses can be added to accounts.
func (s *Service) identifiedLocalpart(
	id *Identifier, user, medium, address string,
) (string, error) {
	if id == nil {
		switch {
		case user != "":
			id = &Identifier{Type: IdentifierUser, User: user}
		case medium != "" || address != "":
			id = &Identifier{Type: IdentifierThirdPty, Medium: medium, Address: address}
		default:
			return "", mxerr.ErrMissingParam.Msg("identifier is required")
		}
	}
	if id.Type == "" && id.Medium != "" {
		id.Type = IdentifierThirdPty // the legacy prose shows 3PID identifiers without type
	}

	switch id.Type {
	case IdentifierUser:
	case IdentifierThirdPty, IdentifierPhone:
		// TODO(threepid): look up 3PIDs once accounts can hold them; none can yet.
		return "", errBadCredentials
	default:
		return "", mxerr.ErrUnknown.Msg("unknown identifier type %q", id.Type)
	}
	if id.User == "" {
		return "", mxerr.ErrMissingParam.Msg("identifier.user is required")
	}

	name := id.User
	if strings.HasPrefix(name, "@") {
		lp, server, err := mxid.ParseUserID(name)
		if err != nil || server != s.cfg.ServerName {
			return "", errBadCredentials
		}
		name = lp
	}
	return strings.ToLower(name), nil
}

// checkPassword returns the account if password is its password. Unknown users cost a
// verification too, so timing does not reveal which accounts exist.
func (s *Service) checkPassword(
	ctx context.Context, localpart, pw string,
) (*store.Account, error) {
	acct, err := s.store.AccountByLocalpart(ctx, localpart)
	if errors.Is(err, store.ErrNotFound) {
		_ = s.hasher.VerifyNothing(pw)
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}

	rehash, err := s.hasher.Verify(acct.PasswordHash, pw)
	if errors.Is(err, password.ErrMismatch) {
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}

	switch {
	case acct.Deactivated:
		return nil, mxerr.ErrUserDeactivated
	case acct.Locked:
		return nil, mxerr.ErrUserLocked
	}
	if rehash {
		if err := s.store.SetPasswordHash(ctx, acct.UserID, s.hasher.Hash(pw)); err != nil {
			// The login still succeeds; the next one tries again.
			slog.WarnContext(ctx, "could not upgrade password hash", "user_id", acct.UserID,
				"error", err)
		}
	}
	return acct, nil
}

// IsBadCredentials reports whether err is the answer to wrong credentials or a bad
// login token, which callers rate-limit.
func IsBadCredentials(err error) bool {
	var e *mxerr.Error
	return errors.As(err, &e) && (e == errBadCredentials || e == device.ErrBadLoginToken)
}
