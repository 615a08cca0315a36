package client_test

import (
	"net/http"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TestLoginFlows checks that the real server offers password login.
func TestLoginFlows(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	resp, err := newClient(t, srv.URL, client.Tokens{}).LoginFlows(t.Context())
	if err != nil {
		t.Fatalf("login flows: %v", err)
	}
	if !resp.Supports(client.LoginTypePassword) {
		t.Errorf("flows %+v do not offer %s", resp.Flows, client.LoginTypePassword)
	}
}

// TestLogin logs in with each identifier form the real server accepts, and checks the
// errors of the forms and credentials it refuses.
func TestLogin(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	reg := registerUser(t, srv, "henry")
	c := newClient(t, srv.URL, client.Tokens{})

	accepted := []struct {
		name string
		id   *client.UserIdentifier
	}{
		{"localpart", client.ByUser("henry")},
		{"user ID", client.ByUser(string(reg.UserID))},
		{"user ID in another case", client.ByUser("@HENRY:" + srv.Config.ServerName)},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Login(t.Context(), &client.LoginRequest{
				Type: client.LoginTypePassword, Identifier: tt.id, Password: testPassword})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if resp.UserID != reg.UserID || resp.AccessToken == "" || resp.DeviceID == "" {
				t.Errorf("answer %+v, want a session of %s", resp, reg.UserID)
			}
			if resp.WellKnown != nil && resp.WellKnown.Homeserver.BaseURL == "" {
				t.Errorf("well_known %+v has no base URL", resp.WellKnown)
			}
		})
	}

	type refusal struct {
		name       string
		req        *client.LoginRequest
		want       *mxerr.Error
		wantStatus int
	}
	refused := []refusal{
		{"wrong password", &client.LoginRequest{Type: client.LoginTypePassword,
			Identifier: client.ByUser("henry"), Password: "wrong"},
			mxerr.ErrForbidden, http.StatusForbidden},
		{"unknown user", &client.LoginRequest{Type: client.LoginTypePassword,
			Identifier: client.ByUser("nobody"), Password: testPassword},
			mxerr.ErrForbidden, http.StatusForbidden},
		// The server holds no 3PIDs yet, so 3PID identifiers match nobody.
		{"unknown email", &client.LoginRequest{Type: client.LoginTypePassword,
			Identifier: client.ByThreePID(client.MediumEmail, "henry@example.org"),
			Password:   testPassword}, mxerr.ErrForbidden, http.StatusForbidden},
		{"unknown phone", &client.LoginRequest{Type: client.LoginTypePassword,
			Identifier: client.ByPhone("GB", "07700900001"), Password: testPassword},
			mxerr.ErrForbidden, http.StatusForbidden},
	}
	flows, err := c.LoginFlows(t.Context())
	if err != nil {
		t.Fatalf("login flows: %v", err)
	}
	// A server that offers token login refuses a bad token with 403; one that does not
	// refuses the login type with 400.
	tokenLogin := refusal{"token login, not offered",
		&client.LoginRequest{Type: client.LoginTypeToken, Token: "abc"},
		mxerr.ErrUnknown, http.StatusBadRequest}
	if flows.Supports(client.LoginTypeToken) {
		tokenLogin.name = "unknown login token"
		tokenLogin.want, tokenLogin.wantStatus = mxerr.ErrForbidden, http.StatusForbidden
	}
	refused = append(refused, tokenLogin)

	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Login(t.Context(), tt.req)
			wantMatrixError(t, err, tt.want, tt.wantStatus)
		})
	}
}

