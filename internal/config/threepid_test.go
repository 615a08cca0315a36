package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestThreePIDDefaultsValidate(t *testing.T) {
	if err := DefaultSMS().Validate(); err != nil {
		t.Errorf("DefaultSMS does not validate: %v", err)
	}
	if err := DefaultIdentity().Validate(); err != nil {
		t.Errorf("DefaultIdentity does not validate: %v", err)
	}
}

func TestSMSValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*SMS)
		wantErr string // a part of the message; empty for no error
	}{
		{"log sender", func(s *SMS) { s.Sender = "log" }, ""},
		{"webhook", func(s *SMS) {
			s.Sender, s.Webhook.URL, s.Webhook.Secret = "webhook", "https://g.example/s", "x"
		}, ""},
		{"webhook on loopback http", func(s *SMS) {
			s.Sender, s.Webhook.URL, s.Webhook.Secret = "webhook", "http://127.0.0.1:9/s", "x"
		}, ""},
		{"webhook over remote http", func(s *SMS) {
			s.Sender, s.Webhook.URL, s.Webhook.Secret = "webhook", "http://g.example/s", "x"
		}, "sms.webhook.url"},
		{"webhook without secret", func(s *SMS) {
			s.Sender, s.Webhook.URL = "webhook", "https://g.example/s"
		}, "sms.webhook: secret_header and secret"},
		{"twilio", func(s *SMS) {
			s.Sender = "twilio"
			s.Twilio.AccountSID, s.Twilio.AuthToken, s.Twilio.MessagingServiceSID = "AC", "t",
				"MG"
		}, ""},
		{"twilio without sender", func(s *SMS) {
			s.Sender, s.Twilio.AccountSID, s.Twilio.AuthToken = "twilio", "AC", "t"
		}, "from or messaging_service_sid"},
		{"twilio without token", func(s *SMS) {
			s.Sender, s.Twilio.AccountSID, s.Twilio.From = "twilio", "AC", "+1"
		}, "account_sid and auth_token"},
		{"unknown sender", func(s *SMS) { s.Sender = "pigeon" }, "sms.sender"},
		{"lower-case country", func(s *SMS) { s.DefaultCountry = "gb" }, "default_country"},
		{"zero timeout", func(s *SMS) { s.Timeout = 0 }, "sms.timeout"},
		{"required without a sender", func(s *SMS) { s.RequireForRegistration = true },
			"sms.require_for_registration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSMS()
			tt.edit(&s)
			err := s.Validate()
			if tt.wantErr == "" && err != nil {
				t.Errorf("Validate: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate = %v, want a problem with %s", err, tt.wantErr)
			}
		})
	}
}

func TestIdentityValidate(t *testing.T) {
	i := DefaultIdentity()
	i.TrustedServers = []string{"vector.im", "is.example:8090", "https://x.example", ""}
	i.KeyValidity = 0
	err := i.Validate()
	if err == nil {
		t.Fatal("Validate accepted bad settings")
	}
	for _, want := range []string{`"https://x.example"`, `""`, "identity.key_validity"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "vector.im") {
		t.Errorf("Validate reports a good server: %v", err)
	}
}

// TestThreePIDEnvironment checks that every new key can be set from the environment, as
// every key of the tree must once the structs are hooked into Config.
func TestThreePIDEnvironment(t *testing.T) {
	type tree struct {
		SMS      SMS      `yaml:"sms"`
		Identity Identity `yaml:"identity"`
	}
	v := tree{SMS: DefaultSMS(), Identity: DefaultIdentity()}

	samples := map[reflect.Kind]string{reflect.String: "x", reflect.Slice: "a.example,b",
		reflect.Int64: "5s", reflect.Bool: "true"}
	walkFields(reflect.ValueOf(&v).Elem(), EnvPrefix, func(name string, f reflect.Value) {
		if err := setFromString(f, samples[f.Kind()]); err != nil {
			t.Errorf("%s cannot be set from the environment: %v", name, err)
		}
	})
	if v.SMS.Twilio.AuthToken != "x" || len(v.Identity.TrustedServers) != 2 ||
		v.Identity.Timeout.Seconds() != 5 || !v.Identity.AllowInsecureLoopback {
		t.Errorf("environment values not applied: %+v", v)
	}
}
