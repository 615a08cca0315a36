// Package httpapi serves the Client-Server API endpoints of mxaccounts over net/http:
// routing (with the legacy r0 prefix beside v3), middleware, JSON decoding with the
// spec's errors, authentication of access tokens, and one file per endpoint family.
// Handlers decode and validate, call a service, and encode its answer or map its error;
// they never touch SQL.
package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/appservice"
	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/metrics"
	"github.com/mxaccounts/mxaccounts/internal/ratelimit"
	"github.com/mxaccounts/mxaccounts/internal/regtoken"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/internal/useradmin"
)

// Config is what the handlers need to know of the configuration.
type Config struct {
	ServerName    string
	PublicBaseURL string
	MaxBodyBytes  int64
	// QueryToken accepts the deprecated ?access_token= parameter.
	QueryToken bool
	// RegistrationEnabled answers the token validity check; off means 403.
	RegistrationEnabled bool
	// TrustedProxies may name the client in X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// Fallback builds the handler of the UIA fallback pages
	// (/auth/{authType}/fallback/web), given the function that finds a request's client
	// address for rate limits; nil serves no fallback pages.
	Fallback func(clientAddr func(*http.Request) string) http.Handler
	// Validation serves the confirmation page that the link of a 3PID validation
	// message opens (/_mxaccounts/validate/{medium}/confirm); nil serves none.
	Validation http.Handler
	// ServerKeys serves the server's signing keys at GET /_matrix/key/v2/server, where
	// identity servers find the key of signed unbinds; nil serves none.
	ServerKeys http.Handler
}

// Limiters are the rate limiters of the endpoints that can be brute-forced.
type Limiters struct {
	FailedLogin   *ratelimit.Limiter
	TokenValidity *ratelimit.Limiter
	Register      *ratelimit.Limiter
	// RequestToken limits validation messages per client address and per address.
	RequestToken *ratelimit.Limiter
	// PasswordHashing limits requests that carry a new password to hash.
	PasswordHashing *ratelimit.Limiter
	// Availability limits username availability checks.
	Availability *ratelimit.Limiter
	// SharedSecretNonce limits the nonces of shared-secret registration, each a stored
	// row.
	SharedSecretNonce *ratelimit.Limiter
	// UIASessions limits the UIA sessions a client address starts.
	UIASessions *ratelimit.Limiter
}

// Server holds the services the handlers call.
type Server struct {
	cfg       Config
	store     store.Store
	accounts  *account.Service
	devices   *device.Service
	regTokens *regtoken.Service
	// appServices is nil when no application service is registered.
	appServices *appservice.Registry
	limits      Limiters
	log         *slog.Logger
	// threepids serves validation sessions and the account's 3PIDs; nil routes none.
	threepids *threepid.Service
	// userAdmin serves the admin API for accounts; nil serves none of it.
	userAdmin *useradmin.Service
	// audit and metrics may be nil: nothing is recorded then.
	audit   *audit.Recorder
	metrics *metrics.Metrics
}

// Services are what the handlers call.
type Services struct {
	Store     store.Store
	Accounts  *account.Service
	Devices   *device.Service
	RegTokens *regtoken.Service
	// AppServices is nil when no application service is registered.
	AppServices *appservice.Registry
	Limits      Limiters
	// ThreePIDs serves validation sessions and the account's 3PIDs; nil routes none of
	// their endpoints.
	ThreePIDs *threepid.Service
	// UserAdmin serves the admin API for accounts and shared-secret registration; nil
	// serves none of it.
	UserAdmin *useradmin.Service
	// Audit records security events; nil records none.
	Audit *audit.Recorder
	// Metrics counts requests, logins and registrations; nil counts nothing.
	Metrics *metrics.Metrics
}

// New returns a Server.
func New(cfg Config, svc Services, log *slog.Logger) *Server {
	cfg.PublicBaseURL = strings.TrimSuffix(cfg.PublicBaseURL, "/") + "/"
	return &Server{cfg: cfg, store: svc.Store, accounts: svc.Accounts, devices: svc.Devices,
		regTokens: svc.RegTokens, appServices: svc.AppServices, limits: svc.Limits,
		log: log, userAdmin: svc.UserAdmin, audit: svc.Audit, metrics: svc.Metrics,
		threepids: svc.ThreePIDs}
}

// Handler returns the whole client API: routes wrapped in the middleware chain,
// outermost first: recover, request log, CORS, body size cap.
func (s *Server) Handler() http.Handler {
	rt := newRouter()
	s.routes(rt)

	var h http.Handler = rt
	h = withAcceptLanguage(h)
	h = s.limitBody(h)
	h = cors(h)
	h = s.logRequests(h)
	h = s.recoverPanics(h)
	return h
}

func (s *Server) routes(rt *router) {
	rt.handle("GET", "/.well-known/matrix/client", s.public(s.wellKnown))
	rt.handle("GET", "/_matrix/client/versions", s.public(s.versions))

	rt.client("POST", "/register", s.public(s.register))
	rt.client("GET", "/register/available", s.public(s.registerAvailable))
	rt.handle("GET", "/_matrix/client/v1/register/m.login.registration_token/validity",
		s.public(s.registrationTokenValidity))

	rt.client("GET", "/login", s.public(s.loginFlows))
	rt.client("POST", "/login", s.public(s.login))
	rt.client("POST", "/logout", s.authed(s.logout, allowLocked, allowExpired))
	// Not with an expired token: one leaked long after it expired would end every
	// session of the user. Ending its own session is all an expired token may do.
	rt.client("POST", "/logout/all", s.authed(s.logoutAll, allowLocked))
	rt.client("GET", "/account/whoami", s.authed(s.whoami, allowGuests))
	rt.client("POST", "/refresh", s.public(s.refresh))
	rt.handle("POST", "/_matrix/client/v1/login/get_token", s.authed(s.getLoginToken))

	rt.client("GET", "/devices", s.authed(s.listDevices, allowGuests))
	rt.client("GET", "/devices/{deviceId}", s.authed(s.getDevice, allowGuests))
	rt.client("PUT", "/devices/{deviceId}", s.authed(s.putDevice, allowGuests))
	rt.client("DELETE", "/devices/{deviceId}", s.authed(s.deleteDevice))
	rt.client("POST", "/delete_devices", s.authed(s.deleteDevices))

	rt.client("POST", "/account/password", s.public(s.changePassword))
	rt.client("POST", "/account/deactivate", s.public(s.deactivate))
	rt.client("GET", "/capabilities", s.authed(s.capabilities, allowGuests))

	if s.cfg.Fallback != nil {
		fallback := s.cfg.Fallback(s.clientAddr)
		rt.client("GET", "/auth/{authType}/fallback/web", fallback)
		rt.client("POST", "/auth/{authType}/fallback/web", fallback)
	}

	if s.cfg.ServerKeys != nil {
		rt.handle("GET", "/_matrix/key/v2/server", s.cfg.ServerKeys)
	}
	s.threepidRoutes(rt)
	s.adminRoutes(rt)
}
