// Package sms sends the text messages that carry phone-number validation codes, and
// holds what goes with them: turning typed phone numbers into MSISDNs and drawing the
// codes.
//
// A Sender is one of three: Webhook posts JSON to a gateway the operator runs, Twilio
// speaks the REST shape of Twilio's Message resource, and Log writes the message to the
// server log for development.
package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
)

// Sender sends one text message.
type Sender interface {
	// Send delivers text to msisdn, a phone number as E.164 digits without '+'
	// (the Matrix msisdn form). It returns once the carrier or gateway has accepted the
	// message, or with an error saying why it did not; ctx bounds the wait.
	Send(ctx context.Context, msisdn, text string) error
}

// ErrRejected is wrapped by Send's error when the gateway or carrier answered but did
// not accept the message; the error carries its status and reason.
var ErrRejected = errors.New("the SMS gateway refused the message")

// defaultTimeout bounds one send when the options give no timeout.
const defaultTimeout = 10 * time.Second

// maxAnswerBytes is the most of a gateway's answer that is read, for an error message.
const maxAnswerBytes = 16 << 10

// New returns the Sender that cfg selects, or nil and no error when cfg.Sender is empty
// (phone numbers are off). logger receives the Log sender's messages. It fails when the
// settings of the selected sender or the default country are unusable.
func New(cfg config.SMS, logger *slog.Logger) (Sender, error) {
	if cfg.DefaultCountry != "" {
		if err := CheckCountry(cfg.DefaultCountry); err != nil {
			return nil, fmt.Errorf("sms.default_country: %w", err)
		}
	}

	var (
		sender Sender
		err    error
	)
	switch cfg.Sender {
	case "":
		return nil, nil
	case "log":
		return NewLog(logger), nil
	case "webhook":
		sender, err = NewWebhook(WebhookOptions{
			URL:          cfg.Webhook.URL,
			SecretHeader: cfg.Webhook.SecretHeader,
			Secret:       cfg.Webhook.Secret,
			Timeout:      cfg.Timeout,
		})
	case "twilio":
		sender, err = NewTwilio(TwilioOptions{
			BaseURL:             cfg.Twilio.BaseURL,
			AccountSID:          cfg.Twilio.AccountSID,
			AuthToken:           cfg.Twilio.AuthToken,
			From:                cfg.Twilio.From,
			MessagingServiceSID: cfg.Twilio.MessagingServiceSID,
			Timeout:             cfg.Timeout,
		})
	default:
		return nil, fmt.Errorf("sms.sender %q is not webhook, twilio or log", cfg.Sender)
	}

	// A nil *Webhook in a Sender would not compare equal to nil.
	if err != nil {
		return nil, err
	}
	return sender, nil
}

// newHTTPClient returns a client with the given timeout that does not follow
// redirects: a redirect would carry the secret header or the basic-auth credentials to
// wherever it points.
func newHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// readAnswer reads at most maxAnswerBytes of an answer body and drains a little more so
// the connection can be reused.
func readAnswer(body io.Reader) []byte {
	data, _ := io.ReadAll(io.LimitReader(body, maxAnswerBytes))
	_, _ = io.CopyN(io.Discard, body, maxAnswerBytes)
	return data
}

// checkMSISDN accepts 1 to 15 ASCII digits, the E.164 length limit.
func checkMSISDN(msisdn string) error {
	if msisdn == "" || len(msisdn) > 15 {
		return fmt.Errorf("%w: msisdn %q has not 1 to 15 digits", ErrInvalidNumber, msisdn)
	}
	for i := range len(msisdn) {
		if msisdn[i] < '0' || msisdn[i] > '9' {
			return fmt.Errorf("%w: msisdn %q is not all digits", ErrInvalidNumber, msisdn)
		}
	}
	return nil
}
