package e2e

import (
	"context"
	"errors"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxid"
)

const authTypeTerms mautrix.AuthType = "m.login.terms"

// withTerms requires a registration token and acceptance of one policy.
func withTerms() testserver.Option {
	return testserver.WithConfig(func(c *config.Config) {
		c.Registration.Terms = []config.TermsPolicy{{ID: "privacy_policy", Version: "2.1",
			Languages: map[string]config.TermsText{
				"en": {Name: "Privacy Policy", URL: "https://example.org/privacy-2.1.html"},
			}}}
	})
}

// TestRegisterTokenAndTerms walks the two-stage flow [registration token, terms] with
// mautrix-go, sending only auth after the first request, and checks that the
// acceptance of the policy version is recorded for the new user.
func TestRegisterTokenAndTerms(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t, withTerms())
		cli := newClient(t, srv)
		req := &mautrix.ReqRegister[any]{Username: "tess",
			Password: "terms and tokens, 5 lanterns"}

		_, uia, err := cli.Register(t.Context(), req)
		if err != nil || uia == nil || !hasFlow(uia, authTypeRegistrationToken,
			authTypeTerms) {
			t.Fatalf("first request: %+v, %v; want the flow [token, terms]", uia, err)
		}
		terms, _ := uia.Params[authTypeTerms].(map[string]any)
		policies, _ := terms["policies"].(map[string]any)
		policy, _ := policies["privacy_policy"].(map[string]any)
		if policy["version"] != "2.1" || policy["en"] == nil {
			t.Errorf("terms params %v lack the policy", uia.Params)
		}

		// The terms stage before the token stage is out of order: a failed stage.
		_, _, err = cli.Register(t.Context(), &mautrix.ReqRegister[any]{
			Auth: mautrix.BaseAuthData{Type: authTypeTerms, Session: uia.Session}})
		if !errors.Is(err, mautrix.MForbidden) {
			t.Errorf("terms first: %v; want 401 M_FORBIDDEN", err)
		}

		token := registrationTokenAuth{BaseAuthData: mautrix.BaseAuthData{
			Type: authTypeRegistrationToken, Session: uia.Session},
			Token: srv.RegistrationToken(t)}
		_, uia3, err := cli.Register(t.Context(), &mautrix.ReqRegister[any]{Auth: token})
		if err != nil || uia3 == nil || len(uia3.Completed) != 1 {
			t.Fatalf("token stage: %+v, %v; want one stage completed", uia3, err)
		}

		resp, _, err := cli.Register(t.Context(), &mautrix.ReqRegister[any]{
			Auth: mautrix.BaseAuthData{Type: authTypeTerms, Session: uia.Session}})
		if err != nil || resp == nil || resp.UserID != "@tess:localhost" {
			t.Fatalf("terms stage: %+v, %v; want the account", resp, err)
		}

		login(t, srv, "tess", "terms and tokens, 5 lanterns")
		accepted, err := srv.Store.TermsAcceptances(context.Background(),
			mxid.UserID(resp.UserID))
		if err != nil || len(accepted["privacy_policy"]) != 1 ||
			accepted["privacy_policy"][0] != "2.1" {
			t.Errorf("recorded acceptances %v, %v; want privacy_policy 2.1", accepted, err)
		}
	})
}
