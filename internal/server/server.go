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
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/httpapi"
	"github.com/mxaccounts/mxaccounts/internal/password"
	"github.com/mxaccounts/mxaccounts/internal/ratelimit"
	"github.com/mxaccounts/mxaccounts/internal/regtoken"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/uia"
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
}

// OpenStore opens the database that cfg names, migrating it when the config says so.
func OpenStore(ctx context.Context, cfg *config.Config) (*sqlstore.Store, error) {
	return sqlstore.Open(ctx, sqlstore.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir,
		MaxOpenConns: cfg.Database.MaxOpenConns, Migrate: cfg.Database.MigrateOnStart})
}

// New builds a server from cfg, which must be valid.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	st, err := OpenStore(ctx, cfg)
	if err != nil {
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
	svc := NewServices(st, cfg, appServices)
	accounts, devices := svc.Accounts, svc.Devices
	if err := accounts.EnsureAppServiceSenders(ctx); err != nil {
		st.Close()
		return nil, err
	}

	rl := cfg.RateLimits
	limiter := func(r config.Rate) *ratelimit.Limiter {
		return ratelimit.New(r.PerSecond, r.Burst, rl.Enabled)
	}
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
				FailureLimiter:   limiter(rl.FailedLogin), ClientAddr: clientAddr, Log: log,
			})
		},
	}, httpapi.Services{
		Store:       st,
		Accounts:    accounts,
		Devices:     devices,
		RegTokens:   regtoken.New(st),
		AppServices: appServices,
		Limits: httpapi.Limiters{
			FailedLogin:   limiter(rl.FailedLogin),
			TokenValidity: limiter(rl.TokenValidity),
			Register:      limiter(rl.Register),
		},
	}, log)

	return &Server{cfg: cfg, store: st, handler: api.Handler(), log: log}, nil
}

// Services are the services that the server and the command-line tools share.
type Services struct {
	Accounts *account.Service
	Devices  *device.Service
	// UIA is the engine every UIA-protected endpoint and the fallback pages use.
	UIA *uia.Engine
}

// NewServices builds the services over st.
func NewServices(
	st store.Store, cfg *config.Config, appServices *appservice.Registry,
) *Services {
	a := cfg.Passwords.Argon2
	hasher := password.NewHasher(password.Params{MemoryKiB: a.MemoryKiB,
		Iterations: a.Iterations, Parallelism: a.Parallelism})
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
	accounts := account.New(account.Config{
		ServerName:          cfg.ServerName,
		RegistrationEnabled: cfg.Registration.Enabled,
		GuestsEnabled:       cfg.Registration.Guests,
		Reserved:            cfg.Registration.ReservedLocalparts,
		Deny:                deny,
		Terms:               terms,
		AppServices:         appServices,
		Policy:              password.Policy(cfg.Passwords.Policy),
	}, st, hasher, devices, engine)
	engine.AddStages(accounts.PasswordStage())
	return &Services{Accounts: accounts, Devices: devices, UIA: engine}
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
// then the terms when there are any; m.login.dummy stands in for an empty flow.
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
	register := [][]string{stages}

	password := [][]string{{account.TypePassword}}
	return func(op uia.Operation) [][]string {
		if op == uia.OpRegister {
			return register
		}
		return password
	}
}

// Handler returns the client API handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Store returns the server's store.
func (s *Server) Store() *sqlstore.Store { return s.store }

// Close releases the store.
func (s *Server) Close() error { return s.store.Close() }

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

	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	s.log.Info("shutting down; finishing requests in flight",
		"timeout", s.cfg.HTTP.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
