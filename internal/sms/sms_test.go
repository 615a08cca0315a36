package sms

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/config"
)

func TestNewFromConfig(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	off := config.DefaultSMS()
	if s, err := New(off, logger); s != nil || err != nil {
		t.Errorf("no sender configured: got %T, %v; want nil, nil", s, err)
	}

	tests := []struct {
		name string
		edit func(*config.SMS)
		want any
	}{
		{"log", func(c *config.SMS) { c.Sender = "log" }, &Log{}},
		{"webhook", func(c *config.SMS) {
			c.Sender = "webhook"
			c.Webhook.URL, c.Webhook.Secret = "https://sms.example/hook", "Bearer x"
		}, &Webhook{}},
		{"twilio", func(c *config.SMS) {
			c.Sender = "twilio"
			c.Twilio.AccountSID, c.Twilio.AuthToken, c.Twilio.From = "AC1", "t", "+1"
		}, &Twilio{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.DefaultSMS()
			tt.edit(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("the config does not validate: %v", err)
			}
			s, err := New(cfg, logger)
			if err != nil {
				t.Fatal(err)
			}
			if gotT, wantT := typeName(s), typeName(tt.want); gotT != wantT {
				t.Errorf("New gave %s, want %s", gotT, wantT)
			}
		})
	}

	bad := config.DefaultSMS()
	bad.Sender, bad.DefaultCountry = "log", "XX"
	if _, err := New(bad, logger); !errors.Is(err, ErrUnknownCountry) {
		t.Errorf("unknown default country: %v", err)
	}

	bad = config.DefaultSMS()
	bad.Sender, bad.Webhook.URL, bad.Webhook.Secret = "webhook", "http://sms.example", "x"
	if s, err := New(bad, logger); err == nil || s != nil {
		t.Errorf("webhook over remote http: got %#v, %v; want a nil Sender and an error", s,
			err)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *Log:
		return "Log"
	case *Webhook:
		return "Webhook"
	case *Twilio:
		return "Twilio"
	}
	return "other"
}
