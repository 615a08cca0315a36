// Package threepid handles third-party identifiers (3PIDs): the email addresses and
// phone numbers that users prove they control and add to their accounts
// (https://spec.matrix.org/v1.13/client-server-api/#adding-account-administrative-contact-information).
//
// It runs validation sessions as the spec describes them (requestToken with its
// client_secret, send_attempt and next_link; the sid; a submit_url that takes the
// token), the UIA stages that spend a validated session (m.login.email.identity and
// m.login.msisdn), and the list of addresses added to accounts. What it knows of a
// medium is a MediumConfig: how to read an address and the Sender that delivers
// messages to it, so that email and SMS differ only there.
package threepid

import (
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/identity"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
)

// Medium is the kind of a 3PID, as the spec names it.
type Medium string

// The media of the spec.
const (
	MediumEmail  Medium = "email"
	MediumMSISDN Medium = "msisdn"
)

// StageType returns the auth type of the UIA stage that spends a validated session of
// the medium.
func (m Medium) StageType() string {
	if m == MediumMSISDN {
		return "m.login.msisdn"
	}
	return "m.login.email.identity"
}

// AddressInput is the address of a requestToken as the client sent it: email for the
// email medium, country and phone_number for msisdn.
type AddressInput struct {
	Email       string
	Country     string
	PhoneNumber string
}

// MediumConfig is what the service needs to validate addresses of one medium.
type MediumConfig struct {
	// Sender delivers the validation messages and notices.
	Sender Sender
	// Parse returns the canonical address of a requestToken, or an *mxerr.Error
	// (M_INVALID_PARAM) for one that is malformed.
	Parse func(in AddressInput) (string, error)
	// Allowed reports whether an address may be validated at all (a domain policy); nil
	// allows every address.
	Allowed func(address string) bool
	// TokenLifetime is how long the token of a message works, and then how long the
	// validated address may be used.
	TokenLifetime time.Duration
	// MaxAttempts is how many tokens may be submitted per message.
	MaxAttempts int
	// NextLinkDomains, when not empty, are the hosts (with their subdomains) a
	// next_link may point to.
	NextLinkDomains []string
	// HideExistence makes requestToken answer alike whether or not an account holds the
	// address, sending a notice where it would have refused.
	HideExistence bool
}

// Config configures the service.
type Config struct {
	// PublicBaseURL is where users reach the server; the submit URL and the links in
	// messages start with it.
	PublicBaseURL string
	// Media are the media the server validates; a medium missing here is answered with
	// M_THREEPID_MEDIUM_NOT_SUPPORTED.
	Media map[Medium]MediumConfig
	// Identity binds and unbinds addresses on identity servers; nil binds nothing, and
	// unbinds then report no-support for every recorded binding.
	Identity identity.Service
}

// Service runs validation sessions and the 3PIDs of accounts over the store.
type Service struct {
	cfg   Config
	store store.Store
	uia   *uia.Engine
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Service. engine authenticates POST /account/3pid/add; log receives the
// failures of notices, which never fail the operation they report.
func New(cfg Config, st store.Store, engine *uia.Engine, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.PublicBaseURL = strings.TrimSuffix(cfg.PublicBaseURL, "/") + "/"
	return &Service{cfg: cfg, store: st, uia: engine, log: log, now: time.Now}
}

// Enabled reports whether the server validates addresses of medium.
func (s *Service) Enabled(m Medium) bool {
	_, ok := s.cfg.Media[m]
	return ok
}

// Stages returns the UIA stages of the configured media.
func (s *Service) Stages() []uia.Stage {
	var out []uia.Stage
	for _, m := range []Medium{MediumEmail, MediumMSISDN} {
		if s.Enabled(m) {
			out = append(out, stage{s: s, medium: m})
		}
	}
	return out
}

// PathPrefix starts the paths of the submit URL and of the links in messages; they go
// on with the medium and /submitToken or /confirm.
const PathPrefix = "/_mxaccounts/validate/"

// SubmitURL returns the submit_url of the sessions of medium.
func (s *Service) SubmitURL(m Medium) string {
	return s.cfg.PublicBaseURL + strings.TrimPrefix(PathPrefix, "/") + string(m) +
		"/submitToken"
}

// linkURL returns the link of a message: the confirmation page of the session.
func (s *Service) linkURL(m Medium, sid, token string) string {
	q := url.Values{"sid": {sid}, "token": {token}}
	return s.cfg.PublicBaseURL + strings.TrimPrefix(PathPrefix, "/") + string(m) +
		"/confirm?" + q.Encode()
}
