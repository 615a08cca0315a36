package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/identity/identitytest"
	"github.com/mxaccounts/mxaccounts/internal/mailpittest"
	"github.com/mxaccounts/mxaccounts/internal/sms/smstest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// newPassword is the password that the reset tests set.
const newPassword = testPassword + " renewed"

// wantCode fails the test unless err matches want under errors.Is; the status is not
// checked, as the 3PID errors of mxerr do not all carry the status the server sends.
func wantCode(t *testing.T, what string, err error, want *mxerr.Error) {
	t.Helper()

	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %s", what, err, want.Code)
	}
}

// emailValidation is a ThreePIDValidation that requests a mailed token for address and
// purpose through c, and validates the session with the mailed code.
func emailValidation(t *testing.T, c *client.Client, mp *mailpittest.Server,
	purpose client.ValidationPurpose, address string,
) client.ThreePIDValidation {
	t.Helper()

	return client.ThreePIDValidation{
		RequestToken: func(ctx context.Context, secret string) (*client.RequestTokenResponse,
			error,
		) {
			return c.RequestEmailToken(ctx, purpose, &client.EmailTokenRequest{
				ClientSecret: secret, Email: address, SendAttempt: 1})
		},
		Validate: func(ctx context.Context, v client.ValidationSession) (
			*client.ThreePIDCredentials, error,
		) {
			code := waitMailedCode(t, mp, address)
			_, err := c.SubmitValidationToken(ctx, v.SubmitURL, &client.SubmitTokenRequest{
				SID: v.SID, ClientSecret: v.ClientSecret, Token: code})
			if err != nil {
				return nil, err
			}
			return v.Credentials(), nil
		},
	}
}

// resetPassword runs a tokenless ChangePassword with stage through UIA.
func resetPassword(t *testing.T, srv *testserver.Server, stage client.Stage) error {
	t.Helper()

	c := newClient(t, srv.URL, client.Tokens{})
	u := client.UIA{Stages: []client.Stage{stage}}
	return u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		return c.ChangePassword(ctx, &client.ChangePasswordRequest{Auth: auth,
			NewPassword: newPassword})
	})
}

// TestEmailRequestTokenFamiliesAgainstServer checks RequestEmailToken for the register
// and password families (a sid and the submit URL; M_THREEPID_IN_USE and
// M_THREEPID_NOT_FOUND), SubmitValidationToken with a wrong code
// (M_TOKEN_INCORRECT), AddThreePIDDeprecated with a validated session (listed
// afterwards) and with an unvalidated one (M_THREEPID_AUTH_FAILED).
func TestEmailRequestTokenFamiliesAgainstServer(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t)
	reg := registerUser(t, srv, "alice")
	c := newClient(t, srv.URL, reg.Tokens())
	ctx := t.Context()
	const taken, free = "alice@example.org", "new@example.org"
	addEmail(t, c, mp, string(reg.UserID), taken)
	wantSubmit := srv.URL + "/_mxaccounts/validate/email/submitToken"

	for _, tt := range []struct {
		purpose client.ValidationPurpose
		ok      string
		bad     string
		want    *mxerr.Error
	}{
		{client.PurposeRegister, free, taken, mxerr.ErrThreepidInUse},
		{client.PurposePasswordReset, taken, "nobody@example.org", mxerr.ErrThreepidNotFound},
		{client.PurposeAddThreePID, free, taken, mxerr.ErrThreepidInUse},
	} {
		secret := client.NewClientSecret()
		tok, err := c.RequestEmailToken(ctx, tt.purpose,
			&client.EmailTokenRequest{ClientSecret: secret, Email: tt.ok, SendAttempt: 1})
		if err != nil || tok.SID == "" || tok.SubmitURL != wantSubmit {
			t.Errorf("RequestEmailToken(%s, %s): %+v, %v; want a sid and %s",
				tt.purpose, tt.ok, tok, err, wantSubmit)
		} else {
			waitMailedCode(t, mp, tt.ok)
		}

		_, err = c.RequestEmailToken(ctx, tt.purpose,
			&client.EmailTokenRequest{ClientSecret: secret, Email: tt.bad, SendAttempt: 1})
		wantCode(t, "RequestEmailToken("+string(tt.purpose)+", "+tt.bad+")", err, tt.want)
	}

	secret := client.NewClientSecret()
	const other = "other@example.org"
	tok, err := c.RequestEmailToken(ctx, client.PurposeAddThreePID,
		&client.EmailTokenRequest{ClientSecret: secret, Email: other, SendAttempt: 1})
	if err != nil {
		t.Fatalf("RequestEmailToken(%s): %v", other, err)
	}
	code := waitMailedCode(t, mp, other)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = c.SubmitValidationToken(ctx, tok.SubmitURL,
		&client.SubmitTokenRequest{SID: tok.SID, ClientSecret: secret, Token: wrong})
	wantMatrixError(t, err, mxerr.ErrTokenIncorrect, http.StatusBadRequest)

	creds := client.ThreePIDCredentials{SID: tok.SID, ClientSecret: secret}
	_, err = c.AddThreePIDDeprecated(ctx, &client.AddThreePIDDeprecatedRequest{
		ThreePIDCreds: creds})
	wantCode(t, "AddThreePIDDeprecated with an unvalidated session", err,
		mxerr.ErrThreepidAuthFailed)

	submitCode(t, c, tok, secret, code)
	res, err := c.AddThreePIDDeprecated(ctx, &client.AddThreePIDDeprecatedRequest{
		ThreePIDCreds: creds})
	if err != nil || res == nil {
		t.Fatalf("AddThreePIDDeprecated: %+v, %v", res, err)
	}
	list, err := c.ThreePIDs(ctx)
	if err != nil || len(list.ThreePIDs) != 2 {
		t.Fatalf("ThreePIDs: %+v, %v; want %s and %s", list, err, taken, other)
	}
	for _, p := range list.ThreePIDs {
		if p.Medium != client.MediumEmail || (p.Address != taken && p.Address != other) {
			t.Errorf("ThreePIDs lists %+v, want only %s and %s", p, taken, other)
		}
	}
}

