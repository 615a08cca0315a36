package client_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// registerThrough runs a registration of req on c with the stages given.
func registerThrough(
	ctx context.Context, c *client.Client, req *client.RegisterRequest, stages ...client.Stage,
) (*client.RegisterResponse, error) {
	var resp *client.RegisterResponse
	u := client.UIA{Stages: stages}
	err := u.Do(ctx, func(ctx context.Context, auth *client.AuthData) error {
		req.Auth = auth
		var err error
		resp, err = c.Register(ctx, req)
		return err
	})
	return resp, err
}

// TestRegister registers through each flow the real server offers and checks that the
// answer's session works.
func TestRegister(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		opts   []testserver.Option
		stages func(srv *testserver.Server) []client.Stage
	}{
		{
			name: "registration token",
			stages: func(srv *testserver.Server) []client.Stage {
				return []client.Stage{client.RegistrationTokenStage(srv.RegistrationToken(t))}
			},
		},
		{
			name: "dummy with open registration",
			opts: []testserver.Option{testserver.WithOpenRegistration()},
			stages: func(*testserver.Server) []client.Stage {
				return []client.Stage{client.DummyStage()}
			},
		},
		{
			name: "token and dummy solvers on a token-only server",
			stages: func(srv *testserver.Server) []client.Stage {
				return []client.Stage{client.DummyStage(),
					client.RegistrationTokenStage(srv.RegistrationToken(t))}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, tt.opts...)
			c := newClient(t, srv.URL, client.Tokens{})

			resp, err := registerThrough(t.Context(), c, &client.RegisterRequest{
				Username: "Alice", Password: testPassword, DeviceID: "PHONE",
				InitialDeviceDisplayName: "Alice's phone"}, tt.stages(srv)...)
			if err != nil {
				t.Fatalf("register: %v", err)
			}

			if resp.UserID.Localpart() != "alice" || resp.AccessToken == "" ||
				resp.DeviceID != "PHONE" {
				t.Errorf("answer %+v, want @alice with a token and device PHONE", resp)
			}
			if c.Tokens().AccessToken != "" {
				t.Error("Register changed the client's tokens")
			}
			who, err := newClient(t, srv.URL, resp.Tokens()).Whoami(t.Context())
			if err != nil {
				t.Fatalf("whoami with the new token: %v", err)
			}
			if who.UserID != resp.UserID || who.DeviceID != "PHONE" || who.IsGuest {
				t.Errorf("whoami %+v, want %s on PHONE, not a guest", who, resp.UserID)
			}
		})
	}
}

// TestRegisterInhibitLogin checks that inhibit_login gives a user ID and no session.
func TestRegisterInhibitLogin(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	c := newClient(t, srv.URL, client.Tokens{})

	resp, err := registerThrough(t.Context(), c, &client.RegisterRequest{Username: "quiet",
		Password: testPassword, InhibitLogin: true}, client.DummyStage())
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if resp.UserID.Localpart() != "quiet" || resp.AccessToken != "" || resp.DeviceID != "" {
		t.Errorf("answer %+v, want only a user ID", resp)
	}
}

// TestRegisterChallenge checks that a request without auth comes back as an
// *mxerr.Error that carries the challenge and no errcode.
func TestRegisterChallenge(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := newClient(t, srv.URL, client.Tokens{})

	_, err := c.Register(t.Context(), &client.RegisterRequest{Username: "bob",
		Password: testPassword})

	ch, ok := client.UIAChallenge(err)
	if !ok {
		t.Fatalf("error %v carries no UIA challenge", err)
	}
	var e *mxerr.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != "" {
		t.Errorf("error %#v, want status 401 and no errcode", e)
	}
	if ch.Session == "" {
		t.Error("the challenge has no session")
	}
	offers := slices.ContainsFunc(ch.Flows, func(f mxerr.Flow) bool {
		return slices.Contains(f.Stages, client.AuthTypeRegistrationToken)
	})
	if !offers {
		t.Errorf("flows %+v offer no registration token stage", ch.Flows)
	}
}

