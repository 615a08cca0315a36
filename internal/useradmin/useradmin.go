// Package useradmin carries out what operators do to accounts: list and inspect them,
// create and change them, reset passwords, deactivate, lock and suspend, look at and
// end sessions, and register with the shared secret. The Synapse-compatible admin API
// and the "mxaccounts user" commands both call it, so both apply one set of rules.
//
// It answers with *mxerr.Error values, so that the HTTP layer writes them as they are
// and the command line prints them.
package useradmin

import (
	"context"
	"errors"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/password"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// Config is what the service needs to know of the configuration.
type Config struct {
	ServerName string
	// SharedSecret enables shared-secret registration; "" disables it.
	SharedSecret string
	// Unbinder removes a user's identity-server bindings at deactivation and when an
	// operator removes addresses; nil when identity servers play no part.
	Unbinder Unbinder
}

// Unbinder removes identity-server bindings of a user. Its methods return the spec's
// id_server_unbind_result ("success" or "no-support") and never fail.
type Unbinder interface {
	// UnbindAll removes every binding of user.
	UnbindAll(ctx context.Context, user mxid.UserID) string
	// UnbindAddresses removes user's bindings of the addresses in removed.
	UnbindAddresses(ctx context.Context, user mxid.UserID, removed []store.ThreePID) string
}

// Service runs operators' actions over the store.
type Service struct {
	cfg      Config
	store    store.Store
	accounts *account.Service
	devices  *device.Service
	hasher   *password.Hasher
	now      func() time.Time
}

// New returns a Service. accounts applies the username rules, devices issues the
// tokens of shared-secret registration, h hashes the passwords operators set.
func New(
	cfg Config, st store.Store, accounts *account.Service, devices *device.Service,
	h *password.Hasher,
) *Service {
	return &Service{cfg: cfg, store: st, accounts: accounts, devices: devices, hasher: h,
		now: time.Now}
}

// Actor is the admin who acts, when it is one: an admin may not demote themself, and a
// password change keeps the session they act from. The zero Actor is the command line.
type Actor struct {
	UserID   mxid.UserID
	DeviceID mxid.DeviceID
}

// errUserNotFound is the answer for a local user ID that has no account.
var errUserNotFound = mxerr.ErrNotFound.Msg("User not found")

// LocalUser parses a user ID given by an operator and checks that it belongs to this
// server; anything else is M_INVALID_PARAM.
func (s *Service) LocalUser(raw string) (mxid.UserID, error) {
	localpart, server, err := mxid.ParseUserID(raw)
	if err != nil {
		return "", mxerr.ErrInvalidParam.Msg("%q is not a user ID", raw)
	}
	if server != s.cfg.ServerName {
		return "", mxerr.ErrInvalidParam.Msg("%s is not a user of this server", raw)
	}
	return mxid.NewUserID(localpart, server), nil
}

// details returns user's account, or M_NOT_FOUND.
func (s *Service) details(ctx context.Context, st store.Store, user mxid.UserID) (
	*store.AccountDetails, error,
) {
	a, err := st.AccountDetails(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUserNotFound
	}
	return a, err
}

// checkPassword refuses a password that an operator sets when it cannot be one: empty,
// longer than 512 bytes (as Synapse limits it) or holding NUL. The password policy is
// for users; operators decide for themselves (the command line checks it).
func checkPassword(pw string) error {
	if pw == "" || len(pw) > 512 {
		return mxerr.ErrInvalidParam.Msg("the password must be 1 to 512 bytes long")
	}
	for i := range len(pw) {
		if pw[i] == 0 {
			return mxerr.ErrInvalidParam.Msg("the password must not contain NUL")
		}
	}
	return nil
}

// userTypes are the user types an operator may give an account, as Synapse knows them.
var userTypes = map[string]bool{"bot": true, "support": true}

// checkUserType refuses an unknown user type; "" is none.
func checkUserType(t string) error {
	if t != "" && !userTypes[t] {
		return mxerr.ErrInvalidParam.Msg("user_type must be bot, support or null, not %q", t)
	}
	return nil
}
