// Package config holds the typed configuration tree of mxaccounts: its defaults, loading
// from a YAML file, overrides from the environment and validation.
package config

import (
	"time"
)

// Config is the whole configuration. The zero value is not usable; start from Default.
type Config struct {
	// ServerName is the domain part of every user ID this server creates.
	ServerName string `yaml:"server_name"`
	// PublicBaseURL is where clients reach the server; it appears in discovery answers.
	// Empty means http://<listen>/.
	PublicBaseURL string `yaml:"public_baseurl"`
	// Listen is the TCP address of the client API listener.
	Listen string `yaml:"listen"`
	// DataDir holds the SQLite database and other files the server keeps.
	DataDir string `yaml:"data_dir"`
	// File is the config file this came from, if any, for hints that name it; not a key.
	File string `yaml:"-"`

	Database     Database     `yaml:"database"`
	HTTP         HTTP         `yaml:"http"`
	Registration Registration `yaml:"registration"`
	Passwords    Passwords    `yaml:"passwords"`
	Tokens       Tokens       `yaml:"tokens"`
	UIA          UIA          `yaml:"uia"`
	RateLimits   RateLimits   `yaml:"rate_limits"`
	Email        Email        `yaml:"email"`
	SMS          SMS          `yaml:"sms"`
	Identity     Identity     `yaml:"identity"`
	Log          Log          `yaml:"log"`
	Admin        Admin        `yaml:"admin"`
	Metrics      Metrics      `yaml:"metrics"`
	Audit        Audit        `yaml:"audit"`
}

// Database selects and tunes the store.
type Database struct {
	// URL is a postgres:// URL; empty means the embedded SQLite file in DataDir.
	URL string `yaml:"url"`
	// MaxOpenConns caps the connection pool (PostgreSQL) or the reader pool (SQLite).
	MaxOpenConns int `yaml:"max_open_conns"`
	// MigrateOnStart applies pending schema migrations when the server starts.
	MigrateOnStart bool `yaml:"migrate_on_start"`
}

// HTTP tunes the client API listener.
type HTTP struct {
	// MaxBodyBytes is the largest request body accepted; larger ones get 413 M_TOO_LARGE.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ShutdownTimeout bounds how long in-flight requests may run after a stop signal.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TrustedProxies lists addresses whose X-Forwarded-For header names the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Registration decides who may create accounts.
type Registration struct {
	// Enabled allows POST /register for ordinary users at all.
	Enabled bool `yaml:"enabled"`
	// Open offers the one-stage m.login.dummy flow; otherwise a registration token is
	// needed.
	Open bool `yaml:"open"`
	// Guests allows POST /register?kind=guest.
	Guests bool `yaml:"guests"`
	// ReservedLocalparts can never be registered by users.
	ReservedLocalparts []string `yaml:"reserved_localparts"`
	// BootstrapToken makes the server print a one-use admin registration token at start
	// while it has no account and no valid token.
	BootstrapToken bool `yaml:"bootstrap_token"`
	// DenyRegex lists regular expressions; a localpart matching any cannot be registered.
	DenyRegex []string `yaml:"deny_regex"`
	// Terms are the policies a new user must accept (m.login.terms); none by default.
	Terms []TermsPolicy `yaml:"terms"`
	// Captcha puts an m.login.recaptcha stage in front of registration.
	Captcha Captcha `yaml:"captcha"`
	// AppServiceConfigFiles are application-service registration files (the YAML format
	// Synapse and Dendrite read).
	AppServiceConfigFiles []string `yaml:"appservice_config_files"`
}

// TermsPolicy is one versioned policy document, with its name and URL per language.
type TermsPolicy struct {
	// ID names the policy, such as privacy_policy (opaque-ID grammar).
	ID string `yaml:"id"`
	// Version changes whenever the text does; acceptances are recorded per version.
	Version string `yaml:"version"`
	// Languages maps a language tag (en, fr) to the policy's name and URL in it.
	Languages map[string]TermsText `yaml:"languages"`
}

// TermsText is a policy's name and URL in one language.
type TermsText struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
}

