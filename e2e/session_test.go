package e2e

import (
	"errors"
	"net/http"
	"strconv"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestRegisterLogoutLogin walks one account through its life with mautrix: the
// availability check, registration through the registration-token UIA stage, whoami,
// logout, and a password login on a new device.
func TestRegisterLogoutLogin(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t)
		cli := newClient(t, srv)
		const username, password = "alice", "wonderland-übers3kr1t"
		wantUser := id.NewUserID(username, serverName)

		if _, err := cli.RegisterAvailable(t.Context(), username); err != nil {
			t.Fatalf("RegisterAvailable(%q) = %v, want available", username, err)
		}

		// The first request carries no auth and must get the challenge, not an account.
		req := &mautrix.ReqRegister[any]{Username: username, Password: password,
			InitialDeviceDisplayName: "e2e phone"}
		resp, uia, err := cli.Register(t.Context(), req)
		if err != nil || resp != nil || uia == nil {
			t.Fatalf("Register without auth = (%v, %v, %v), want a UIA challenge",
				resp, uia, err)
		}
		if len(uia.Flows) != 1 || !hasFlow(uia, authTypeRegistrationToken) {
			t.Errorf("flows = %+v, want only [[%s]]", uia.Flows, authTypeRegistrationToken)
		}
		if uia.Session == "" {
			t.Error("the UIA challenge has no session")
		}

		req.Auth = registrationTokenAuth{
			BaseAuthData: mautrix.BaseAuthData{Type: authTypeRegistrationToken,
				Session: uia.Session},
			Token: srv.RegistrationToken(t),
		}
		resp, uia, err = cli.Register(t.Context(), req)
		if err != nil || resp == nil {
			t.Fatalf("Register with the token stage = (%v, %+v, %v), want success",
				resp, uia, err)
		}
		if resp.UserID != wantUser || resp.AccessToken == "" || resp.DeviceID == "" {
			t.Fatalf("Register = %+v, want user %s with an access token and a device",
				resp, wantUser)
		}

		user := clientAs(t, srv, resp.UserID, resp.AccessToken)
		me, err := user.Whoami(t.Context())
		if err != nil {
			t.Fatalf("Whoami after registration: %v", err)
		}
		if me.UserID != wantUser || me.DeviceID != resp.DeviceID {
			t.Errorf("Whoami = %+v, want %s on device %s", me, wantUser, resp.DeviceID)
		}

		if _, err := user.Logout(t.Context()); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		_, err = user.Whoami(t.Context())
		checkMatrixError(t, err, http.StatusUnauthorized, mautrix.MUnknownToken)

		again, err := newClient(t, srv).Login(t.Context(), passwordLogin(username, password))
		if err != nil {
			t.Fatalf("Login after logout: %v", err)
		}
		if again.UserID != wantUser || again.DeviceID == "" ||
			again.DeviceID == resp.DeviceID || again.AccessToken == resp.AccessToken {
			t.Errorf("Login = %+v, want %s with a new device and token (old: %s)",
				again, wantUser, resp.DeviceID)
		}

		me, err = clientAs(t, srv, again.UserID, again.AccessToken).Whoami(t.Context())
		if err != nil {
			t.Fatalf("Whoami after login: %v", err)
		}
		if me.UserID != wantUser || me.DeviceID != again.DeviceID {
			t.Errorf("Whoami = %+v, want %s on device %s", me, wantUser, again.DeviceID)
		}
	})
}

// TestLoginIdentifiers logs in with each accepted spelling of an m.id.user identifier.
func TestLoginIdentifiers(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t)
		const password = "correct horse battery staple"
		_, reg := registerWithToken(t, srv, "bob", password)

		for _, user := range []string{"bob", "@bob:localhost", "BOB", "@Bob:localhost"} {
			t.Run(user, func(t *testing.T) {
				cli := login(t, srv, user, password)
				if cli.UserID != reg.UserID {
					t.Errorf("Login(%q) gave user %s, want %s", user, cli.UserID, reg.UserID)
				}
			})
		}
	})
}

