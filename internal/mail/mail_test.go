package mail_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/mail"
	"github.com/mxaccounts/mxaccounts/internal/mailpittest"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/internal/uia"
)

// from is the sender of the tests' mail.
const from = "Example Matrix <noreply@example.org>"

// newMailer returns a Mailer for smtpURL with the test defaults and changes applied.
func newMailer(t *testing.T, smtpURL string, change ...func(*mail.Config)) *mail.Mailer {
	t.Helper()

	cfg := mail.Config{SMTPURL: smtpURL, From: from, ServerName: "example.org",
		AppName: "Example Chat", Timeout: 10 * time.Second}
	for _, c := range change {
		c(&cfg)
	}
	m, err := mail.New(cfg)
	if err != nil {
		t.Fatalf("mail.New: %v", err)
	}
	return m
}

// validation returns a validation message to to.
func validation(to string) *threepid.Message {
	return &threepid.Message{Kind: threepid.KindValidation, To: to,
		Purpose: uia.OpRegister, Code: "042917",
		Link:    "https://matrix.example.org/_mxaccounts/validate/email/confirm?sid=S&token=T",
		Expires: time.Now().Add(time.Hour)}
}

// render renders m, failing the test on error.
func render(t *testing.T, ml *mail.Mailer, m *threepid.Message) *mail.Rendered {
	t.Helper()

	r, err := ml.Render(m)
	if err != nil {
		t.Fatalf("Render(%s): %v", m.Kind, err)
	}
	return r
}

// wantContains fails the test unless s contains every one of parts.
func wantContains(t *testing.T, what, s string, parts ...string) {
	t.Helper()

	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s does not contain %q:\n%s", what, p, s)
		}
	}
}

// TestRenderEveryKind renders each message in text and HTML and checks that it says
// what it is for: the link and code of a validation, the account and address of a
// notice, with HTML escaping.
func TestRenderEveryKind(t *testing.T) {
	t.Parallel()
	ml := newMailer(t, "smtp+insecure://127.0.0.1:1")
	about := &store.ThreePID{Medium: "email", Address: "o'brien+<x>@example.org"}

	tests := []struct {
		msg      *threepid.Message
		subject  string
		text     []string
		htmlPart []string
	}{
		{msg: validation("alice@example.org"),
			subject: "Confirm your email address to join Example Chat",
			text: []string{"create an account on Example Chat (example.org) with", "042917",
				"https://matrix.example.org/_mxaccounts/validate/email/confirm?sid=S&token=T",
				"60 minutes"},
			htmlPart: []string{`href="https://matrix.example.org/_mxaccounts/validate/email/` +
				`confirm?sid=S&amp;token=T"`, "042917", `<html lang="en">`}},
		{msg: &threepid.Message{Kind: threepid.KindValidation, To: "a@example.org",
			Purpose: uia.OpPasswordReset, Code: "1", Link: "https://x/"},
			subject: "Reset your Example Chat password",
			text:    []string{"reset the password"}},
		{msg: &threepid.Message{Kind: threepid.KindValidation, To: "a@example.org",
			Purpose: uia.OpAddThreepid, Code: "1", Link: "https://x/"},
			subject: "Confirm your email address for Example Chat",
			text:    []string{"add this email address to an account"}},
		{msg: &threepid.Message{Kind: threepid.KindAddressInUse, To: "a@example.org",
			Purpose: uia.OpRegister},
			subject: "Your email address and Example Chat",
			text:    []string{"for a new account", "already belongs to an account"}},
		{msg: &threepid.Message{Kind: threepid.KindNoAccount, To: "a@example.org",
			Purpose: uia.OpPasswordReset},
			subject: "A password reset on Example Chat",
			text:    []string{"no account there has it"}},
		{msg: &threepid.Message{Kind: threepid.KindPasswordChanged, To: "a@example.org",
			UserID: "@alice:example.org"},
			subject:  "Your Example Chat password was changed",
			text:     []string{"@alice:example.org was changed"},
			htmlPart: []string{"<strong>@alice:example.org</strong>"}},
		{msg: &threepid.Message{Kind: threepid.KindThreePIDAdded, To: "a@example.org",
			UserID: "@alice:example.org", ThreePID: about},
			subject:  "An address was added to your Example Chat account",
			text:     []string{"o'brien+<x>@example.org (email) was added"},
			htmlPart: []string{"o&#39;brien&#43;&lt;x&gt;@example.org"}},
		{msg: &threepid.Message{Kind: threepid.KindThreePIDRemoved, To: "a@example.org",
			UserID: "@alice:example.org", ThreePID: about},
			subject: "An address was removed from your Example Chat account",
			text:    []string{"was removed from your Example Chat account @alice"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.msg.Kind)+"/"+string(tt.msg.Purpose), func(t *testing.T) {
			r := render(t, ml, tt.msg)
			if r.Subject != tt.subject || r.Lang != "en" {
				t.Errorf("subject %q in %s, want %q in en", r.Subject, r.Lang, tt.subject)
			}
			wantContains(t, "text", r.Text, tt.text...)
			wantContains(t, "HTML", r.HTML, tt.htmlPart...)
			wantContains(t, "HTML", r.HTML, "<title>"+tt.subject+"</title>")
		})
	}
}

