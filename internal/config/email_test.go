package config

import (
	"strings"
	"testing"
	"time"
)

// TestEmailValidation checks what Validate says of the email section: each mistake is
// named by its key, and the password of smtp_url never appears in a message.
func TestEmailValidation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		change func(e *Email)
		want   string // "" for a valid configuration
	}{
		{"off by default", func(*Email) {}, ""},
		{"STARTTLS with a password", func(e *Email) {
			e.SMTPURL, e.From = "smtp://user:s3cret@mail.example.org:587", "a@example.org"
		}, ""},
		{"implicit TLS", func(e *Email) {
			e.SMTPURL, e.From = "smtps://mail.example.org", "Example <a@example.org>"
		}, ""},
		{"plain text on loopback", func(e *Email) {
			e.SMTPURL, e.From = "smtp+insecure://127.0.0.1:1025", "a@example.org"
		}, ""},
		{"plain text elsewhere", func(e *Email) {
			e.SMTPURL, e.From = "smtp+insecure://user:s3cret@mail.example.org", "a@example.org"
		}, "email.smtp_url: smtp+insecure is only for loopback"},
		{"another scheme", func(e *Email) {
			e.SMTPURL, e.From = "http://user:s3cret@mail.example.org", "a@example.org"
		}, "email.smtp_url: the scheme must be"},
		{"no host", func(e *Email) {
			e.SMTPURL, e.From = "smtp://", "a@example.org"
		}, "email.smtp_url: names no host"},
		{"no sender", func(e *Email) { e.SMTPURL = "smtp://mail.example.org" }, "email.from"},
		{"a bad sender", func(e *Email) {
			e.SMTPURL, e.From = "smtp://mail.example.org", "not an address"
		}, "email.from"},
		{"required without a server", func(e *Email) { e.RequireForRegistration = true },
			"email.require_for_registration"},
		{"no token lifetime", func(e *Email) { e.TokenLifetime = 0 }, "email.token_lifetime"},
		{"no attempts", func(e *Email) { e.MaxTokenAttempts = 0 }, "email.max_token_attempts"},
		{"no timeout", func(e *Email) { e.SMTPTimeout = -time.Second }, "email.smtp_timeout"},
		{"an address as a domain", func(e *Email) {
			e.DeniedDomains = []string{"spam@example.org"}
		}, "email.denied_domains"},
		{"a URL as a next_link domain", func(e *Email) {
			e.NextLinkDomains = []string{"https://client.example"}
		}, "email.next_link_domains"},
		{"a missing templates directory", func(e *Email) {
			e.TemplatesDir = "/nonexistent/templates"
		}, "email.templates_dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.change(&cfg.Email)
			cfg.Derive()
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate: %v; want an error with %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Errorf("the error shows the SMTP password: %v", err)
			}
		})
	}
}

// TestEmailFromEnvironment checks that the email keys, subjects included, come from
// the environment.
func TestEmailFromEnvironment(t *testing.T) {
	t.Parallel()

	cfg, err := Load("", []string{
		"MXACCOUNTS_EMAIL_SMTP_URL=smtps://mail.example.org",
		"MXACCOUNTS_EMAIL_FROM=Example <noreply@example.org>",
		"MXACCOUNTS_EMAIL_TOKEN_LIFETIME=15m",
		"MXACCOUNTS_EMAIL_ALLOWED_DOMAINS=example.org, example.com",
		"MXACCOUNTS_EMAIL_HIDE_EXISTENCE=true",
		"MXACCOUNTS_EMAIL_SUBJECTS_VALIDATION=Your {{.AppName}} code",
		"MXACCOUNTS_RATE_LIMITS_REQUEST_TOKEN_BURST=3",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	e := cfg.Email
	if !e.Enabled() || e.From != "Example <noreply@example.org>" ||
		e.TokenLifetime != 15*time.Minute || len(e.AllowedDomains) != 2 ||
		!e.HideExistence || e.Subjects.Validation != "Your {{.AppName}} code" ||
		cfg.RateLimits.RequestToken.Burst != 3 {
		t.Errorf("email from the environment: %+v, request_token %+v", e,
			cfg.RateLimits.RequestToken)
	}
}