// TestLoginForbidden checks that a wrong password and an unknown user get the same
// 403 M_FORBIDDEN, so that login does not tell which accounts exist.
func TestLoginForbidden(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t)
		registerWithToken(t, srv, "carol", "the right one")

		tests := []struct {
			name, user, password string
		}{
			{"wrong password", "carol", "the wrong one"},
			{"wrong password, full user ID", "@carol:localhost", "the wrong one"},
			{"unknown user", "nobody", "the right one"},
			{"unknown user, full user ID", "@nobody:localhost", "the right one"},
		}
		answers := map[string]string{}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := newClient(t, srv).Login(t.Context(),
					passwordLogin(tt.user, tt.password))
				httpErr := checkMatrixError(t, err, http.StatusForbidden, mautrix.MForbidden)

				var respErr mautrix.RespError
				if !errors.As(err, &respErr) {
					t.Fatalf("%v does not unwrap to a mautrix.RespError", err)
				}
				if respErr.Err == "" {
					t.Error("the error has no human-readable \"error\" text")
				}
				answers[tt.name] = httpErr.RespError.ErrCode + ": " + respErr.Err
			})
		}

		// Every refusal must read the same, or it tells who has an account.
		for name, a := range answers {
			if want := answers[tests[0].name]; a != want {
				t.Errorf("%s: answer %q differs from %q (%s)", name, a, want, tests[0].name)
			}
		}
	})
}

// TestLogoutAll checks that POST /logout/all ends every session of the user, and only
// that user's, and that the account can log in again afterwards.
func TestLogoutAll(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t)
		const password = "many devices, one owner, 7 keys"
		first, _ := registerWithToken(t, srv, "dave", password)
		sessions := []*mautrix.Client{first,
			login(t, srv, "dave", password), login(t, srv, "dave", password)}
		other, _ := registerWithToken(t, srv, "erin", "an innocent bystander, 3 doors down")

		for i, cli := range sessions {
			if _, err := cli.Whoami(t.Context()); err != nil {
				t.Fatalf("session %d before logout/all: %v", i, err)
			}
		}

		if _, err := sessions[1].LogoutAll(t.Context()); err != nil {
			t.Fatalf("LogoutAll: %v", err)
		}

		for i, cli := range sessions {
			_, err := cli.Whoami(t.Context())
			checkMatrixError(t, err, http.StatusUnauthorized, mautrix.MUnknownToken)
			if _, err := cli.Logout(t.Context()); !errors.Is(err, mautrix.MUnknownToken) {
				t.Errorf("session %d: Logout after logout/all = %v, want M_UNKNOWN_TOKEN",
					i, err)
			}
		}
		if _, err := other.Whoami(t.Context()); err != nil {
			t.Errorf("another user's session after dave's logout/all: %v", err)
		}

		if me, err := login(t, srv, "dave", password).Whoami(t.Context()); err != nil {
			t.Errorf("Whoami after logging in again: %v", err)
		} else if me.UserID != first.UserID {
			t.Errorf("Whoami = %s, want %s", me.UserID, first.UserID)
		}
	})
}