// Captcha configures a reCAPTCHA-shaped verifier: Google reCAPTCHA, hCaptcha and
// Cloudflare Turnstile all take the secret and the response at a verify URL and answer
// {"success": bool}.
type Captcha struct {
	Enabled bool `yaml:"enabled"`
	// SiteKey is public: the challenge gives it to the client's widget.
	SiteKey string `yaml:"site_key"`
	// Secret authenticates the server at VerifyURL.
	Secret string `yaml:"secret"`
	// VerifyURL is the provider's siteverify endpoint.
	VerifyURL string `yaml:"verify_url"`
}

// Passwords sets how passwords are hashed and which new passwords are accepted.
type Passwords struct {
	Argon2 Argon2 `yaml:"argon2"`
	Policy Policy `yaml:"policy"`
}

// Policy is the rule set for new passwords, at registration and at a password change; a
// password that breaks it gets 400 M_WEAK_PASSWORD. Its fields match password.Policy one
// for one, so it converts to one.
type Policy struct {
	// MinLength is the least number of characters (Unicode code points).
	MinLength int `yaml:"min_length"`
	// RequireDigit asks for at least one digit.
	RequireDigit bool `yaml:"require_digit"`
	// RequireLowercase asks for at least one lowercase letter.
	RequireLowercase bool `yaml:"require_lowercase"`
	// RequireUppercase asks for at least one uppercase letter.
	RequireUppercase bool `yaml:"require_uppercase"`
	// RequireSymbol asks for at least one character that is neither letter nor digit.
	RequireSymbol bool `yaml:"require_symbol"`
	// MinZxcvbnScore is the least zxcvbn strength score, 0 to 4; 0 turns the check off.
	MinZxcvbnScore int `yaml:"min_zxcvbn_score"`
	// RejectBreached refuses the 10,000 most common leaked passwords (a bundled list).
	RejectBreached bool `yaml:"reject_breached"`
}

// Argon2 holds the argon2id cost parameters for new password hashes.
type Argon2 struct {
	MemoryKiB   uint32 `yaml:"memory_kib"`
	Iterations  uint32 `yaml:"iterations"`
	Parallelism uint8  `yaml:"parallelism"`
}

// Tokens sets how access tokens are accepted and how long tokens live.
type Tokens struct {
	// QueryParameter accepts the deprecated ?access_token= query parameter, which every
	// spec version up to v1.19 requires.
	QueryParameter bool `yaml:"query_parameter"`
	// AccessLifetime is the lifetime of the access tokens of clients that asked for a
	// refresh token (refresh_token: true); other clients' access tokens never expire.
	AccessLifetime time.Duration `yaml:"access_lifetime"`
	// RefreshLifetime is the lifetime of a refresh token from its issue; 0 means never.
	RefreshLifetime time.Duration `yaml:"refresh_lifetime"`
	// LoginTokenLifetime is the lifetime of a login token from
	// POST /_matrix/client/v1/login/get_token.
	LoginTokenLifetime time.Duration `yaml:"login_token_lifetime"`
}

// UIA tunes User-Interactive Authentication.
type UIA struct {
	// SessionLifetime is how long a UIA session may take from its first request.
	SessionLifetime time.Duration `yaml:"session_lifetime"`
}

// RateLimits sets the limiters on endpoints that can be brute-forced.
type RateLimits struct {
	// Enabled turns every limiter on; benchmarks and test runs from one address turn it
	// off.
	Enabled bool `yaml:"enabled"`
	// FailedLogin limits wrong passwords per client address.
	FailedLogin Rate `yaml:"failed_login"`
	// FailedLoginAccount limits wrong passwords per account (or per address for one no
	// account holds), from any client. Its buckets live in the database, so every
	// instance counts against the same ones.
	FailedLoginAccount Rate `yaml:"failed_login_account"`
	// TokenValidity limits registration-token validity checks per client address.
	TokenValidity Rate `yaml:"token_validity"`
	// Register limits accounts registered and failed UIA stages of registration per
	// client address.
	Register Rate `yaml:"register"`
	// RequestToken limits the 3PID validation messages requested (requestToken), per
	// client address and, separately, per email address or phone number.
	RequestToken Rate `yaml:"request_token"`
	// PasswordHashing limits the requests that make the server hash a new password
	// (registration, password change), per client address: each costs memory_kib and
	// tens of milliseconds of CPU.
	PasswordHashing Rate `yaml:"password_hashing"`
	// Availability limits GET /register/available per client address.
	Availability Rate `yaml:"availability"`
	// UIASessions limits the UIA sessions started per client address: each is a row in
	// the database until it expires.
	UIASessions Rate `yaml:"uia_sessions"`
	// SharedSecretNonce limits the nonces of shared-secret registration
	// (GET /_synapse/admin/v1/register) per client address: each is a stored row.
	SharedSecretNonce Rate `yaml:"shared_secret_nonce"`
}

