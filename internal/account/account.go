// Package account holds the rules for accounts: which usernames may be registered, how
// users, guests and the first admin register, and how a password logs in.
package account

import (
	"log/slog"
	"regexp"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/appservice"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/password"
	"github.com/mxaccounts/mxaccounts/internal/ratelimit"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
)

// Config is the policy the service applies.
type Config struct {
	ServerName string
	// RegistrationEnabled allows ordinary users to register.
	RegistrationEnabled bool
	// GuestsEnabled allows guest registration.
	GuestsEnabled bool
	// Reserved localparts can never be registered.
	Reserved []string
	// Deny holds patterns; a localpart matching any cannot be registered.
	Deny []*regexp.Regexp
	// Terms are the policies accepted at the m.login.terms stage.
	Terms []uia.Policy
	// AppServices are the registered application services; nil for none.
	AppServices *appservice.Registry
	// Policy is what new passwords must satisfy.
	Policy password.Policy
	// ThreePIDs finds accounts by address, gives registrations their validated
	// addresses and notifies accounts; nil when no medium is validated.
	ThreePIDs ThreePIDs
	// FailedPasswords limits wrong passwords per account, through /login and the
	// password stage alike; nil for no limit.
	FailedPasswords *ratelimit.Shared
	// Log receives what an operator should act on; nil discards it.
	Log *slog.Logger
}

// Service runs account operations over the store.
type Service struct {
	cfg      Config
	store    store.Store
	hasher   *password.Hasher
	devices  *device.Service
	uia      *uia.Engine
	reserved map[string]bool
	log      *slog.Logger
	now      func() time.Time
}

// New returns a Service.
func New(
	cfg Config, st store.Store, h *password.Hasher, d *device.Service, u *uia.Engine,
) *Service {
	s := &Service{cfg: cfg, store: st, hasher: h, devices: d, uia: u,
		reserved: map[string]bool{}, log: cfg.Log, now: time.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, lp := range cfg.Reserved {
		s.reserved[lp] = true
	}
	return s
}