// TestQueryStringAccessToken checks the deprecated ?access_token= parameter, which
// every advertised spec version up to v1.19 requires servers to accept. mautrix only
// sends the Authorization header, so this test uses net/http.
func TestQueryStringAccessToken(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t)
		cli, reg := registerWithToken(t, srv, "frank", "in the query")
		whoamiURL := func(prefix, query string) string {
			return srv.URL + "/_matrix/client/" + prefix + "/account/whoami" + query
		}
		bearer := http.Header{"Authorization": {"Bearer " + reg.AccessToken}}

		tests := []struct {
			name       string
			url        string
			header     http.Header
			wantStatus int
			wantCode   string
		}{
			{"v3 query token", whoamiURL("v3", "?access_token="+reg.AccessToken), nil,
				http.StatusOK, ""},
			{"r0 query token", whoamiURL("r0", "?access_token="+reg.AccessToken), nil,
				http.StatusOK, ""},
			{"unknown query token", whoamiURL("v3", "?access_token=not-a-token"), nil,
				http.StatusUnauthorized, mautrix.MUnknownToken.ErrCode},
			{"no token", whoamiURL("v3", ""), nil,
				http.StatusUnauthorized, mautrix.MMissingToken.ErrCode},
			{"header and query token", whoamiURL("v3", "?access_token="+reg.AccessToken),
				bearer, http.StatusUnauthorized, mautrix.MMissingToken.ErrCode},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := rawRequest(t, http.MethodGet, tt.url, tt.header)
				if got.Status != tt.wantStatus {
					t.Fatalf("HTTP %d %v, want %d", got.Status, got.Body, tt.wantStatus)
				}
				if tt.wantCode != "" {
					if got.Body["errcode"] != tt.wantCode {
						t.Errorf("body %v, want errcode %s", got.Body, tt.wantCode)
					}
					return
				}
				if got.Body["user_id"] != reg.UserID.String() ||
					got.Body["device_id"] != reg.DeviceID.String() {
					t.Errorf("body %v, want %s on device %s", got.Body, reg.UserID,
						reg.DeviceID)
				}
			})
		}

		// A token that logged out must fail in the query string as in the header.
		if _, err := cli.Logout(t.Context()); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		got := rawRequest(t, http.MethodGet,
			whoamiURL("v3", "?access_token="+reg.AccessToken), nil)
		if got.Status != http.StatusUnauthorized ||
			got.Body["errcode"] != mautrix.MUnknownToken.ErrCode {
			t.Errorf("query token after logout: HTTP %d %v, want 401 M_UNKNOWN_TOKEN",
				got.Status, got.Body)
		}
	})
}

// TestLoginRateLimit checks that repeated wrong passwords from one address end in 429
// M_LIMIT_EXCEEDED with a Retry-After header, and that the limit then holds for the
// right password too, since it is checked before the password.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t, testserver.WithRateLimits())
		const password = "guess me if you can, 4 lanterns"
		registerWithToken(t, srv, "grace", password)
		burst := srv.Config.RateLimits.FailedLogin.Burst
		cli := newClient(t, srv)

		var limited mautrix.HTTPError
		failures := 0
		for attempt := 1; attempt <= 3*burst+3; attempt++ {
			_, err := cli.Login(t.Context(), passwordLogin("grace", "wrong guess"))
			if errors.Is(err, mautrix.MLimitExceeded) {
				limited = checkMatrixError(t, err, http.StatusTooManyRequests,
					mautrix.MLimitExceeded)
				break
			}
			checkMatrixError(t, err, http.StatusForbidden, mautrix.MForbidden)
			failures++
		}
		if limited.Response == nil {
			t.Fatalf("%d wrong passwords and no 429 M_LIMIT_EXCEEDED", failures)
		}
		if failures < burst {
			t.Errorf("limited after %d wrong passwords, want at least the burst of %d",
				failures, burst)
		}

		retry := limited.Response.Header.Get("Retry-After")
		if secs, err := strconv.Atoi(retry); err != nil || secs < 1 {
			t.Errorf("Retry-After = %q, want a positive number of seconds", retry)
		}
		if ms, ok := limited.RespError.ExtraData["retry_after_ms"]; ok {
			if n, isNum := ms.(float64); !isNum || n <= 0 {
				t.Errorf("retry_after_ms = %v, want a positive integer", ms)
			}
		}

		_, err := cli.Login(t.Context(), passwordLogin("grace", password))
		checkMatrixError(t, err, http.StatusTooManyRequests, mautrix.MLimitExceeded)
	})
}
