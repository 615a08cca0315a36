package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/password"
	"github.com/mxaccounts/mxaccounts/internal/ratelimit"
	"github.com/mxaccounts/mxaccounts/internal/sms"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
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

// Identifier is a user identifier, as the spec's "Identifier types" section defines it
// (https://spec.matrix.org/v1.13/client-server-api/#identifier-types).
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
	if err := CheckDeviceFields(req.DeviceID, req.InitialDeviceDisplayName); err != nil {
		return nil, err
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

	localpart, subject, err := s.identifiedLocalpart(ctx, req.Identifier, req.User,
		req.Medium, req.Address)
	if err != nil {
		return nil, err
	}
	acct, newHash, err := s.checkPassword(ctx, localpart, subject, *req.Password)
	if err != nil {
		return nil, err
	}

	nl := device.NewLogin{UserID: acct.UserID, DisplayName: req.InitialDeviceDisplayName,
		Refresh: req.RefreshToken}
	if req.DeviceID != nil {
		nl.DeviceID = mxid.DeviceID(*req.DeviceID)
	}
	return s.startSession(ctx, acct, newHash, nl)
}

// identifiedLocalpart finds the localpart that an identifier names, or, without one,
// the deprecated top-level user, medium and address fields. A 3PID identifier names
// the account that holds the address, compared in canonical form (case-folded email);
// one that no account holds gives "", which the password check fails like an unknown
// user. subject names what failed passwords count against: the localpart, or for a
// 3PID the address, so that a limit on it answers alike whether or not an account
// exists or holds the address.
func (s *Service) identifiedLocalpart(
	ctx context.Context, id *Identifier, user, medium, address string,
) (localpart, subject string, err error) {
	if id == nil {
		switch {
		case user != "":
			id = &Identifier{Type: IdentifierUser, User: user}
		case medium != "" || address != "":
			id = &Identifier{Type: IdentifierThirdPty, Medium: medium, Address: address}
		default:
			return "", "", mxerr.ErrMissingParam.Msg("identifier is required")
		}
	}
	if id.Type == "" && id.Medium != "" {
		id.Type = IdentifierThirdPty // the legacy prose shows 3PID identifiers without type
	}

	switch id.Type {
	case IdentifierUser:
	case IdentifierThirdPty:
		if id.Medium == "" || id.Address == "" {
			return "", "", mxerr.ErrMissingParam.Msg("identifier.medium and " +
				"identifier.address are required")
		}
		return s.threePIDSubject(ctx, id.Medium, id.Address)
	case IdentifierPhone:
		if id.Country == "" || id.Phone == "" {
			return "", "", mxerr.ErrMissingParam.Msg("identifier.country and " +
				"identifier.phone are required")
		}
		msisdn, err := sms.FromCountryPhone(id.Country, id.Phone)
		if err != nil {
			// No account holds a number that is none.
			return "", "3pid:phone:" + id.Country + ":" + id.Phone, nil
		}
		return s.threePIDSubject(ctx, string(threepid.MediumMSISDN), msisdn)
	default:
		return "", "", mxerr.ErrUnknown.Msg("unknown identifier type %q", id.Type)
	}
	if id.User == "" {
		return "", "", mxerr.ErrMissingParam.Msg("identifier.user is required")
	}

	name := id.User
	if strings.HasPrefix(name, "@") {
		lp, server, err := mxid.ParseUserID(name)
		if err != nil || server != s.cfg.ServerName {
			return "", "", errBadCredentials
		}
		name = lp
	}
	// ASCII only, as registration maps names: Unicode lower-casing would let a name
	// that registration refuses (K, the Kelvin sign) log in as another (k).
	localpart = asciiLower(name)
	return localpart, localpart, nil
}

// threePIDSubject is identifiedLocalpart for a 3PID: the owner's localpart, or "" when
// none. The subject is the address in canonical form whether or not an account holds
// it, so that the limit on it neither tells held addresses from free ones nor ties an
// address to a username.
func (s *Service) threePIDSubject(
	ctx context.Context, medium, address string,
) (localpart, subject string, err error) {
	canonical, ok := threepid.Canonical(threepid.Medium(medium), address)
	if !ok {
		canonical = strings.ToLower(strings.TrimSpace(address))
	}
	localpart, err = s.threePIDOwner(ctx, medium, address)
	return localpart, "3pid:" + medium + ":" + canonical, err
}