// TestRegisterErrors checks the failures of registration: the username checks that
// come before UIA, a failed stage, a flow the caller cannot complete and a server that
// registers no one.
func TestRegisterErrors(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	registerUser(t, srv, "taken")
	closed := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Registration.Enabled = false
	}))

	tests := []struct {
		name       string
		server     *testserver.Server
		username   string
		stages     []client.Stage
		want       *mxerr.Error
		wantStatus int
		wantUIA    bool
	}{
		{name: "taken username", server: srv, username: "taken",
			stages: []client.Stage{client.DummyStage()}, want: mxerr.ErrUserInUse,
			wantStatus: http.StatusBadRequest},
		{name: "taken username in another case", server: srv, username: "TAKEN",
			stages: []client.Stage{client.DummyStage()}, want: mxerr.ErrUserInUse,
			wantStatus: http.StatusBadRequest},
		{name: "invalid username", server: srv, username: "no spaces!",
			stages: []client.Stage{client.DummyStage()}, want: mxerr.ErrInvalidUsername,
			wantStatus: http.StatusBadRequest},
		{name: "unknown registration token", server: srv, username: "carol",
			stages: []client.Stage{client.RegistrationTokenStage("no-such-token")},
			want:   mxerr.ErrForbidden, wantStatus: http.StatusUnauthorized, wantUIA: true},
		{name: "registration disabled", server: closed, username: "dave",
			stages: []client.Stage{client.DummyStage()}, want: mxerr.ErrForbidden,
			wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, tt.server.URL, client.Tokens{})

			_, err := registerThrough(t.Context(), c, &client.RegisterRequest{
				Username: tt.username, Password: testPassword}, tt.stages...)

			wantMatrixError(t, err, tt.want, tt.wantStatus)
			if _, ok := client.UIAChallenge(err); ok != tt.wantUIA {
				t.Errorf("error carries a challenge: %v, want %v", ok, tt.wantUIA)
			}
		})
	}
}

// TestRegisterNoUsableFlow checks that the UIA helper stops before sending a stage the
// server does not offer.
func TestRegisterNoUsableFlow(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := newClient(t, srv.URL, client.Tokens{})

	_, err := registerThrough(t.Context(), c, &client.RegisterRequest{Username: "erin",
		Password: testPassword}, client.DummyStage())

	if !errors.Is(err, client.ErrNoUsableFlow) {
		t.Fatalf("error %v, want ErrNoUsableFlow", err)
	}
	if _, ok := client.UIAChallenge(err); !ok {
		t.Errorf("error %v does not carry the challenge", err)
	}
}

// TestRegisterGuest registers a guest and checks whoami, and that a server without
// guests refuses.
func TestRegisterGuest(t *testing.T) {
	t.Parallel()

	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		srv := testserver.Start(t, testserver.WithGuests())
		c := newClient(t, srv.URL, client.Tokens{})

		resp, err := c.RegisterGuest(t.Context(),
			&client.GuestRegisterRequest{InitialDeviceDisplayName: "kiosk"})
		if err != nil {
			t.Fatalf("register guest: %v", err)
		}
		if resp.AccessToken == "" || resp.DeviceID == "" {
			t.Fatalf("answer %+v has no session", resp)
		}

		c.SetTokens(resp.Tokens())
		who, err := c.Whoami(t.Context())
		if err != nil {
			t.Fatalf("whoami: %v", err)
		}
		if !who.IsGuest || who.UserID != resp.UserID {
			t.Errorf("whoami %+v, want guest %s", who, resp.UserID)
		}
		dev, err := c.Device(t.Context(), resp.DeviceID)
		if err != nil {
			t.Fatalf("get the guest's device: %v", err)
		}
		if dev.DisplayName != "kiosk" {
			t.Errorf("device %+v, want display name kiosk", dev)
		}

		// Guests may not log out: /logout is not on the spec's list for them.
		err = c.Logout(t.Context())
		wantMatrixError(t, err, mxerr.ErrGuestForbidden, http.StatusForbidden)
	})

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		srv := testserver.Start(t)
		c := newClient(t, srv.URL, client.Tokens{})

		_, err := c.RegisterGuest(t.Context(), &client.GuestRegisterRequest{})
		wantMatrixError(t, err, mxerr.ErrForbidden, http.StatusForbidden)
	})
}

// TestUpgradeGuest registers a guest, then upgrades it to a full account with
// RegisterRequest.GuestAccessToken, and checks that a stranger's name is refused.
func TestUpgradeGuest(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithGuests(), testserver.WithOpenRegistration())
	c := newClient(t, srv.URL, client.Tokens{})
	guest, err := c.RegisterGuest(t.Context(), &client.GuestRegisterRequest{})
	if err != nil {
		t.Fatalf("register guest: %v", err)
	}

	_, err = registerThrough(t.Context(), c, &client.RegisterRequest{Username: "stranger",
		Password: testPassword, GuestAccessToken: guest.AccessToken}, client.DummyStage())
	wantMatrixError(t, err, mxerr.ErrForbidden, http.StatusForbidden)

	resp, err := registerThrough(t.Context(), c, &client.RegisterRequest{
		Username: guest.UserID.Localpart(), Password: testPassword,
		GuestAccessToken: guest.AccessToken}, client.DummyStage())
	if err != nil {
		t.Fatalf("upgrade guest %s: %v", guest.UserID, err)
	}
	if resp.UserID != guest.UserID {
		t.Errorf("upgrade answered %s; want the guest's %s", resp.UserID, guest.UserID)
	}
	c.SetTokens(resp.Tokens())
	who, err := c.Whoami(t.Context())
	if err != nil {
		t.Fatalf("whoami after the upgrade: %v", err)
	}
	if who.IsGuest {
		t.Errorf("whoami %+v after the upgrade; want a full user", who)
	}
}

