package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
)

// WebhookOptions configures a Webhook.
type WebhookOptions struct {
	// URL receives the POST; https, or http on a loopback host.
	URL string
	// SecretHeader names the header that carries Secret; both are required.
	SecretHeader string
	// Secret is the header's value, such as "Bearer s3cr3t".
	Secret string
	// Timeout bounds one send; zero means 10 seconds.
	Timeout time.Duration
}

// Webhook sends each message as a JSON POST to a gateway of the operator's:
//
//	POST <URL>
//	Content-Type: application/json
//	<SecretHeader>: <Secret>
//
//	{"to":"+447700900123","text":"Your code is 123456"}
//
// "to" is the E.164 number with its '+', the form most gateways take. Any 2xx answer
// means the gateway accepted the message; anything else is an error wrapping
// ErrRejected. Redirects are not followed.
type Webhook struct {
	opts   WebhookOptions
	client *http.Client
}

// webhookMessage is the body of the webhook POST.
type webhookMessage struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// NewWebhook returns a Webhook sender. It fails when the URL is not https (or http on a
// loopback host), or when SecretHeader or Secret is empty.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	if err := config.CheckServiceURL(opts.URL); err != nil {
		return nil, fmt.Errorf("webhook SMS sender URL: %w", err)
	}
	if opts.SecretHeader == "" || opts.Secret == "" {
		return nil, fmt.Errorf("webhook SMS sender: a secret header (%q) and a secret are "+
			"needed", opts.SecretHeader)
	}
	return &Webhook{opts: opts, client: newHTTPClient(opts.Timeout)}, nil
}

// Send posts the message to the gateway; see Webhook for the wire format.
func (w *Webhook) Send(ctx context.Context, msisdn, text string) error {
	if err := checkMSISDN(msisdn); err != nil {
		return err
	}

	body, err := json.Marshal(webhookMessage{To: "+" + msisdn, Text: text})
	if err != nil {
		return fmt.Errorf("encode the webhook message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opts.URL,
		bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build the webhook request to %s: %w", w.opts.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(w.opts.SecretHeader, w.opts.Secret)

	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("send SMS through webhook %s: %w", w.opts.URL, err)
	}
	defer resp.Body.Close()

	answer := readAnswer(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: webhook %s answered %d: %.200s", ErrRejected, w.opts.URL,
			resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return nil
}
