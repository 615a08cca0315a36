// Package smstest fakes an operator's SMS gateway for tests: an HTTP server on loopback
// that speaks the webhook sender's wire format, checks its secret header and keeps the
// texts it is asked to send, so a test can read the codes a real server texted.
package smstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
)

// The secret the fake expects, and the header that carries it.
const (
	SecretHeader = "X-Gateway-Secret"
	Secret       = "gateway-secret"
)

// DefaultCountry is the default country Configure sets, so national numbers such as
// "07400 123456" (libphonenumber's example) are read as British.
const DefaultCountry = "GB"

// wait bounds how long Next and Code wait for a text.
const wait = 10 * time.Second

// Text is one message the gateway was asked to send.
type Text struct {
	// To is the number as the sender gave it, with a leading +.
	To   string
	Body string
}

// Gateway is a running fake gateway.
type Gateway struct {
	// URL is where the webhook sender must POST.
	URL   string
	texts chan Text
}

// Start starts a gateway and stops it when the test ends.
func Start(t testing.TB) *Gateway {
	t.Helper()

	g := &Gateway{texts: make(chan Text, 64)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(SecretHeader) != Secret {
			http.Error(w, "wrong secret", http.StatusUnauthorized)
			return
		}
		var m struct{ To, Text string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.texts <- Text{To: m.To, Body: m.Text}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// Configure points a server's webhook sender at g, with DefaultCountry.
func (g *Gateway) Configure(c *config.Config) {
	c.SMS.Sender = "webhook"
	c.SMS.DefaultCountry = DefaultCountry
	c.SMS.Webhook = config.SMSWebhook{URL: g.URL, SecretHeader: SecretHeader, Secret: Secret}
}

// Next waits for the next text and returns its body; a text to another number than
// +msisdn fails the test.
func (g *Gateway) Next(t testing.TB, msisdn string) string {
	t.Helper()

	select {
	case m := <-g.texts:
		if m.To != "+"+msisdn {
			t.Fatalf("a text went to %s, want +%s: %q", m.To, msisdn, m.Body)
		}
		return m.Body
	case <-time.After(wait):
		t.Fatalf("no text to +%s within %s", msisdn, wait)
	}
	return ""
}

// codePattern finds the 6-digit code in a validation text.
var codePattern = regexp.MustCompile(`\b(\d{6})\b`)

// Code waits for the next text to +msisdn that carries a code and returns the code;
// texts without one (notices) are skipped.
func (g *Gateway) Code(t testing.TB, msisdn string) string {
	t.Helper()

	deadline := time.After(wait)
	for {
		select {
		case m := <-g.texts:
			if m.To != "+"+msisdn {
				t.Fatalf("a text went to %s, want +%s: %q", m.To, msisdn, m.Body)
			}
			if c := codePattern.FindStringSubmatch(m.Body); c != nil {
				return c[1]
			}
		case <-deadline:
			t.Fatalf("no text with a code to +%s within %s", msisdn, wait)
		}
	}
}

// ExpectNone fails the test if a text is waiting: for requests that must send nothing.
func (g *Gateway) ExpectNone(t testing.TB) {
	t.Helper()

	select {
	case m := <-g.texts:
		t.Errorf("a text went to %s, want none: %q", m.To, m.Body)
	default:
	}
}