// TestUsernameAvailable checks a free name and each kind of refusal.
func TestUsernameAvailable(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	registerUser(t, srv, "frank")
	c := newClient(t, srv.URL, client.Tokens{})

	resp, err := c.UsernameAvailable(t.Context(), "grace")
	if err != nil {
		t.Fatalf("free name: %v", err)
	}
	if !resp.Available {
		t.Error("free name: available is false")
	}

	tests := []struct {
		username string
		want     *mxerr.Error
	}{
		{"frank", mxerr.ErrUserInUse},
		{"@frank:" + srv.Config.ServerName, mxerr.ErrUserInUse},
		{"admin", mxerr.ErrUserInUse}, // reserved by default
		{"bad:name", mxerr.ErrInvalidUsername},
		{"", mxerr.ErrInvalidUsername},
	}
	for _, tt := range tests {
		_, err := c.UsernameAvailable(t.Context(), tt.username)
		if !errors.Is(err, tt.want) {
			t.Errorf("%q: error %v, want %s", tt.username, err, tt.want.Code)
		}
		wantMatrixError(t, err, tt.want, http.StatusBadRequest)
	}
}

// TestRegistrationTokenValid checks a valid, an unknown and a malformed token, and a
// server that registers no one.
func TestRegistrationTokenValid(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := newClient(t, srv.URL, client.Tokens{})

	tests := []struct {
		token string
		want  bool
	}{
		{srv.RegistrationToken(t), true},
		{"unknown-token", false},
		{"not a token!", false},
	}
	for _, tt := range tests {
		resp, err := c.RegistrationTokenValid(t.Context(), tt.token)
		if err != nil {
			t.Fatalf("token %q: %v", tt.token, err)
		}
		if resp.Valid != tt.want {
			t.Errorf("token %q: valid %v, want %v", tt.token, resp.Valid, tt.want)
		}
	}

	closed := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Registration.Enabled = false
	}))
	_, err := newClient(t, closed.URL, client.Tokens{}).
		RegistrationTokenValid(t.Context(), "any")
	wantMatrixError(t, err, mxerr.ErrForbidden, http.StatusForbidden)
}

// TestRegisterRequestShape checks the bodies and query strings Register and
// RegisterGuest send, against a fake server.
func TestRegisterRequestShape(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/register": answer(http.StatusOK,
			`{"user_id":"@u:hs","access_token":"at","device_id":"D","refresh_token":"rt",`+
				`"expires_in_ms":60000}`),
	})
	c := fs.client(t, client.Tokens{AccessToken: "not-sent"})

	resp, err := c.Register(t.Context(), &client.RegisterRequest{
		Auth:     &client.AuthData{Type: client.AuthTypeDummy, Session: "s1"},
		Username: "u", Password: "pw", DeviceID: "D", InitialDeviceDisplayName: "laptop",
		InhibitLogin: false, RefreshToken: true})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	got := fs.last(t)
	if got.Query != "" || got.Authorization != "" {
		t.Errorf("query %q, Authorization %q; want neither", got.Query, got.Authorization)
	}
	wantJSON(t, got.Body, `{"auth":{"type":"m.login.dummy","session":"s1"},"username":"u",`+
		`"password":"pw","device_id":"D","initial_device_display_name":"laptop",`+
		`"refresh_token":true}`)
	tok := resp.Tokens()
	if tok.RefreshToken != "rt" || tok.ExpiresAt.IsZero() {
		t.Errorf("tokens %+v, want the refresh token and an expiry", tok)
	}

	// A nil request sends the empty object, as the spec wants a JSON object body.
	if _, err := c.RegisterGuest(t.Context(), nil); err != nil {
		t.Fatalf("register guest: %v", err)
	}
	if got := fs.last(t); got.Query != "kind=guest" || string(got.Body) != "{}" {
		t.Errorf("guest request query %q body %s, want kind=guest and {}", got.Query, got.Body)
	}
}

// TestRegisterTerms registers on a real server that asks new users to accept a policy,
// through the m.login.terms stage, and checks what the review callback is shown.
func TestRegisterTerms(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.Registration.Terms = []config.TermsPolicy{{ID: "privacy", Version: "1.0",
				Languages: map[string]config.TermsText{
					"en": {Name: "Privacy notice", URL: "https://hs.example/privacy"}}}}
		}))
	c := newClient(t, srv.URL, client.Tokens{})

	var shown *client.TermsParams
	review := func(ctx context.Context, p *client.TermsParams) error {
		shown = p
		return nil
	}
	_, err := registerThrough(t.Context(), c, &client.RegisterRequest{Username: "terry",
		Password: testPassword}, client.DummyStage(), client.TermsStage(review))
	if err != nil {
		t.Fatalf("register: %v", err)
	}

	p, ok := shown.Policies["privacy"]
	if !ok || p.Version != "1.0" || p.Translations["en"].URL != "https://hs.example/privacy" {
		t.Errorf("review was shown %+v, want the privacy notice 1.0", shown)
	}
}
