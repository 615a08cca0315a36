// Package server assembles mxaccounts from its configuration: the store, the services,
// the HTTP handler and the background work, and runs it until its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/appservice"
	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/httpapi"
	"github.com/mxaccounts/mxaccounts/internal/identity"
	"github.com/mxaccounts/mxaccounts/internal/metrics"
	"github.com/mxaccounts/mxaccounts/internal/password"
	"github.com/mxaccounts/mxaccounts/internal/ratelimit"
	"github.com/mxaccounts/mxaccounts/internal/regtoken"
	"github.com/mxaccounts/mxaccounts/internal/signing"
	"github.com/mxaccounts/mxaccounts/internal/sms"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/internal/useradmin"
	"github.com/mxaccounts/mxaccounts/internal/web"
)

// janitorInterval is how often expired UIA sessions are cleared.
const janitorInterval = time.Minute

// Server is an assembled mxaccounts.
type Server struct {
	cfg     *config.Config
	store   *sqlstore.Store
	handler http.Handler
	log     *slog.Logger
	// ops serves /metrics, /health and /ready on opsListener; the listener is nil
	// when metrics.listen is empty.
	ops         http.Handler
	opsListener net.Listener
}

// OpenStore opens the database that cfg names, migrating it when the config says so.
func OpenStore(ctx context.Context, cfg *config.Config) (*sqlstore.Store, error) {
	return sqlstore.Open(ctx, storeOptions(cfg))
}

func storeOptions(cfg *config.Config) sqlstore.Options {
	return sqlstore.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir,
		MaxOpenConns: cfg.Database.MaxOpenConns, Migrate: cfg.Database.MigrateOnStart}
}

