package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"time"
)

// The schemes of email.smtp_url.
const (
	// SchemeSMTP connects in plain text and upgrades with STARTTLS when the server offers
	// it (port 587 by default).
	SchemeSMTP = "smtp"
	// SchemeSMTPS connects with TLS from the first byte (port 465 by default).
	SchemeSMTPS = "smtps"
	// SchemeSMTPInsecure never encrypts; it is refused for anything but a loopback host,
	// and serves test servers such as Mailpit (port 25 by default).
	SchemeSMTPInsecure = "smtp+insecure"
)

// Email configures email: validation of addresses (registration, password reset, adding
// an address to an account), logins by address, and notices to the account's addresses.
// Email is on when SMTPURL is set.
type Email struct {
	// SMTPURL is the submission server: smtp://user:pass@host:port (STARTTLS when
	// offered), smtps://user:pass@host:port (implicit TLS) or smtp+insecure://host:port
	// (no TLS, loopback only). Empty turns email off.
	SMTPURL string `yaml:"smtp_url"`
	// SMTPTimeout bounds connecting to the server and sending one message.
	SMTPTimeout time.Duration `yaml:"smtp_timeout"`
	// From is the sender, a bare address or "Name <address>".
	From string `yaml:"from"`
	// AppName names the service in messages; empty means the server name.
	AppName string `yaml:"app_name"`
	// TemplatesDir holds templates that replace the built-in ones file by file, laid out
	// as the built-in catalogue is (<language>/<message>.txt and .html, subjects.txt);
	// a new language directory adds a language. Empty uses the built-in ones only.
	TemplatesDir string `yaml:"templates_dir"`
	// TokenLifetime is how long a validation link and code work after they were sent,
	// and how long a validated address may then be used.
	TokenLifetime time.Duration `yaml:"token_lifetime"`
	// MaxTokenAttempts is how many tokens may be submitted for one message before the
	// validation session is locked; a new message (a higher send_attempt) starts over.
	MaxTokenAttempts int `yaml:"max_token_attempts"`
	// AllowedDomains, when not empty, are the only domains (with their subdomains) whose
	// addresses may be validated.
	AllowedDomains []string `yaml:"allowed_domains"`
	// DeniedDomains are domains (with their subdomains) whose addresses may not be
	// validated.
	DeniedDomains []string `yaml:"denied_domains"`
	// NextLinkDomains, when not empty, are the only hosts (with their subdomains) that a
	// next_link may point to; any http or https URL otherwise.
	NextLinkDomains []string `yaml:"next_link_domains"`
	// RequireForRegistration adds the m.login.email.identity stage to every
	// registration flow; the validated address joins the new account.
	RequireForRegistration bool `yaml:"require_for_registration"`
	// HideExistence makes the requestToken endpoints answer alike whether or not an
	// account holds the address: 200 with a sid, and a notice instead of a validation
	// message when the address cannot be validated for that purpose.
	HideExistence bool `yaml:"hide_existence"`
	// Subjects override the subjects of the built-in catalogue, in every language.
	Subjects EmailSubjects `yaml:"subjects"`
}

// EmailSubjects are the subject lines of the messages, as text/template strings that
// may use {{.AppName}} and {{.ServerName}}; empty keeps the catalogue's subject.
type EmailSubjects struct {
	// Validation is the subject of the message with the link and code.
	Validation string `yaml:"validation"`
	// AddressInUse tells an address's owner that someone tried to register it or add it
	// to another account (with hide_existence).
	AddressInUse string `yaml:"address_in_use"`
	// NoAccount tells an address that a password reset was asked for it while no
	// account holds it (with hide_existence).
	NoAccount string `yaml:"no_account"`
	// PasswordChanged tells the account's addresses that its password changed.
	PasswordChanged string `yaml:"password_changed"`
	// ThreePIDAdded tells the account's addresses that one was added.
	ThreePIDAdded string `yaml:"threepid_added"`
	// ThreePIDRemoved tells the account's addresses, and the removed one, that one was
	// removed.
	ThreePIDRemoved string `yaml:"threepid_removed"`
}

// Enabled reports whether email is configured.
func (e *Email) Enabled() bool { return e.SMTPURL != "" }

// validateEmail reports the problems of the email section through add.
func (c *Config) validateEmail(add func(format string, args ...any)) {
	e := c.Email
	if e.RequireForRegistration && !e.Enabled() {
		add("email.require_for_registration: needs email.smtp_url")
	}
	if e.TokenLifetime <= 0 {
		add("email.token_lifetime: must be positive")
	}
	if e.SMTPTimeout <= 0 {
		add("email.smtp_timeout: must be positive")
	}
	if e.MaxTokenAttempts < 1 {
		add("email.max_token_attempts: must be at least 1, not %d", e.MaxTokenAttempts)
	}
	for key, list := range map[string][]string{"allowed_domains": e.AllowedDomains,
		"denied_domains": e.DeniedDomains, "next_link_domains": e.NextLinkDomains} {
		for _, d := range list {
			if d == "" || strings.ContainsAny(d, "@/: ") {
				add("email.%s: %q is not a domain name", key, d)
			}
		}
	}
	if e.TemplatesDir != "" {
		if fi, err := os.Stat(e.TemplatesDir); err != nil || !fi.IsDir() {
			add("email.templates_dir: %q is not a directory", e.TemplatesDir)
		}
	}
	if !e.Enabled() {
		return
	}

	if err := checkSMTPURL(e.SMTPURL); err != nil {
		add("email.smtp_url: %v", err)
	}
	if a, err := mail.ParseAddress(e.From); e.From == "" || err != nil || a.Address == "" {
		add("email.from: %q is not an address such as \"Example <noreply@example.org>\"",
			e.From)
	}
}

// checkSMTPURL checks the scheme, host and port of an email.smtp_url, and that the
// insecure scheme names a loopback host.
func checkSMTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// The parse error would repeat the URL, password included.
		return fmt.Errorf("cannot be parsed as a URL")
	}
	switch u.Scheme {
	case SchemeSMTP, SchemeSMTPS, SchemeSMTPInsecure:
	default:
		return fmt.Errorf("the scheme must be smtp, smtps or smtp+insecure, not %q",
			u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("names no host")
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("must not have a path")
	}
	if u.Scheme == SchemeSMTPInsecure && !isLoopback(u.Hostname()) {
		return fmt.Errorf("smtp+insecure is only for loopback hosts (127.0.0.1, ::1, " +
			"localhost); use smtp:// or smtps://")
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
