package client_test

import (
	"context"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/mailpittest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// Values of the phone-number tests: an example mobile number of the United Kingdom as
// typed there and as its MSISDN, and the secret the fake SMS gateway expects.
const (
	phoneNational = "07400 123456"
	phoneMSISDN   = "447400123456"
)

// emailServer starts Mailpit and a test server that mails through it, with opts
// applied after the email settings.
func emailServer(
	t *testing.T, opts ...testserver.Option,
) (*testserver.Server, *mailpittest.Server) {
	t.Helper()

	mp := mailpittest.Start(t)
	all := append([]testserver.Option{testserver.WithConfig(func(c *config.Config) {
		c.Email.SMTPURL = mp.SMTPURL()
		c.Email.From = "Test Server <noreply@example.org>"
	})}, opts...)
	return testserver.Start(t, all...), mp
}

// waitMailedCode waits for the next mails to address until one carries a validation
// code, skipping up to three notices, and returns the code.
func waitMailedCode(t *testing.T, mp *mailpittest.Server, address string) string {
	t.Helper()

	for range 4 {
		if c := mailedCode.FindStringSubmatch(mp.Wait(t, address).Text); c != nil {
			return c[1]
		}
	}
	t.Fatalf("no validation mail with a code reached %s", address)
	return ""
}

// submitCode submits code for the session tok with client secret secret, failing the
// test unless the server accepts it.
func submitCode(
	t *testing.T, c *client.Client, tok *client.RequestTokenResponse, secret, code string,
) {
	t.Helper()

	sub, err := c.SubmitValidationToken(t.Context(), tok.SubmitURL,
		&client.SubmitTokenRequest{SID: tok.SID, ClientSecret: secret, Token: code})
	if err != nil || !sub.Success {
		t.Fatalf("SubmitValidationToken: %+v, %v", sub, err)
	}
}

// addValidated adds the validated session (sid, secret) to the account of c through
// UIA with the password stage of userID.
func addValidated(t *testing.T, c *client.Client, userID, sid, secret string) {
	t.Helper()

	u := client.UIA{Stages: []client.Stage{
		client.PasswordStage(client.ByUser(userID), testPassword)}}
	err := u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		return c.AddThreePID(ctx, &client.AddThreePIDRequest{Auth: auth,
			ClientSecret: secret, SID: sid})
	})
	if err != nil {
		t.Fatalf("AddThreePID: %v", err)
	}
}

// addEmail validates address for the account of c through the mailed code and adds it.
func addEmail(t *testing.T, c *client.Client, mp *mailpittest.Server, userID, address string) {
	t.Helper()

	secret := client.NewClientSecret()
	tok, err := c.RequestEmailToken(t.Context(), client.PurposeAddThreePID,
		&client.EmailTokenRequest{ClientSecret: secret, Email: address, SendAttempt: 1})
	if err != nil {
		t.Fatalf("RequestEmailToken(%s): %v", address, err)
	}

	submitCode(t, c, tok, secret, waitMailedCode(t, mp, address))

	addValidated(t, c, userID, tok.SID, secret)
}