// TestRegisterWithEmailStageAgainstServer drives a real registration through the
// m.login.email.identity solver (required for registration, mailed code) and checks
// that the address joins the new account; registering it again fails in the solver
// with M_THREEPID_IN_USE.
func TestRegisterWithEmailStageAgainstServer(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.Email.RequireForRegistration = true
		}))
	const address = "bob@example.org"

	register := func(username string) (*client.RegisterResponse, error) {
		c := newClient(t, srv.URL, client.Tokens{})
		u := client.UIA{Stages: []client.Stage{client.EmailIdentityStage(
			emailValidation(t, c, mp, client.PurposeRegister, address))}}
		var resp *client.RegisterResponse
		err := u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
			var err error
			resp, err = c.Register(ctx, &client.RegisterRequest{Auth: auth,
				Username: username, Password: testPassword})
			return err
		})
		return resp, err
	}

	resp, err := register("bob")
	if err != nil {
		t.Fatalf("register with the email stage: %v", err)
	}
	if resp.UserID.Localpart() != "bob" || resp.AccessToken == "" {
		t.Errorf("register answered %+v, want @bob with an access token", resp)
	}
	c := newClient(t, srv.URL, resp.Tokens())
	list, err := c.ThreePIDs(t.Context())
	if err != nil || len(list.ThreePIDs) != 1 || list.ThreePIDs[0].Address != address {
		t.Errorf("ThreePIDs of the new account: %+v, %v; want %s", list, err, address)
	}

	_, err = register("bob2")
	wantMatrixError(t, err, mxerr.ErrThreepidInUse, http.StatusBadRequest)
}

// TestPasswordResetWithEmailStageAgainstServer drives a real password reset through the
// m.login.email.identity solver and logs in by address with the new password; a reset
// for an address no account holds fails in the solver with M_THREEPID_NOT_FOUND.
func TestPasswordResetWithEmailStageAgainstServer(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t)
	reg := registerUser(t, srv, "alice")
	c := newClient(t, srv.URL, reg.Tokens())
	const address = "alice@example.org"
	addEmail(t, c, mp, string(reg.UserID), address)
	anon := newClient(t, srv.URL, client.Tokens{})

	err := resetPassword(t, srv, client.EmailIdentityStage(
		emailValidation(t, anon, mp, client.PurposePasswordReset, address)))
	if err != nil {
		t.Fatalf("password reset with the email stage: %v", err)
	}

	login, err := anon.Login(t.Context(), &client.LoginRequest{
		Type:       client.LoginTypePassword,
		Identifier: client.ByThreePID(client.MediumEmail, address), Password: newPassword})
	if err != nil || login.UserID != reg.UserID {
		t.Errorf("login by address with the new password: %+v, %v", login, err)
	}

	err = resetPassword(t, srv, client.EmailIdentityStage(
		emailValidation(t, anon, mp, client.PurposePasswordReset, "nobody@example.org")))
	wantMatrixError(t, err, mxerr.ErrThreepidNotFound, http.StatusBadRequest)
}