// TestRenderLanguages checks that a templates directory adds a language, chosen from
// Accept-Language, that files it lacks come from English, that it can replace an
// English file, and that configured subjects replace the catalogue's.
func TestRenderLanguages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("de/validation.txt", "Hallo! Der Code ist {{.Code}}.\n")
	write("de/subjects.txt", `{{define "validation"}}Bestätigen Sie {{.AppName}}{{end}}`+
		`{{define "address_in_use"}}x{{end}}{{define "no_account"}}x{{end}}`+
		`{{define "password_changed"}}Passwort geändert{{end}}`+
		`{{define "threepid_added"}}x{{end}}{{define "threepid_removed"}}x{{end}}`)
	write("en/no_account.txt", "Custom English notice for {{.To}}.\n")
	ml := newMailer(t, "smtp+insecure://127.0.0.1:1", func(c *mail.Config) {
		c.TemplatesDir = dir
		c.Subjects = map[threepid.Kind]string{
			threepid.KindPasswordChanged: "[{{.ServerName}}] password changed"}
	})

	tests := []struct {
		name, accept, lang, subject, text string
	}{
		{"German asked", "de-DE,de;q=0.9,en;q=0.5", "de", "Bestätigen Sie Example Chat",
			"Hallo! Der Code ist 042917."},
		{"French asked, English given", "fr-CH, fr;q=0.9", "en",
			"Confirm your email address to join Example Chat", "Or type this code"},
		{"no header", "", "en", "Confirm your email address to join Example Chat",
			"Or type this code"},
		{"garbage header", ";;;q=x", "en",
			"Confirm your email address to join Example Chat", "Or type this code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validation("a@example.org")
			m.AcceptLanguage = tt.accept
			r := render(t, ml, m)
			if r.Lang != tt.lang || r.Subject != tt.subject {
				t.Errorf("got %s %q, want %s %q", r.Lang, r.Subject, tt.lang, tt.subject)
			}
			wantContains(t, "text", r.Text, tt.text)
			// German has no HTML of its own: the English file, in a German document.
			wantContains(t, "HTML", r.HTML, "042917", `<html lang="`+tt.lang+`">`)
		})
	}

	r := render(t, ml, &threepid.Message{Kind: threepid.KindNoAccount, To: "x@example.org"})
	wantContains(t, "overridden text", r.Text, "Custom English notice for x@example.org.")
	r = render(t, ml, &threepid.Message{Kind: threepid.KindPasswordChanged,
		To: "x@example.org", AcceptLanguage: "de"})
	if r.Subject != "[example.org] password changed" {
		t.Errorf("configured subject rendered as %q", r.Subject)
	}
}

