package server

import (
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/uia"
)

// TestFlows checks the UIA flows each registration and reset policy gives.
func TestFlows(t *testing.T) {
	const (
		email  = "m.login.email.identity"
		msisdn = "m.login.msisdn"
	)
	withEmail := func(c *config.Config) { c.Email.SMTPURL = "smtp+insecure://127.0.0.1:1025" }
	withSMS := func(c *config.Config) { c.SMS.Sender = "log" }
	tests := []struct {
		name            string
		edit            []func(*config.Config)
		register, reset [][]string
	}{
		{"token, no 3PID", nil, [][]string{{uia.TypeRegistrationToken}},
			[][]string{{"m.login.password"}}},
		{"open", []func(*config.Config){func(c *config.Config) { c.Registration.Open = true }},
			[][]string{{uia.TypeDummy}}, [][]string{{"m.login.password"}}},
		{"email and SMS offered, none required", []func(*config.Config){withEmail, withSMS},
			[][]string{{uia.TypeRegistrationToken}},
			[][]string{{"m.login.password"}, {msisdn}, {email}}},
		{"open, phone required", []func(*config.Config){withSMS, func(c *config.Config) {
			c.Registration.Open, c.SMS.RequireForRegistration = true, true
		}}, [][]string{{msisdn}}, [][]string{{"m.login.password"}, {msisdn}}},
		{"both required, with terms", []func(*config.Config){withEmail, withSMS,
			func(c *config.Config) {
				c.Email.RequireForRegistration, c.SMS.RequireForRegistration = true, true
				c.Registration.Terms = []config.TermsPolicy{{ID: "tos", Version: "1"}}
			}},
			[][]string{{uia.TypeRegistrationToken, uia.TypeTerms, email, msisdn}},
			[][]string{{"m.login.password"}, {msisdn}, {email}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			for _, edit := range tt.edit {
				edit(cfg)
			}
			got := flows(cfg)
			if f := got(uia.OpRegister); !slices.EqualFunc(f, tt.register, slices.Equal) {
				t.Errorf("registration flows %v, want %v", f, tt.register)
			}
			if f := got(uia.OpPasswordReset); !slices.EqualFunc(f, tt.reset, slices.Equal) {
				t.Errorf("reset flows %v, want %v", f, tt.reset)
			}
		})
	}
}
