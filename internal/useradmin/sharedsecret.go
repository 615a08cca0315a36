package useradmin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// nonceLifetime is how long a shared-secret registration nonce may wait for its POST,
// as long as Synapse lets one.
const nonceLifetime = time.Minute

// The answers of shared-secret registration. Synapse gives most of them no errcode of
// their own, which its clients see as M_UNKNOWN; they are kept so that scripts written
// against Synapse read the same answers.
var (
	errSharedSecretDisabled = mxerr.ErrUnknown.Msg(
		"Shared secret registration is not enabled")
	errUnknownNonce = mxerr.ErrUnknown.Msg("unrecognised nonce")
	errBadMAC       = mxerr.New(http.StatusForbidden, mxerr.CodeUnknown, "HMAC incorrect")
)

// SharedSecretEnabled reports whether shared-secret registration is on.
func (s *Service) SharedSecretEnabled() bool { return s.cfg.SharedSecret != "" }

// Nonce issues a nonce for one shared-secret registration within nonceLifetime. It is
// stored, so that the instance that takes the POST need not be the one that issued it.
func (s *Service) Nonce(ctx context.Context) (string, error) {
	if !s.SharedSecretEnabled() {
		return "", errSharedSecretDisabled
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	nonce := hex.EncodeToString(b)

	exp := s.now().Add(nonceLifetime).UnixMilli()
	if err := s.store.CreateRegistrationNonce(ctx, nonce, exp); err != nil {
		return "", err
	}
	return nonce, nil
}

// SharedSecretRequest is the body of POST /_synapse/admin/v1/register. A nil field was
// absent from the body.
type SharedSecretRequest struct {
	Nonce    *string
	Username *string
	Password *string
	Admin    bool
	UserType string
	// MAC is the hex HMAC-SHA1, keyed with the shared secret, of the nonce, username,
	// password, "admin" or "notadmin" and, when set, the user type, separated by NULs.
	MAC *string
	// Refresh asks for a refresh token with the access token.
	Refresh bool
}

// RegisterWithSharedSecret creates the account that r describes once its MAC proves
// that the caller knows the shared secret, and logs it in on a new device. The checks
// and their answers come in Synapse's order; the nonce is spent as soon as it is
// recognised, whatever follows.
func (s *Service) RegisterWithSharedSecret(ctx context.Context, r SharedSecretRequest) (
	*device.Login, error,
) {
	if !s.SharedSecretEnabled() {
		return nil, errSharedSecretDisabled
	}
	if r.Nonce == nil {
		return nil, mxerr.ErrBadJSON.Msg("nonce must be specified")
	}
	err := s.store.ConsumeRegistrationNonce(ctx, *r.Nonce, s.now().UnixMilli())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnknownNonce
	}
	if err != nil {
		return nil, err
	}

	if err := checkSharedSecretFields(r); err != nil {
		return nil, err
	}
	if !hmac.Equal(s.sharedSecretMAC(r), decodeMAC(*r.MAC)) {
		return nil, errBadMAC
	}
	return s.registerOperatorAccount(ctx, r)
}

// checkSharedSecretFields checks the fields of r in Synapse's order.
func checkSharedSecretFields(r SharedSecretRequest) error {
	switch {
	case r.Username == nil:
		return mxerr.ErrBadJSON.Msg("username must be specified")
	case len(*r.Username) > 512 || strings.ContainsRune(*r.Username, 0):
		return mxerr.ErrUnknown.Msg("Invalid username")
	case r.Password == nil:
		return mxerr.ErrBadJSON.Msg("password must be specified")
	case len(*r.Password) > 512 || strings.ContainsRune(*r.Password, 0):
		return mxerr.ErrUnknown.Msg("Invalid password")
	case r.UserType != "" && !userTypes[r.UserType]:
		return mxerr.ErrUnknown.Msg("Invalid user type")
	case r.MAC == nil:
		return mxerr.ErrBadJSON.Msg("mac must be specified")
	}
	return nil
}

// sharedSecretMAC returns the MAC that r must carry.
func (s *Service) sharedSecretMAC(r SharedSecretRequest) []byte {
	admin := "notadmin"
	if r.Admin {
		admin = "admin"
	}
	parts := []string{*r.Nonce, *r.Username, *r.Password, admin}
	if r.UserType != "" {
		parts = append(parts, r.UserType)
	}

	mac := hmac.New(sha1.New, []byte(s.cfg.SharedSecret))
	mac.Write([]byte(strings.Join(parts, "\x00")))
	return mac.Sum(nil)
}

// decodeMAC returns the bytes of a hex MAC, or nil for one that is not hex, which
// matches no MAC.
func decodeMAC(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil
	}
	return b
}

// registerOperatorAccount creates the account of a verified shared-secret request and
// logs it in, in one transaction.
func (s *Service) registerOperatorAccount(ctx context.Context, r SharedSecretRequest) (
	*device.Login, error,
) {
	localpart := strings.ToLower(*r.Username)
	if err := s.accounts.CheckOperatorLocalpart(ctx, localpart); err != nil {
		return nil, err
	}
	hash := s.hasher.Hash(*r.Password)
	user := mxid.NewUserID(localpart, s.cfg.ServerName)

	var out *device.Login
	err := s.store.Transact(ctx, func(tx store.Store) error {
		a := &store.Account{UserID: user, Localpart: localpart, PasswordHash: hash,
			Kind: store.KindUser, Admin: r.Admin, CreatedMS: s.now().UnixMilli()}
		if err := tx.CreateAccount(ctx, a); err != nil {
			return err
		}
		if r.UserType != "" {
			err := tx.UpdateAccount(ctx, user, store.AccountUpdate{UserType: &r.UserType})
			if err != nil {
				return err
			}
		}
		var err error
		out, err = s.devices.StartLogin(ctx, tx, device.NewLogin{UserID: user,
			Refresh: r.Refresh})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, mxerr.ErrUserInUse.Msg("the username %q is taken", localpart)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