// Rate is a token bucket: PerSecond events refill it, Burst is its size.
type Rate struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// Log sets the structured log.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// Admin configures the operators' tools.
type Admin struct {
	// SharedSecret enables shared-secret registration at /_synapse/admin/v1/register:
	// whoever knows it can create accounts, admins included. Empty disables it unless
	// SharedSecretFile names a file.
	SharedSecret string `yaml:"shared_secret"`
	// SharedSecretFile is a file whose content (without a trailing newline) is the
	// shared secret, so that the secret stays out of the config file. Set at most one of
	// the two.
	SharedSecretFile string `yaml:"shared_secret_file"`
}

// Metrics configures the operators' listener.
type Metrics struct {
	// Listen is the TCP address of the listener serving /metrics (Prometheus), /health
	// and /ready; empty turns it off. Keep it apart from the client API.
	Listen string `yaml:"listen"`
}

// Audit configures the log of security events.
type Audit struct {
	// Retention is how long audit events are kept; older ones are deleted. 0 keeps them
	// for ever.
	Retention time.Duration `yaml:"retention"`
}

// Default returns the configuration used when no file and no environment say otherwise:
// a server for "localhost" on 127.0.0.1:8008 with its data in ./mxaccounts-data.
func Default() *Config {
	return &Config{
		ServerName: "localhost",
		Listen:     "127.0.0.1:8008",
		DataDir:    "mxaccounts-data",
		Database:   Database{MaxOpenConns: 16, MigrateOnStart: true},
		HTTP: HTTP{
			MaxBodyBytes:    64 << 10,
			ShutdownTimeout: 15 * time.Second,
			TrustedProxies:  []string{},
		},
		Registration: Registration{
			Enabled:        true,
			BootstrapToken: true,
			ReservedLocalparts: []string{
				"admin", "administrator", "root", "postmaster", "abuse", "support",
				"security", "hostmaster", "webmaster", "noreply",
			},
			DenyRegex: []string{},
			Terms:     []TermsPolicy{},
			Captcha: Captcha{
				VerifyURL: "https://www.google.com/recaptcha/api/siteverify",
			},
			AppServiceConfigFiles: []string{},
		},
		Passwords: Passwords{
			Argon2: Argon2{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1},
			Policy: Policy{MinLength: 8, MinZxcvbnScore: 2, RejectBreached: true},
		},
		Tokens: Tokens{
			QueryParameter:     true,
			AccessLifetime:     5 * time.Minute,
			RefreshLifetime:    720 * time.Hour,
			LoginTokenLifetime: 2 * time.Minute,
		},
		UIA: UIA{SessionLifetime: 30 * time.Minute},
		RateLimits: RateLimits{
			Enabled:     true,
			FailedLogin: Rate{PerSecond: 0.1, Burst: 5},
			// One guess every 20 seconds after ten: slow for a guesser, while the owner
			// of an account under attack waits at most 20 seconds to try again.
			FailedLoginAccount: Rate{PerSecond: 0.05, Burst: 10},
			TokenValidity:      Rate{PerSecond: 0.2, Burst: 10},
			Register:           Rate{PerSecond: 1, Burst: 20},
			RequestToken:       Rate{PerSecond: 0.05, Burst: 10},
			PasswordHashing:    Rate{PerSecond: 5, Burst: 100},
			Availability:       Rate{PerSecond: 10, Burst: 100},
			// One nonce per account registered: as many as register allows.
			SharedSecretNonce: Rate{PerSecond: 1, Burst: 20},
			// A session per registration, password change or device deletion.
			UIASessions: Rate{PerSecond: 1, Burst: 100},
		},
		Email: Email{
			SMTPTimeout:      15 * time.Second,
			TokenLifetime:    time.Hour,
			MaxTokenAttempts: 5,
			AllowedDomains:   []string{},
			DeniedDomains:    []string{},
			NextLinkDomains:  []string{},
		},
		Log:      Log{Level: "info", Format: "text"},
		Audit:    Audit{Retention: 90 * 24 * time.Hour},
		SMS:      DefaultSMS(),
		Identity: DefaultIdentity(),
	}
}