// TestLoginRequestShape checks the bodies of password and token logins against a fake
// server.
func TestLoginRequestShape(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/login": answer(http.StatusOK, `{"user_id":"@u:hs",`+
			`"access_token":"at","device_id":"D","well_known":{"m.homeserver":`+
			`{"base_url":"https://hs.example"},"org.example":1}}`),
	})
	c := fs.client(t, client.Tokens{})

	tests := []struct {
		name string
		req  *client.LoginRequest
		want string
	}{
		{"m.id.user", &client.LoginRequest{Type: client.LoginTypePassword,
			Identifier: client.ByUser("@u:hs"), Password: "pw", DeviceID: "D",
			InitialDeviceDisplayName: "phone", RefreshToken: true},
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"@u:hs"},` +
				`"password":"pw","device_id":"D","initial_device_display_name":"phone",` +
				`"refresh_token":true}`},
		{"m.id.thirdparty", &client.LoginRequest{Type: client.LoginTypePassword,
			Identifier: client.ByThreePID(client.MediumEmail, "u@example.org"), Password: "pw"},
			`{"type":"m.login.password","identifier":{"type":"m.id.thirdparty",` +
				`"medium":"email","address":"u@example.org"},"password":"pw"}`},
		{"m.id.phone", &client.LoginRequest{Type: client.LoginTypePassword,
			Identifier: client.ByPhone("GB", "07700 900001"), Password: "pw"},
			`{"type":"m.login.password","identifier":{"type":"m.id.phone","country":"GB",` +
				`"phone":"07700 900001"},"password":"pw"}`},
		{"m.login.token", &client.LoginRequest{Type: client.LoginTypeToken, Token: "lt"},
			`{"type":"m.login.token","token":"lt"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Login(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			wantJSON(t, fs.last(t).Body, tt.want)
			if resp.WellKnown == nil ||
				resp.WellKnown.Homeserver.BaseURL != "https://hs.example" ||
				string(resp.WellKnown.Extra["org.example"]) != "1" {
				t.Errorf("well_known %+v, want the base URL and the extra key", resp.WellKnown)
			}
		})
	}
}

// TestLogout checks that logout ends this session only, that the client forgets its
// tokens, and the errors of a missing and an unknown token.
func TestLogout(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	first := loggedIn(t, srv, "irene")
	second := newClient(t, srv.URL, client.Tokens{})
	login, err := second.Login(t.Context(), &client.LoginRequest{
		Type: client.LoginTypePassword, Identifier: client.ByUser("irene"),
		Password: testPassword})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	second.SetTokens(login.Tokens())
	oldToken := first.Tokens()

	if err := first.Logout(t.Context()); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if first.Tokens() != (client.Tokens{}) {
		t.Errorf("tokens after logout: %+v, want none", first.Tokens())
	}

	_, err = first.Whoami(t.Context())
	wantMatrixError(t, err, mxerr.ErrMissingToken, http.StatusUnauthorized)
	_, err = newClient(t, srv.URL, oldToken).Whoami(t.Context())
	wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)
	err = newClient(t, srv.URL, oldToken).Logout(t.Context())
	wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)
	err = first.Logout(t.Context())
	wantMatrixError(t, err, mxerr.ErrMissingToken, http.StatusUnauthorized)

	if _, err := second.Whoami(t.Context()); err != nil {
		t.Errorf("the other session ended too: %v", err)
	}
}

// TestLogoutAll checks that every session of the user ends.
func TestLogoutAll(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	first := loggedIn(t, srv, "jack")
	login, err := first.Login(t.Context(), &client.LoginRequest{
		Type: client.LoginTypePassword, Identifier: client.ByUser("jack"),
		Password: testPassword})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	second := newClient(t, srv.URL, login.Tokens())
	kept := first.Tokens()

	if err := first.LogoutAll(t.Context()); err != nil {
		t.Fatalf("logout all: %v", err)
	}
	if first.Tokens() != (client.Tokens{}) {
		t.Errorf("tokens after logout all: %+v, want none", first.Tokens())
	}
	for name, c := range map[string]*client.Client{
		"this session":  newClient(t, srv.URL, kept),
		"other session": second,
	} {
		_, err := c.Whoami(t.Context())
		if !errWith(err, mxerr.ErrUnknownToken, http.StatusUnauthorized) {
			t.Errorf("%s: whoami error %v, want 401 M_UNKNOWN_TOKEN", name, err)
		}
	}
}

// TestWhoami checks whoami with a session and without a token.
func TestWhoami(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	reg := registerUser(t, srv, "kate")

	who, err := newClient(t, srv.URL, reg.Tokens()).Whoami(t.Context())
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	if who.UserID != reg.UserID || who.DeviceID != reg.DeviceID || who.IsGuest {
		t.Errorf("whoami %+v, want %s on %s", who, reg.UserID, reg.DeviceID)
	}

	_, err = newClient(t, srv.URL, client.Tokens{}).Whoami(t.Context())
	wantMatrixError(t, err, mxerr.ErrMissingToken, http.StatusUnauthorized)
	_, err = newClient(t, srv.URL, client.Tokens{AccessToken: "forged"}).Whoami(t.Context())
	wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)
}
