package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
)

var opaqueID = regexp.MustCompile(`^[0-9A-Za-z._~-]{1,255}$`)

// Derive fills in the values that default to others: public_baseurl from listen. Call
// it after every override and before Validate.
func (c *Config) Derive() {
	if c.PublicBaseURL == "" {
		c.PublicBaseURL = "http://" + c.Listen + "/"
	}
	if !strings.HasSuffix(c.PublicBaseURL, "/") {
		c.PublicBaseURL += "/"
	}
}

// Validate reports every problem with c at once, one line each, joined into one error.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.ServerName == "" {
		add("server_name: must not be empty")
	} else if strings.ContainsAny(c.ServerName, "/@ ") {
		add("server_name: %q is not a host name with an optional port", c.ServerName)
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil ||
		(u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" {
		add("public_baseurl: %q is not an http or https URL", c.PublicBaseURL)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen: %q is not host:port: %v", c.Listen, err)
	}
	if c.DataDir == "" {
		add("data_dir: must not be empty")
	}

	if c.Database.URL != "" && !strings.HasPrefix(c.Database.URL, "postgres://") &&
		!strings.HasPrefix(c.Database.URL, "postgresql://") {
		add("database.url: only postgres:// URLs are supported (empty selects SQLite)")
	}
	if c.Database.MaxOpenConns < 1 {
		add("database.max_open_conns: must be at least 1, not %d", c.Database.MaxOpenConns)
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		add("http.max_body_bytes: must be at least 1024, not %d", c.HTTP.MaxBodyBytes)
	}
	if c.UIA.SessionLifetime <= 0 {
		add("uia.session_lifetime: must be positive")
	}
	tk := c.Tokens
	if tk.AccessLifetime <= 0 {
		add("tokens.access_lifetime: must be positive")
	}
	if tk.RefreshLifetime < 0 ||
		(tk.RefreshLifetime > 0 && tk.RefreshLifetime <= tk.AccessLifetime) {
		add("tokens.refresh_lifetime: must be 0 (never expires) or longer than "+
			"tokens.access_lifetime, not %s", tk.RefreshLifetime)
	}
	if tk.LoginTokenLifetime <= 0 {
		add("tokens.login_token_lifetime: must be positive")
	}

	a := c.Passwords.Argon2
	if a.MemoryKiB < 8 || a.Iterations < 1 || a.Parallelism < 1 {
		add("passwords.argon2: memory_kib must be at least 8, iterations and parallelism " +
			"at least 1")
	}
	pol := c.Passwords.Policy
	if pol.MinLength < 1 || pol.MinLength > 1024 {
		add("passwords.policy.min_length: must be between 1 and 1024, not %d", pol.MinLength)
	}
	if pol.MinZxcvbnScore < 0 || pol.MinZxcvbnScore > 4 {
		add("passwords.policy.min_zxcvbn_score: must be between 0 and 4, not %d",
			pol.MinZxcvbnScore)
	}
	for name, r := range map[string]Rate{
		"failed_login": c.RateLimits.FailedLogin, "token_validity": c.RateLimits.TokenValidity,
		"failed_login_account": c.RateLimits.FailedLoginAccount,
		"register":             c.RateLimits.Register, "request_token": c.RateLimits.RequestToken,
		"password_hashing":    c.RateLimits.PasswordHashing,
		"availability":        c.RateLimits.Availability,
		"shared_secret_nonce": c.RateLimits.SharedSecretNonce,
		"uia_sessions":        c.RateLimits.UIASessions,
	} {
		if r.PerSecond <= 0 || r.Burst < 1 {
			add("rate_limits.%s: per_second must be positive and burst at least 1", name)
		}
	}

	for i, re := range c.Registration.DenyRegex {
		if _, err := regexp.Compile(re); err != nil {
			add("registration.deny_regex[%d]: %v", i, err)
		}
	}
	for i, p := range c.Registration.Terms {
		if !opaqueID.MatchString(p.ID) || !opaqueID.MatchString(p.Version) ||
			len(p.Languages) == 0 {
			add("registration.terms[%d]: id and version must be 1-255 characters of "+
				"A-Z a-z 0-9 . _ ~ -, and at least one language is needed", i)
		}
		for lang, t := range p.Languages {
			if u, err := url.Parse(t.URL); err != nil || t.Name == "" ||
				(u.Scheme != "http" && u.Scheme != "https") {
				add("registration.terms[%d].languages.%s: needs a name and an http(s) url",
					i, lang)
			}
		}
	}
	if cp := c.Registration.Captcha; cp.Enabled && (cp.SiteKey == "" || cp.Secret == "" ||
		cp.VerifyURL == "") {
		add("registration.captcha: site_key, secret and verify_url are needed when enabled")
	}

	if c.Admin.SharedSecret != "" && c.Admin.SharedSecretFile != "" {
		add("admin: set shared_secret or shared_secret_file, not both")
	}
	if m := c.Metrics.Listen; m != "" {
		// Port 0 picks a free port for each, so only fixed ports can clash.
		if _, port, err := net.SplitHostPort(m); err != nil {
			add("metrics.listen: %q is not host:port: %v", m, err)
		} else if m == c.Listen && port != "0" {
			add("metrics.listen: must differ from listen (%s)", c.Listen)
		}
	}
	if c.Audit.Retention < 0 {
		add("audit.retention: must be 0 (keep for ever) or positive, not %s",
			c.Audit.Retention)
	}

	c.validateEmail(add)
	for _, err := range []error{c.SMS.Validate(), c.Identity.Validate()} {
		if err != nil {
			errs = append(errs, err)
		}
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.Log.Level)); err != nil {
		add("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		add("log.format: %q is not text or json", c.Log.Format)
	}
	return errors.Join(errs...)
}
