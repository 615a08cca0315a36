package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// SMS configures the text messages that carry phone-number validation codes.
type SMS struct {
	// Sender is how messages leave: webhook, twilio or log (development only: the code
	// goes to the server log and no message is sent). Empty turns phone numbers off:
	// the msisdn requestToken endpoints then answer M_THREEPID_MEDIUM_NOT_SUPPORTED.
	Sender string `yaml:"sender"`
	// DefaultCountry is the ISO 3166-1 alpha-2 region (GB, US, DE) of phone numbers
	// written without an international prefix; empty accepts only numbers with one.
	DefaultCountry string `yaml:"default_country"`
	// Timeout bounds one send, connection and answer included.
	Timeout time.Duration `yaml:"timeout"`
	// RequireForRegistration adds the m.login.msisdn stage to every registration flow;
	// the validated number joins the new account.
	RequireForRegistration bool `yaml:"require_for_registration"`
	// Webhook configures the webhook sender.
	Webhook SMSWebhook `yaml:"webhook"`
	// Twilio configures the sender that speaks Twilio's Message resource.
	Twilio SMSTwilio `yaml:"twilio"`
}

// SMSWebhook is a gateway of the operator's that takes {"to": "+<E.164>", "text": "…"}
// as a JSON POST and sends it.
type SMSWebhook struct {
	// URL receives the POST. It must be https, except on a loopback host.
	URL string `yaml:"url"`
	// SecretHeader names the header that carries Secret, such as Authorization.
	// A gateway that sends texts for anyone who asks would be abused, so both are
	// required.
	SecretHeader string `yaml:"secret_header"`
	// Secret authenticates this server at the gateway; set it through the environment
	// (MXACCOUNTS_SMS_WEBHOOK_SECRET) to keep it out of the file.
	Secret string `yaml:"secret"`
}

// SMSTwilio holds the account of a carrier API with the shape of Twilio's
// Message resource.
type SMSTwilio struct {
	// BaseURL is the API's scheme and host; it must be https, except on a loopback
	// host.
	BaseURL string `yaml:"base_url"`
	// AccountSID names the account, in the URL and as the basic-auth user.
	AccountSID string `yaml:"account_sid"`
	// AuthToken is the basic-auth password; set it through the environment
	// (MXACCOUNTS_SMS_TWILIO_AUTH_TOKEN).
	AuthToken string `yaml:"auth_token"`
	// From is the sending number in E.164 with its '+'. One of From and
	// MessagingServiceSID is needed.
	From string `yaml:"from"`
	// MessagingServiceSID picks the sender from a messaging service instead of From.
	MessagingServiceSID string `yaml:"messaging_service_sid"`
}

// Identity configures the homeserver's signing key and the identity servers it talks
// to for POST /account/3pid/bind and the unbinds.
type Identity struct {
	// SigningKeyFile is a signing key in Synapse's format ("ed25519 <version> <seed>").
	// Identity servers check unbind requests against the keys published for the server
	// name, so a deployment beside another homeserver names that server's key file
	// here. Empty means signing.key in data_dir, generated on first start.
	SigningKeyFile string `yaml:"signing_key_file"`
	// TrustedServers lists the identity servers (host or host:port) that clients may
	// bind through. Empty allows any server at a public address.
	TrustedServers []string `yaml:"trusted_servers"`
	// Timeout bounds one request to an identity server.
	Timeout time.Duration `yaml:"timeout"`
	// KeyValidity is how long the key document at /_matrix/key/v2/server says its keys
	// stay valid; the spec asks for at least an hour and receivers cap it at 7 days.
	KeyValidity time.Duration `yaml:"key_validity"`
	// AllowInsecureLoopback reaches identity servers over plain http, and then only at
	// loopback addresses: for tests and local development against a fake identity
	// server, never for production.
	AllowInsecureLoopback bool `yaml:"allow_insecure_loopback"`
}

// DefaultSMS returns the SMS settings of Default: no sender, Twilio's public API as the
// carrier base URL.
func DefaultSMS() SMS {
	return SMS{
		Timeout: 10 * time.Second,
		Webhook: SMSWebhook{SecretHeader: "Authorization"},
		Twilio:  SMSTwilio{BaseURL: "https://api.twilio.com"},
	}
}

// DefaultIdentity returns the identity-server settings of Default.
func DefaultIdentity() Identity {
	return Identity{
		TrustedServers: []string{},
		Timeout:        10 * time.Second,
		KeyValidity:    24 * time.Hour,
	}
}

// Validate reports every problem with the SMS settings, each prefixed with its key.
func (s SMS) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if s.Timeout <= 0 {
		add("sms.timeout: must be positive")
	}
	if s.RequireForRegistration && s.Sender == "" {
		add("sms.require_for_registration: needs sms.sender")
	}
	if s.DefaultCountry != "" && (len(s.DefaultCountry) != 2 ||
		strings.ToUpper(s.DefaultCountry) != s.DefaultCountry) {
		add("sms.default_country: %q is not an upper-case ISO 3166-1 alpha-2 code",
			s.DefaultCountry)
	}

	switch s.Sender {
	case "", "log":
	case "webhook":
		if err := CheckServiceURL(s.Webhook.URL); err != nil {
			add("sms.webhook.url: %v", err)
		}
		if s.Webhook.Secret == "" || s.Webhook.SecretHeader == "" {
			add("sms.webhook: secret_header and secret are needed")
		}
	case "twilio":
		if err := CheckServiceURL(s.Twilio.BaseURL); err != nil {
			add("sms.twilio.base_url: %v", err)
		}
		if s.Twilio.AccountSID == "" || s.Twilio.AuthToken == "" {
			add("sms.twilio: account_sid and auth_token are needed")
		}
		if s.Twilio.From == "" && s.Twilio.MessagingServiceSID == "" {
			add("sms.twilio: from or messaging_service_sid is needed")
		}
	default:
		add("sms.sender: %q is not webhook, twilio, log or empty", s.Sender)
	}
	return errors.Join(errs...)
}

// Validate reports every problem with the identity-server settings, each prefixed with
// its key.
func (i Identity) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if i.Timeout <= 0 {
		add("identity.timeout: must be positive")
	}
	if i.KeyValidity < time.Hour || i.KeyValidity > 7*24*time.Hour {
		add("identity.key_validity: %s is not between 1h and 168h", i.KeyValidity)
	}
	for _, s := range i.TrustedServers {
		if s == "" || strings.ContainsAny(s, "/@ ") {
			add("identity.trusted_servers: %q is not a host with an optional port", s)
		}
	}
	return errors.Join(errs...)
}

// CheckServiceURL accepts an https URL, or an http URL whose host is a loopback
// address or localhost, for the URLs of outside services that receive secrets. The
// error says what is wrong with raw.
func CheckServiceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}

	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return fmt.Errorf("%q: plain http is allowed only on a loopback host", raw)
	default:
		return fmt.Errorf("%q is not an http or https URL", raw)
	}
}