// TestNewRefuses checks that a broken configuration or template fails at New.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	broken := t.TempDir()
	if err := os.MkdirAll(filepath.Join(broken, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "en", "validation.txt"),
		[]byte("{{.Code"), 0o644); err != nil {
		t.Fatal(err)
	}
	notLang := t.TempDir()
	if err := os.MkdirAll(filepath.Join(notLang, "not a language!"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		cfg  mail.Config
	}{
		{"unknown scheme", mail.Config{SMTPURL: "http://127.0.0.1:1", From: from}},
		{"bad sender", mail.Config{SMTPURL: "smtp://127.0.0.1", From: "not an address"}},
		{"broken template", mail.Config{SMTPURL: "smtp://127.0.0.1", From: from,
			TemplatesDir: broken}},
		{"directory that is no language", mail.Config{SMTPURL: "smtp://127.0.0.1",
			From: from, TemplatesDir: notLang}},
		{"broken subject", mail.Config{SMTPURL: "smtp://127.0.0.1", From: from,
			Subjects: map[threepid.Kind]string{threepid.KindValidation: "{{"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mail.New(tt.cfg); err == nil {
				t.Errorf("New(%+v) succeeded", tt.cfg)
			}
		})
	}
}

// TestSendPlain sends a validation to Mailpit over plain SMTP on loopback and reads it
// back: sender, recipient, subject, both parts and the headers that keep robots from
// answering.
func TestSendPlain(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t)
	ml := newMailer(t, mp.SMTPURL())

	if err := ml.Send(t.Context(), validation("alice@example.org")); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := mp.Wait(t, "alice@example.org")
	if got.From.Address != "noreply@example.org" || got.From.Name != "Example Matrix" {
		t.Errorf("from %+v, want Example Matrix <noreply@example.org>", got.From)
	}
	if got.Subject != "Confirm your email address to join Example Chat" {
		t.Errorf("subject %q", got.Subject)
	}
	wantContains(t, "text", got.Text, "042917", "sid=S&token=T")
	wantContains(t, "HTML", got.HTML, "042917", "sid=S&amp;token=T")

	h := mp.Headers(t, got.ID)
	if h.Get("Auto-Submitted") != "auto-generated" || h.Get("Content-Language") != "en" ||
		h.Get("Message-Id") == "" {
		t.Errorf("headers %v: want Auto-Submitted, Content-Language and Message-Id", h)
	}
}

// TestSendSTARTTLSWithAuth sends through a server that offers STARTTLS and asks for a
// password, as smtp://user:pass@host:port does, and checks that a wrong password or an
// untrusted certificate fail.
func TestSendSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	cert, key, roots := testCertificate(t)
	authFile := filepath.Join(t.TempDir(), "passwords")
	if err := os.WriteFile(authFile, []byte("mxaccounts:s3cret/42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := mailpittest.Start(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key,
		"--smtp-auth-file", authFile)
	trusted := func(c *mail.Config) { c.TLSConfig = &tls.Config{RootCAs: roots} }

	good := newMailer(t, "smtp://mxaccounts:s3cret%2F42@"+mp.SMTPAddr, trusted)
	if err := good.Send(t.Context(), validation("tls@example.org")); err != nil {
		t.Fatalf("Send with STARTTLS and the password: %v", err)
	}
	mp.Wait(t, "tls@example.org")

	for name, ml := range map[string]*mail.Mailer{
		"a wrong password":         newMailer(t, "smtp://mxaccounts:wrong@"+mp.SMTPAddr, trusted),
		"no password":              newMailer(t, "smtp://"+mp.SMTPAddr, trusted),
		"an untrusted certificate": newMailer(t, "smtp://mxaccounts:s3cret%2F42@"+mp.SMTPAddr),
	} {
		if err := ml.Send(t.Context(), validation("refused@example.org")); err == nil {
			t.Errorf("Send with %s succeeded", name)
		}
	}
	mp.NoMessage(t, "refused@example.org", 500*time.Millisecond)
}

// TestSendImplicitTLS sends through a server that speaks TLS from the first byte, as
// smtps:// does.
func TestSendImplicitTLS(t *testing.T) {
	t.Parallel()
	cert, key, roots := testCertificate(t)
	mp := mailpittest.Start(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key,
		"--smtp-require-tls")

	ml := newMailer(t, "smtps://"+mp.SMTPAddr, func(c *mail.Config) {
		c.TLSConfig = &tls.Config{RootCAs: roots}
	})
	if err := ml.Send(t.Context(), validation("implicit@example.org")); err != nil {
		t.Fatalf("Send over implicit TLS: %v", err)
	}
	mp.Wait(t, "implicit@example.org")

	plain := newMailer(t, "smtp+insecure://"+mp.SMTPAddr, func(c *mail.Config) {
		c.Timeout = 3 * time.Second
	})
	if err := plain.Send(t.Context(), validation("implicit@example.org")); err == nil {
		t.Errorf("Send in plain text to a TLS-only server succeeded")
	}
}

// TestSendUnreachable checks that a server that is not there fails the send in time.
func TestSendUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ml := newMailer(t, "smtp+insecure://"+addr, func(c *mail.Config) {
		c.Timeout = 2 * time.Second
	})
	start := time.Now()
	if err := ml.Send(t.Context(), validation("a@example.org")); err == nil {
		t.Fatalf("Send to a closed port succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the failed send took %s", d)
	}
}

// testCertificate writes a self-signed certificate for 127.0.0.1 and its key to files
// and returns their paths and a pool that trusts it.
func testCertificate(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, roots
}