// TestPhoneMethodsAgainstServer checks the phone-number side against a real server
// whose texts go to a fake webhook gateway: RequestMSISDNToken in all three families
// (M_INVALID_PARAM, M_THREEPID_IN_USE, M_THREEPID_NOT_FOUND), SubmitValidationToken
// with a wrong and with the texted code, LoginFlows and Login with a phone identifier,
// and a password reset through the m.login.msisdn solver.
func TestPhoneMethodsAgainstServer(t *testing.T) {
	t.Parallel()
	g := smstest.Start(t)
	srv := testserver.Start(t, testserver.WithConfig(g.Configure))
	reg := registerUser(t, srv, "alice")
	c := newClient(t, srv.URL, reg.Tokens())
	ctx := t.Context()
	wantSubmit := srv.URL + "/_mxaccounts/validate/msisdn/submitToken"

	phone := func(secret, number string) *client.MSISDNTokenRequest {
		return &client.MSISDNTokenRequest{ClientSecret: secret, Country: "GB",
			PhoneNumber: number, SendAttempt: 1}
	}
	_, err := c.RequestMSISDNToken(ctx, client.PurposeRegister, phone("cs", "07700 900123"))
	wantMatrixError(t, err, mxerr.ErrInvalidParam, http.StatusBadRequest)

	tok, err := c.RequestMSISDNToken(ctx, client.PurposeRegister, phone("cs", phoneNational))
	if err != nil || tok.SID == "" || tok.SubmitURL != wantSubmit {
		t.Fatalf("RequestMSISDNToken(register): %+v, %v; want a sid and %s",
			tok, err, wantSubmit)
	}
	g.Code(t, phoneMSISDN)

	secret := client.NewClientSecret()
	tok, err = c.RequestMSISDNToken(ctx, client.PurposeAddThreePID, phone(secret, phoneNational))
	if err != nil || tok.SubmitURL != wantSubmit {
		t.Fatalf("RequestMSISDNToken(account/3pid): %+v, %v", tok, err)
	}
	code := g.Code(t, phoneMSISDN)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = c.SubmitValidationToken(ctx, tok.SubmitURL,
		&client.SubmitTokenRequest{SID: tok.SID, ClientSecret: secret, Token: wrong})
	wantMatrixError(t, err, mxerr.ErrTokenIncorrect, http.StatusBadRequest)
	submitCode(t, c, tok, secret, code)
	addValidated(t, c, string(reg.UserID), tok.SID, secret)

	list, err := c.ThreePIDs(ctx)
	if err != nil || len(list.ThreePIDs) != 1 || list.ThreePIDs[0].Medium != client.MediumMSISDN ||
		list.ThreePIDs[0].Address != phoneMSISDN {
		t.Fatalf("ThreePIDs: %+v, %v; want msisdn %s alone", list, err, phoneMSISDN)
	}

	for _, purpose := range []client.ValidationPurpose{client.PurposeRegister,
		client.PurposeAddThreePID} {
		_, err := c.RequestMSISDNToken(ctx, purpose, phone("cs2", phoneNational))
		wantCode(t, "RequestMSISDNToken("+string(purpose)+") of a number in use", err,
			mxerr.ErrThreepidInUse)
	}
	_, err = c.RequestMSISDNToken(ctx, client.PurposePasswordReset, phone("cs3", "07400 654321"))
	wantCode(t, "RequestMSISDNToken(account/password) of an unknown number", err,
		mxerr.ErrThreepidNotFound)

	flows, err := c.LoginFlows(ctx)
	if err != nil || !flows.Supports(client.LoginTypePassword) {
		t.Fatalf("LoginFlows: %+v, %v; want m.login.password", flows, err)
	}
	anon := newClient(t, srv.URL, client.Tokens{})
	login, err := anon.Login(ctx, &client.LoginRequest{Type: client.LoginTypePassword,
		Identifier: client.ByPhone("GB", phoneNational), Password: testPassword})
	if err != nil || login.UserID != reg.UserID || login.AccessToken == "" {
		t.Errorf("Login by phone: %+v, %v; want %s", login, err, reg.UserID)
	}
	_, err = anon.Login(ctx, &client.LoginRequest{Type: client.LoginTypePassword,
		Identifier: client.ByPhone("GB", phoneNational), Password: "wrong password"})
	wantMatrixError(t, err, mxerr.ErrForbidden, http.StatusForbidden)

	validation := func(number, msisdn string) client.ThreePIDValidation {
		return client.ThreePIDValidation{
			RequestToken: func(ctx context.Context, secret string) (
				*client.RequestTokenResponse, error,
			) {
				return anon.RequestMSISDNToken(ctx, client.PurposePasswordReset,
					phone(secret, number))
			},
			Validate: func(ctx context.Context, v client.ValidationSession) (
				*client.ThreePIDCredentials, error,
			) {
				_, err := anon.SubmitValidationToken(ctx, v.SubmitURL,
					&client.SubmitTokenRequest{SID: v.SID, ClientSecret: v.ClientSecret,
						Token: g.Code(t, msisdn)})
				if err != nil {
					return nil, err
				}
				return v.Credentials(), nil
			},
		}
	}
	err = resetPassword(t, srv, client.MSISDNStage(validation(phoneNational, phoneMSISDN)))
	if err != nil {
		t.Fatalf("password reset with the msisdn stage: %v", err)
	}
	login, err = anon.Login(ctx, &client.LoginRequest{Type: client.LoginTypePassword,
		Identifier: client.ByPhone("GB", phoneNational), Password: newPassword})
	if err != nil || login.UserID != reg.UserID {
		t.Errorf("Login by phone with the new password: %+v, %v", login, err)
	}

	err = resetPassword(t, srv, client.MSISDNStage(validation("07400 654321",
		"447400654321")))
	wantMatrixError(t, err, mxerr.ErrThreepidNotFound, http.StatusBadRequest)
}

