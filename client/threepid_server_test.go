package client_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/mailpittest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// mailedCode finds the 6-digit code on a line of its own in a validation mail.
var mailedCode = regexp.MustCompile(`(?m)^(\d{6})\r?$`)

// TestThreePIDMethodsAgainstServer walks the typed client's 3PID methods against a real
// server that mails through Mailpit: RequestEmailToken, SubmitValidationToken with the
// mailed code, AddThreePID through UIA with the password stage, ThreePIDs,
// UnbindThreePID (nothing bound: no-support, the address stays) and DeleteThreePID.
func TestThreePIDMethodsAgainstServer(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t)
	srv := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Email.SMTPURL = mp.SMTPURL()
		c.Email.From = "Test Server <noreply@example.org>"
	}))
	reg := registerUser(t, srv, "alice")
	c := newClient(t, srv.URL, reg.Tokens())
	ctx := t.Context()
	const address, secret = "alice@example.org", "client-secret"

	tok, err := c.RequestEmailToken(ctx, client.PurposeAddThreePID,
		&client.EmailTokenRequest{ClientSecret: secret, Email: address, SendAttempt: 1})
	if err != nil {
		t.Fatalf("RequestEmailToken: %v", err)
	}
	code := mailedCode.FindStringSubmatch(mp.Wait(t, address).Text)
	if code == nil {
		t.Fatal("the validation mail carries no code")
	}
	sub, err := c.SubmitValidationToken(ctx, tok.SubmitURL,
		&client.SubmitTokenRequest{SID: tok.SID, ClientSecret: secret, Token: code[1]})
	if err != nil || !sub.Success {
		t.Fatalf("SubmitValidationToken: %+v, %v", sub, err)
	}

	u := client.UIA{Stages: []client.Stage{
		client.PasswordStage(client.ByUser(string(reg.UserID)), testPassword)}}
	err = u.Do(ctx, func(ctx context.Context, auth *client.AuthData) error {
		return c.AddThreePID(ctx, &client.AddThreePIDRequest{Auth: auth,
			ClientSecret: secret, SID: tok.SID})
	})
	if err != nil {
		t.Fatalf("AddThreePID: %v", err)
	}
	list, err := c.ThreePIDs(ctx)
	if err != nil || len(list.ThreePIDs) != 1 || list.ThreePIDs[0].Address != address {
		t.Fatalf("ThreePIDs: %+v, %v; want %s alone", list, err, address)
	}

	req := &client.ThreePIDUnbindRequest{Medium: client.MediumEmail, Address: address}
	res, err := c.UnbindThreePID(ctx, req)
	if err != nil || res.IDServerUnbindResult != client.UnbindNoSupport {
		t.Errorf("UnbindThreePID: %+v, %v; want no-support", res, err)
	}
	if list, err := c.ThreePIDs(ctx); err != nil || len(list.ThreePIDs) != 1 {
		t.Errorf("after the unbind ThreePIDs: %+v, %v; want the address kept", list, err)
	}
	if _, err := c.DeleteThreePID(ctx, req); err != nil {
		t.Fatalf("DeleteThreePID: %v", err)
	}
	if list, err := c.ThreePIDs(ctx); err != nil || len(list.ThreePIDs) != 0 {
		t.Errorf("after the delete ThreePIDs: %+v, %v; want none", list, err)
	}
}
