// Package testserver starts a real mxaccounts HTTP server on a loopback port for tests,
// on a fresh SQLite data directory or a fresh PostgreSQL database, with cheap password
// hashing and, unless a test asks for them, no rate limits.
package testserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/server"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
)

// Server is a running test server.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT, without a trailing slash.
	URL string
	// Config is the configuration it runs with.
	Config *config.Config
	// Store is its store, for setting up and checking state.
	Store store.Store
	// MetricsURL is the base URL of the metrics listener (/metrics, /health, /ready),
	// or "" without WithMetrics.
	MetricsURL string
}

// Option changes the configuration before the server starts.
type Option func(*config.Config)

// WithGuests turns guest registration on.
func WithGuests() Option { return func(c *config.Config) { c.Registration.Guests = true } }

// WithOpenRegistration offers the m.login.dummy registration flow.
func WithOpenRegistration() Option { return func(c *config.Config) { c.Registration.Open = true } }

// WithRateLimits turns the rate limiters on with the default rates.
func WithRateLimits() Option { return func(c *config.Config) { c.RateLimits.Enabled = true } }

// WithDatabase runs the server on the PostgreSQL database at url instead of SQLite.
func WithDatabase(url string) Option { return func(c *config.Config) { c.Database.URL = url } }

// WithMetrics starts the metrics listener on a loopback port; see Server.MetricsURL.
func WithMetrics() Option {
	return func(c *config.Config) { c.Metrics.Listen = "127.0.0.1:0" }
}

// WithConfig applies any change to the configuration.
func WithConfig(fn func(*config.Config)) Option { return Option(fn) }

// Start starts a server and stops it when the test ends. Its log goes to the test log
// when the test runs with -v, and is discarded otherwise.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	cfg.Passwords.Argon2 = config.Argon2{MemoryKiB: 64, Iterations: 1, Parallelism: 1}
	cfg.RateLimits.Enabled = false
	cfg.Registration.BootstrapToken = false
	cfg.Log.Level = "debug"
	for _, o := range opts {
		o(cfg)
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	url := "http://" + ln.Addr().String()
	if cfg.PublicBaseURL == "" {
		cfg.PublicBaseURL = url + "/"
	}
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test server configuration: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, logger(t))
	if err != nil {
		cancel()
		t.Fatalf("build test server: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("test server stopped with: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("test server did not stop within 20s")
		}
		srv.Close()
	})
	out := &Server{URL: url, Config: cfg, Store: srv.Store()}
	if addr := srv.MetricsAddr(); addr != "" {
		out.MetricsURL = "http://" + addr
	}
	return out
}

// RegistrationToken creates a registration token with unlimited uses and returns it.
func (s *Server) RegistrationToken(t testing.TB) string {
	t.Helper()
	tok := &store.RegistrationToken{Token: token.RegistrationToken(),
		CreatedMS: time.Now().UnixMilli()}
	if err := s.Store.CreateRegistrationToken(context.Background(), tok); err != nil {
		t.Fatalf("create registration token: %v", err)
	}
	return tok.Token
}

func logger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{
		Level: slog.LevelDebug}))
}

// testWriter sends log lines to t.Log, so they appear with the test that made them.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}
