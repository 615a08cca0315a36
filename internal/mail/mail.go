// Package mail sends the email of mxaccounts over SMTP: the messages that validate an
// address (a link and a 6-digit code) and the notices about an account. Each message
// goes out as text and HTML, rendered from a catalogue of templates per language
// (English built in, more and overrides from a directory), in the language that the
// request's Accept-Language asks for when the catalogue has it.
package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
)

// Config configures a Mailer.
type Config struct {
	// SMTPURL is the submission server, as email.smtp_url describes it.
	SMTPURL string
	// Timeout bounds connecting and sending one message.
	Timeout time.Duration
	// From is the sender, a bare address or "Name <address>".
	From string
	// AppName names the service in messages; empty means ServerName.
	AppName    string
	ServerName string
	// TemplatesDir overrides and extends the built-in templates; "" for none.
	TemplatesDir string
	// Subjects replace the catalogue's subjects, as text/template strings; kinds left
	// out or empty keep the catalogue's.
	Subjects map[threepid.Kind]string
	// TLSConfig, when not nil, is used to verify the server (a private CA, in tests).
	TLSConfig *tls.Config
}

// Mailer sends messages through one SMTP server. It implements threepid.Sender for the
// email medium.
type Mailer struct {
	cfg       Config
	from      *netmail.Address
	server    *url.URL
	catalogue *catalogue
}

var _ threepid.Sender = (*Mailer)(nil)

// New returns a Mailer for cfg; the templates are parsed here, so that a broken
// override fails at start and not at the first message.
func New(cfg Config) (*Mailer, error) {
	server, err := url.Parse(cfg.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("email.smtp_url cannot be parsed as a URL")
	}
	switch server.Scheme {
	case config.SchemeSMTP, config.SchemeSMTPS, config.SchemeSMTPInsecure:
	default:
		return nil, fmt.Errorf("email.smtp_url: unknown scheme %q", server.Scheme)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email.from %q: %w", cfg.From, err)
	}
	if cfg.AppName == "" {
		cfg.AppName = cfg.ServerName
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}

	cat, err := loadCatalogue(cfg.TemplatesDir, cfg.Subjects)
	if err != nil {
		return nil, err
	}
	return &Mailer{cfg: cfg, from: from, server: server, catalogue: cat}, nil
}

// data is what the templates see.
type data struct {
	AppName, ServerName string
	// Service is the app name with the server name in brackets, or the server name
	// alone when they are the same.
	Service string
	// Lang is the language of the message, Subject its rendered subject (for the HTML
	// title).
	Lang, Subject string
	// To is the recipient.
	To string
	// Purpose is register, password_reset or 3pid_add.
	Purpose string
	// Link, Code and Minutes (their lifetime) are those of a validation.
	Link, Code string
	Minutes    int
	// UserID is the account a notice is about; Medium and Address the 3PID added or
	// removed.
	UserID          string
	Medium, Address string
}

// Send renders m and sends it; it implements threepid.Sender.
func (ml *Mailer) Send(ctx context.Context, m *threepid.Message) error {
	r, err := ml.Render(m)
	if err != nil {
		return err
	}

	msg := gomail.NewMsg()
	if err := msg.FromFormat(ml.from.Name, ml.from.Address); err != nil {
		return fmt.Errorf("email sender %q: %w", ml.cfg.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("email recipient %q: %w", m.To, err)
	}
	msg.Subject(r.Subject)
	msg.SetMessageID()
	msg.SetDate()
	// Replies and out-of-office answers have no one to go to.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderContentLang, r.Lang)
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)

	client, err := ml.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ml.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send %s mail through %s: %w", m.Kind, ml.server.Host, err)
	}
	return nil
}

// Rendered is a message as it goes out.
type Rendered struct {
	// Lang is the catalogue language it was rendered in.
	Lang    string
	Subject string
	Text    string
	HTML    string
}

// Render renders m in the language its Accept-Language picks.
func (ml *Mailer) Render(m *threepid.Message) (*Rendered, error) {
	d := &data{AppName: ml.cfg.AppName, ServerName: ml.cfg.ServerName,
		Service: ml.cfg.AppName, To: m.To, Purpose: string(m.Purpose), Link: m.Link,
		Code: m.Code, UserID: string(m.UserID)}
	if ml.cfg.AppName != ml.cfg.ServerName {
		d.Service += " (" + ml.cfg.ServerName + ")"
	}
	if !m.Expires.IsZero() {
		d.Minutes = max(int(time.Until(m.Expires).Round(time.Minute).Minutes()), 1)
	}
	if m.ThreePID != nil {
		d.Medium, d.Address = m.ThreePID.Medium, m.ThreePID.Address
	}

	r, err := ml.catalogue.render(m.Kind, m.AcceptLanguage, d)
	if err != nil {
		return nil, err
	}
	return &Rendered{Lang: r.Lang, Subject: r.Subject, Text: r.Text, HTML: r.HTML}, nil
}

// Default ports per scheme.
const (
	portSubmission = 587
	portImplicit   = 465
	portPlain      = 25
)

// client returns a go-mail client for the server: STARTTLS when offered for smtp://
// (authentication over plain text is refused by go-mail except to localhost), TLS
// from the first byte for smtps://, and never for smtp+insecure://, which the
// configuration allows on loopback only.
func (ml *Mailer) client() (*gomail.Client, error) {
	host := ml.server.Hostname()
	opts := []gomail.Option{gomail.WithTimeout(ml.cfg.Timeout)}

	port := 0
	if p := ml.server.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("email.smtp_url: bad port %q", p)
		}
		port = n
	}
	switch ml.server.Scheme {
	case config.SchemeSMTPS:
		opts = append(opts, gomail.WithSSL(), gomail.WithPort(cmpPort(port, portImplicit)))
	case config.SchemeSMTPInsecure:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS),
			gomail.WithPort(cmpPort(port, portPlain)))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic),
			gomail.WithPort(cmpPort(port, portSubmission)))
	}

	if ml.cfg.TLSConfig != nil {
		tc := ml.cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = host
		}
		opts = append(opts, gomail.WithTLSConfig(tc))
	}
	if u := ml.server.User; u != nil {
		pass, _ := u.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.Username()), gomail.WithPassword(pass))
	}

	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("prepare the SMTP client for %s: %w", host, err)
	}
	return c, nil
}

// cmpPort returns port, or def when port is 0.
func cmpPort(port, def int) int {
	if port == 0 {
		return def
	}
	return port
}