// checkPassword returns the account if password is its password. Unknown users cost a
// verification too, so timing does not reveal which accounts exist; a deactivated
// account is M_USER_DEACTIVATED whatever the password. Wrong passwords count against
// subject's limit. When the stored
// hash is due for an upgrade (bcrypt, older parameters) it also returns the new hash,
// for the caller to store in its transaction.
func (s *Service) checkPassword(
	ctx context.Context, localpart, subject, pw string,
) (acct *store.Account, newHash string, err error) {
	// The attempt is counted before the hash is checked, so that racing attempts cannot
	// all pass a limit that only one had room for; what is no wrong password is given
	// back.
	ok, wait, err := s.cfg.FailedPasswords.Take(ctx, subject)
	if err != nil {
		return nil, "", fmt.Errorf("count a password attempt of %q: %w", subject, err)
	}
	if !ok {
		return nil, "", ratelimit.Exceeded(wait)
	}
	wrong := false
	defer func() {
		if !wrong {
			s.refundAttempt(ctx, subject)
		}
	}()

	acct, err = s.store.AccountByLocalpart(ctx, localpart)
	if errors.Is(err, store.ErrNotFound) {
		_ = s.hasher.VerifyNothing(pw)
		wrong = true
		return nil, "", errBadCredentials
	}
	if err != nil {
		return nil, "", err
	}
	if acct.Deactivated {
		// Whatever the password: the account has none left to confirm a guess against,
		// and the name is known to be taken anyway (the spec's /register/available).
		return nil, "", mxerr.ErrUserDeactivated
	}

	rehash, err := s.hasher.Verify(acct.PasswordHash, pw)
	if errors.Is(err, password.ErrMismatch) {
		wrong = true
		return nil, "", errBadCredentials
	}
	if err != nil {
		return nil, "", err
	}
	if err := usable(acct); err != nil {
		return nil, "", err
	}
	if rehash {
		newHash = s.hasher.Hash(pw)
	}
	return acct, newHash, nil
}

// refundAttempt gives back the attempt counted against subject for a password that was
// not wrong. A failure to do so is logged, not answered: it only leaves the bucket one
// attempt emptier.
func (s *Service) refundAttempt(ctx context.Context, subject string) {
	if err := s.cfg.FailedPasswords.Refund(ctx, subject); err != nil && ctx.Err() == nil {
		s.log.Warn("could not give back a password attempt; check the database",
			"subject", subject, "error", err)
	}
}

// usable refuses accounts that may not log in.
func usable(acct *store.Account) error {
	switch {
	case acct.Deactivated:
		return mxerr.ErrUserDeactivated
	case acct.Locked:
		return mxerr.ErrUserLocked
	}
	return nil
}

// startSession logs acct in, in one transaction that first locks the account and checks
// that it is as it was when its password was checked: a password change, deactivation
// or lock that committed meanwhile wins, and one that commits later sees the new device
// and removes it. newHash, if set, replaces the verified hash.
func (s *Service) startSession(
	ctx context.Context, acct *store.Account, newHash string, nl device.NewLogin,
) (*device.Login, error) {
	var out *device.Login
	err := s.store.Transact(ctx, func(tx store.Store) error {
		now, err := tx.LockAccount(ctx, acct.UserID)
		if err != nil {
			return err
		}
		if now.PasswordHash != acct.PasswordHash {
			return errBadCredentials
		}
		if err := usable(now); err != nil {
			return err
		}
		if newHash != "" {
			if err := tx.SetPasswordHash(ctx, acct.UserID, newHash); err != nil {
				return err
			}
		}
		out, err = s.devices.StartLogin(ctx, tx, nl)
		return err
	})
	return out, err
}

// IsBadCredentials reports whether err is the answer to wrong credentials or a bad
// login token, which callers rate-limit.
func IsBadCredentials(err error) bool {
	var e *mxerr.Error
	return errors.As(err, &e) && (e == errBadCredentials || e == device.ErrBadLoginToken)
}

// MaxDisplayNameLength is the longest device display name accepted, in characters.
const MaxDisplayNameLength = 256

// CheckDeviceFields refuses a device ID or display name a client may not choose, with
// M_INVALID_PARAM saying why; nil values are absent fields.
func CheckDeviceFields(deviceID, displayName *string) error {
	if deviceID != nil {
		if err := mxid.ValidateDeviceID(*deviceID); err != nil {
			return mxerr.ErrInvalidParam.Msg("device_id: %v", err)
		}
	}
	if displayName != nil && utf8.RuneCountInString(*displayName) > MaxDisplayNameLength {
		return mxerr.ErrInvalidParam.Msg("a device display name is at most %d characters",
			MaxDisplayNameLength)
	}
	return nil
}