// New builds a server from cfg, which must be valid.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	reg, m := newRegistry()
	opts := storeOptions(cfg)
	opts.ObserveQuery = m.Query
	st, err := sqlstore.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := metrics.RegisterPools(reg, poolStats(st)); err != nil {
		st.Close()
		return nil, fmt.Errorf("register pool metrics: %w", err)
	}
	secret, err := cfg.Admin.Secret()
	if err != nil {
		st.Close()
		return nil, err
	}

	proxies, err := parsePrefixes(cfg.HTTP.TrustedProxies)
	if err != nil {
		st.Close()
		return nil, err
	}

	appServices, err := LoadAppServices(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	mailer, err := newMailer(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	texter, err := sms.New(cfg.SMS, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	key, err := loadSigningKey(cfg, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	idClient, err := newIdentityClient(cfg, key)
	if err != nil {
		st.Close()
		return nil, err
	}
	rec := audit.NewRecorder(st, log)
	svc := NewServicesWith(st, cfg, appServices, Options{Metrics: m, Audit: rec,
		SharedSecret: secret, EmailSender: mailer, SMSSender: texter,
		Identity: idClient, Log: log})
	accounts, devices := svc.Accounts, svc.Devices
	if err := accounts.EnsureAppServiceSenders(ctx); err != nil {
		st.Close()
		return nil, err
	}

	rl := cfg.RateLimits
	limiter := func(name string, r config.Rate) *ratelimit.Limiter {
		l := ratelimit.New(r.PerSecond, r.Burst, rl.Enabled)
		l.OnReject(func() { m.RateLimited(name) })
		return l
	}
	// One bucket of failed passwords per address, whether they come through /login,
	// a UIA stage or a fallback page.
	failedLogin := limiter("failed_login", rl.FailedLogin)
	api := httpapi.New(httpapi.Config{
		ServerName:          cfg.ServerName,
		PublicBaseURL:       cfg.PublicBaseURL,
		MaxBodyBytes:        cfg.HTTP.MaxBodyBytes,
		QueryToken:          cfg.Tokens.QueryParameter,
		RegistrationEnabled: cfg.Registration.Enabled,
		TrustedProxies:      proxies,
		Fallback: func(clientAddr func(*http.Request) string) http.Handler {
			return web.NewFallback(svc.UIA, web.Options{
				ServerName: cfg.ServerName, PublicBaseURL: cfg.PublicBaseURL,
				CaptchaVerifyURL: cfg.Registration.Captcha.VerifyURL,
				FailureLimiter:   failedLogin,
				ClientAddr:       clientAddr, Log: log,
			})
		},
		ServerKeys: signing.KeyHandler(cfg.ServerName, key, cfg.Identity.KeyValidity),
		Validation: web.NewValidation(svc.ThreePIDs, web.ValidationOptions{
			ServerName: cfg.ServerName, PublicBaseURL: cfg.PublicBaseURL, Log: log,
		}),
	}, httpapi.Services{
		Store:       st,
		Accounts:    accounts,
		Devices:     devices,
		RegTokens:   regtoken.New(st),
		AppServices: appServices,
		Limits: httpapi.Limiters{
			FailedLogin:       failedLogin,
			TokenValidity:     limiter("token_validity", rl.TokenValidity),
			Register:          limiter("register", rl.Register),
			RequestToken:      limiter("request_token", rl.RequestToken),
			PasswordHashing:   limiter("password_hashing", rl.PasswordHashing),
			Availability:      limiter("availability", rl.Availability),
			SharedSecretNonce: limiter("shared_secret_nonce", rl.SharedSecretNonce),
			UIASessions:       limiter("uia_sessions", rl.UIASessions),
		},
		ThreePIDs: svc.ThreePIDs,
		UserAdmin: svc.UserAdmin,
		Audit:     rec,
		Metrics:   m,
	}, log)

	s := &Server{cfg: cfg, store: st, handler: api.Handler(), log: log,
		ops: metrics.Handler(reg, st.Ping, log)}
	if cfg.Metrics.Listen != "" {
		// Listening here, not in Run, lets a taken port stop the start.
		if s.opsListener, err = net.Listen("tcp", cfg.Metrics.Listen); err != nil {
			st.Close()
			return nil, fmt.Errorf("listen on metrics.listen %s: %w", cfg.Metrics.Listen, err)
		}
	}
	return s, nil
}

// Services are the services that the server and the command-line tools share.
type Services struct {
	Accounts *account.Service
	Devices  *device.Service
	// UIA is the engine every UIA-protected endpoint and the fallback pages use.
	UIA *uia.Engine
	// UserAdmin carries out operators' actions on accounts.
	UserAdmin *useradmin.Service
	// Audit records security events (nil records none); code that adds or removes
	// 3PIDs records those events with it.
	Audit *audit.Recorder
	// Metrics counts what the services do (nil counts nothing); the email and SMS
	// senders count their messages with it.
	Metrics *metrics.Metrics
	// ThreePIDs runs 3PID validation sessions and the accounts' addresses.
	ThreePIDs *threepid.Service
}

// Options adds to the services what only some of their users need.
type Options struct {
	// Metrics receives the password hash times; nil for none.
	Metrics *metrics.Metrics
	// Audit is handed on in Services.Audit.
	Audit *audit.Recorder
	// SharedSecret enables shared-secret registration; "" leaves it off.
	SharedSecret string
	// EmailSender delivers email; nil validates no email address.
	EmailSender threepid.Sender
	// SMSSender delivers text messages; nil validates no phone number.
	SMSSender sms.Sender
	// Identity binds and unbinds addresses on identity servers; nil binds none.
	Identity identity.Service
	// Log receives what the services log, such as failed notices; nil discards it.
	Log *slog.Logger
}

// NewServices builds the services over st, without metrics, audit log or shared
// secret.
func NewServices(
	st store.Store, cfg *config.Config, appServices *appservice.Registry,
) *Services {
	return NewServicesWith(st, cfg, appServices, Options{})
}

// NewServicesWith builds the services over st with opts.
func NewServicesWith(
	st store.Store, cfg *config.Config, appServices *appservice.Registry, opts Options,
) *Services {
	a := cfg.Passwords.Argon2
	hasher := password.NewHasher(password.Params{MemoryKiB: a.MemoryKiB,
		Iterations: a.Iterations, Parallelism: a.Parallelism})
	if opts.Metrics != nil {
		hasher.Observe(opts.Metrics.PasswordHash)
	}
	devices := device.New(st, device.Config{
		AccessLifetime:     cfg.Tokens.AccessLifetime,
		RefreshLifetime:    cfg.Tokens.RefreshLifetime,
		LoginTokenLifetime: cfg.Tokens.LoginTokenLifetime,
	})
	terms := termsPolicies(cfg)
	cp := cfg.Registration.Captcha
	engine := uia.New(st, flows(cfg), cfg.UIA.SessionLifetime, uia.Dummy{},
		uia.RegistrationToken{}, uia.Terms{Policies: terms},
		uia.Recaptcha{SiteKey: cp.SiteKey, Secret: cp.Secret, VerifyURL: cp.VerifyURL})
	deny := make([]*regexp.Regexp, 0, len(cfg.Registration.DenyRegex))
	for _, re := range cfg.Registration.DenyRegex {
		deny = append(deny, regexp.MustCompile(re)) // validated with the config
	}
	threepids := newThreePIDs(st, cfg, engine, remotes(cfg, opts), opts.Log)
	accounts := account.New(account.Config{
		ServerName:          cfg.ServerName,
		RegistrationEnabled: cfg.Registration.Enabled,
		GuestsEnabled:       cfg.Registration.Guests,
		Reserved:            cfg.Registration.ReservedLocalparts,
		Deny:                deny,
		Terms:               terms,
		AppServices:         appServices,
		Policy:              password.Policy(cfg.Passwords.Policy),
		ThreePIDs:           threepids,
		FailedPasswords:     failedPasswords(st, cfg, opts.Metrics),
		Log:                 opts.Log,
	}, st, hasher, devices, engine)
	engine.AddStages(accounts.PasswordStage())
	admin := useradmin.New(useradmin.Config{ServerName: cfg.ServerName,
		SharedSecret: opts.SharedSecret, Unbinder: threepids}, st, accounts, devices, hasher)
	return &Services{Accounts: accounts, Devices: devices, UIA: engine, UserAdmin: admin,
		Audit: opts.Audit, Metrics: opts.Metrics, ThreePIDs: threepids}
}

// failedPasswords is the limit on wrong passwords per account, shared by every instance
// through st.
func failedPasswords(st store.Store, cfg *config.Config, m *metrics.Metrics) *ratelimit.Shared {
	r := cfg.RateLimits.FailedLoginAccount
	l := ratelimit.NewShared("failed_login_account", r.PerSecond, r.Burst,
		cfg.RateLimits.Enabled, st)
	if m != nil {
		l.OnReject(func() { m.RateLimited("failed_login_account") })
	}
	return l
}

// LoadAppServices reads the application-service registrations that cfg names; nil when
// there are none.
func LoadAppServices(cfg *config.Config) (*appservice.Registry, error) {
	files := cfg.Registration.AppServiceConfigFiles
	if len(files) == 0 {
		return nil, nil
	}
	return appservice.Load(cfg.ServerName, files)
}

// flows returns the UIA flows per operation that cfg asks for. Registration is one
// flow: the captcha first when enabled, then the token unless registration is open,
// then the terms when there are any, then the email stage when registration requires
// an address; m.login.dummy stands in for an empty flow. A password reset (no access
// token) may also prove the user with a validated email address or phone number.
func flows(cfg *config.Config) uia.Flows {
	var stages []string
	reg := cfg.Registration
	if reg.Captcha.Enabled {
		stages = append(stages, uia.TypeRecaptcha)
	}
	if !reg.Open {
		stages = append(stages, uia.TypeRegistrationToken)
	}
	if len(reg.Terms) > 0 {
		stages = append(stages, uia.TypeTerms)
	}
	if len(stages) == 0 {
		stages = []string{uia.TypeDummy}
	}
	register := threePIDFlows(cfg, [][]string{stages}, uia.OpRegister)

	password := [][]string{{account.TypePassword}}
	reset := threePIDFlows(cfg, password, uia.OpPasswordReset)
	return func(op uia.Operation) [][]string {
		switch op {
		case uia.OpRegister:
			return register
		case uia.OpPasswordReset:
			return reset
		}
		return password
	}
}

// Handler returns the client API handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Store returns the server's store.
func (s *Server) Store() *sqlstore.Store { return s.store }

// MetricsAddr returns the address of the metrics listener, "" when there is none.
func (s *Server) MetricsAddr() string {
	if s.opsListener == nil {
		return ""
	}
	return s.opsListener.Addr().String()
}

// Close releases the store and the metrics listener if Run never served on it.
func (s *Server) Close() error {
	if s.opsListener != nil {
		_ = s.opsListener.Close() // closed already once Run has served on it
	}
	return s.store.Close()
}

// Run serves on ln until ctx ends, then lets in-flight requests finish within the
// configured shutdown timeout. Before serving it prints the bootstrap token to banner
// if the server has no way to register yet.
func (s *Server) Run(ctx context.Context, ln net.Listener, banner io.Writer) error {
	if err := s.bootstrap(ctx, banner); err != nil {
		return err
	}
	go s.janitor(ctx)

	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving the client API", "listen", ln.Addr().String(),
		"server_name", s.cfg.ServerName, "public_baseurl", s.cfg.PublicBaseURL)
	ops := s.serveOps()

	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	s.log.Info("shutting down; finishing requests in flight",
		"timeout", s.cfg.HTTP.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if ops != nil {
		_ = ops.Shutdown(sctx) // scrapes need not finish
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveOps serves /metrics, /health and /ready on the metrics listener, if there is
// one, and returns its server for the shutdown; nil when there is none.
func (s *Server) serveOps() *http.Server {
	if s.opsListener == nil {
		return nil
	}
	srv := &http.Server{
		Handler:           s.ops,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(s.opsListener); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("the metrics listener stopped", "error", err)
		}
	}()
	s.log.Info("serving metrics, health and readiness",
		"listen", s.opsListener.Addr().String())
	return srv
}

// janitor clears expired UIA sessions, which gives back their token reservations.
func (s *Server) janitor(ctx context.Context) {
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.store.DeleteExpiredUIASessions(ctx, time.Now().UnixMilli())
		if err != nil && ctx.Err() == nil {
			s.log.Warn("could not clear expired UIA sessions; retrying in a minute",
				"error", err)
		} else if n > 0 {
			s.log.Debug("cleared expired UIA sessions", "count", n)
		}
		s.sweepOperatorTables(ctx, time.Now())
		s.sweepValidationSessions(ctx, time.Now())
	}
}

func termsPolicies(cfg *config.Config) []uia.Policy {
	var out []uia.Policy
	for _, p := range cfg.Registration.Terms {
		langs := map[string]uia.PolicyText{}
		for lang, t := range p.Languages {
			langs[lang] = uia.PolicyText{Name: t.Name, URL: t.URL}
		}
		out = append(out, uia.Policy{ID: p.ID, Version: p.Version, Languages: langs})
	}
	return out
}

func parsePrefixes(items []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range items {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("http.trusted_proxies: %q is neither an address "+
					"nor a CIDR prefix", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}
