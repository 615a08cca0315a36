package uia

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TypeRecaptcha is the auth type of the captcha stage.
const TypeRecaptcha = "m.login.recaptcha"

// Recaptcha is m.login.recaptcha, checked against any verifier of the reCAPTCHA shape:
// Google reCAPTCHA, hCaptcha and Cloudflare Turnstile all take secret and response as
// a form POST and answer {"success": bool}.
type Recaptcha struct {
	SiteKey   string
	Secret    string
	VerifyURL string
	// Client sends the verification; nil means a client with a 10 s timeout.
	Client *http.Client
}

// Type implements Stage.
func (Recaptcha) Type() string { return TypeRecaptcha }

// Params implements Stage: the public key the client's widget needs.
func (r Recaptcha) Params() any { return map[string]string{"public_key": r.SiteKey} }

// Prepare implements Preparer: the verifier is asked outside the transaction.
func (r Recaptcha) Prepare(ctx context.Context, a *Attempt) error {
	response, ok := stringField(a.Auth, "response")
	if !ok || response == "" {
		return mxerr.ErrMissingParam.Msg("auth.response is required")
	}

	ok, err := r.verify(ctx, response)
	if err != nil {
		return err
	}
	if !ok {
		return mxerr.New(http.StatusUnauthorized, mxerr.CodeUnauthorized,
			"the captcha was not solved")
	}
	return nil
}

// Complete implements Stage; Prepare did the work.
func (Recaptcha) Complete(context.Context, *Attempt) error { return nil }

func (r Recaptcha) verify(ctx context.Context, response string) (bool, error) {
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	form := url.Values{"secret": {r.Secret}, "response": {response}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.VerifyURL,
		strings.NewReader(form.Encode()))
	if err != nil {
		return false, fmt.Errorf("build captcha verification for %s: %w", r.VerifyURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("verify captcha at %s: %w", r.VerifyURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("verify captcha at %s: status %d", r.VerifyURL,
			resp.StatusCode)
	}

	var out struct {
		Success bool `json:"success"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<16)).Decode(&out); err != nil {
		return false, fmt.Errorf("verify captcha at %s: decode answer: %w", r.VerifyURL, err)
	}
	return out.Success, nil
}
