package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
)

// TwilioOptions configures a Twilio sender.
type TwilioOptions struct {
	// BaseURL is the API's scheme and host, https://api.twilio.com in production; a
	// loopback http URL for a test double.
	BaseURL string
	// AccountSID names the account in the path and is the basic-auth user.
	AccountSID string
	// AuthToken is the basic-auth password.
	AuthToken string
	// From is the sending number in E.164 with its '+'.
	From string
	// MessagingServiceSID lets the carrier pick the sender from a messaging service.
	// One of From and MessagingServiceSID is needed; both may be set.
	MessagingServiceSID string
	// Timeout bounds one send; zero means 10 seconds.
	Timeout time.Duration
}

// Twilio sends messages through an API with the shape of Twilio's Message resource:
//
//	POST <BaseURL>/2010-04-01/Accounts/<AccountSID>/Messages.json
//	Authorization: Basic base64(<AccountSID>:<AuthToken>)
//	Content-Type: application/x-www-form-urlencoded
//
//	To=%2B447700900123&From=...&MessagingServiceSid=...&Body=...
//
// The carrier answers 201 with the message resource. An error answer carries a JSON
// body with code and message, which Send's error (wrapping ErrRejected) quotes.
type Twilio struct {
	opts   TwilioOptions
	client *http.Client
}

// twilioError is the body of an error answer.
type twilioError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// NewTwilio returns a Twilio sender. It fails when the base URL is not https (or http
// on a loopback host), or when the account, the token or both senders are missing.
func NewTwilio(opts TwilioOptions) (*Twilio, error) {
	if err := config.CheckServiceURL(opts.BaseURL); err != nil {
		return nil, fmt.Errorf("twilio SMS sender base URL: %w", err)
	}
	if opts.AccountSID == "" || opts.AuthToken == "" {
		return nil, fmt.Errorf("twilio SMS sender: account SID and auth token are needed")
	}
	if opts.From == "" && opts.MessagingServiceSID == "" {
		return nil, fmt.Errorf("twilio SMS sender: a From number or a messaging service " +
			"SID is needed")
	}

	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	return &Twilio{opts: opts, client: newHTTPClient(opts.Timeout)}, nil
}

// Send creates a message resource for msisdn; see Twilio for the wire format.
func (t *Twilio) Send(ctx context.Context, msisdn, text string) error {
	if err := checkMSISDN(msisdn); err != nil {
		return err
	}

	form := url.Values{"To": {"+" + msisdn}, "Body": {text}}
	if t.opts.From != "" {
		form.Set("From", t.opts.From)
	}
	if t.opts.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", t.opts.MessagingServiceSID)
	}

	endpoint := t.opts.BaseURL + "/2010-04-01/Accounts/" +
		url.PathEscape(t.opts.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint,
		strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("build the message request to %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(t.opts.AccountSID, t.opts.AuthToken)

	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("send SMS through %s: %w", t.opts.BaseURL, err)
	}
	defer resp.Body.Close()

	answer := readAnswer(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}

	var apiErr twilioError
	if json.Unmarshal(answer, &apiErr) == nil && apiErr.Message != "" {
		return fmt.Errorf("%w: %s answered %d, error %d: %s", ErrRejected, t.opts.BaseURL,
			resp.StatusCode, apiErr.Code, apiErr.Message)
	}
	return fmt.Errorf("%w: %s answered %d: %.200s", ErrRejected, t.opts.BaseURL,
		resp.StatusCode, strings.TrimSpace(string(answer)))
}