// TestBindThreePIDAgainstServer binds a session of a fake identity server through a real
// server and checks the binding there; an unvalidated session is refused with the
// identity server's M_SESSION_NOT_VALIDATED and a wrong identity token with
// M_UNAUTHORIZED.
func TestBindThreePIDAgainstServer(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Identity.AllowInsecureLoopback = true
	}))
	is := identitytest.New(t, identitytest.Options{Homeserver: srv.Config.ServerName,
		KeyURL: srv.URL + "/_matrix/key/v2/server"})
	reg := registerUser(t, srv, "alice")
	c := newClient(t, srv.URL, reg.Tokens())
	ctx := t.Context()
	const address = "alice@example.org"
	is.AddSession(identitytest.Session{SID: "validated", ClientSecret: "is-cs",
		Medium: "email", Address: address, Validated: true})
	is.AddSession(identitytest.Session{SID: "unvalidated", ClientSecret: "is-cs",
		Medium: "email", Address: "other@example.org"})
	bind := func(sid, token string) error {
		return c.BindThreePID(ctx, &client.BindThreePIDRequest{ClientSecret: "is-cs",
			IDServer: is.Name(), IDAccessToken: token, SID: sid})
	}

	err := bind("unvalidated", identitytest.DefaultAccessToken)
	notValidated := mxerr.New(http.StatusBadRequest, "M_SESSION_NOT_VALIDATED", "")
	wantMatrixError(t, err, notValidated, http.StatusBadRequest)
	err = bind("validated", "wrong")
	wantMatrixError(t, err, mxerr.New(http.StatusUnauthorized, mxerr.CodeUnauthorized, ""),
		http.StatusUnauthorized)

	if err := bind("validated", identitytest.DefaultAccessToken); err != nil {
		t.Fatalf("BindThreePID: %v", err)
	}
	if user, ok := is.Binding("email", address); !ok || user != reg.UserID {
		t.Errorf("the identity server binds %s to %q, want %s", address, user, reg.UserID)
	}
}
