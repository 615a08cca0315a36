package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/internal/token"
)

// getTokenPath is the endpoint that issues login tokens (spec v1.7).
const getTokenPath = "/_matrix/client/v1/login/get_token"

// postGetToken calls POST /login/get_token with accessToken and body.
func postGetToken(t *testing.T, srv *testserver.Server, accessToken string, body any) (
	int, map[string]any,
) {
	t.Helper()

	status, _, out := do(t, "POST", srv.URL+getTokenPath, accessToken, body)
	return status, out
}

// passwordStage is the auth dict of the password stage of a in session.
func passwordStage(a account, session, password string) map[string]any {
	return map[string]any{"auth": map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": a.userID},
		"password":   password,
		"session":    session,
	}}
}

// newLoginToken walks POST /login/get_token through UIA as a and returns the answer's
// login token, checking that its lifetime is the configured one.
func newLoginToken(t *testing.T, srv *testserver.Server, a account) string {
	t.Helper()

	status, challenge := postGetToken(t, srv, a.token, map[string]any{})
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	status, body := postGetToken(t, srv, a.token,
		passwordStage(a, str(t, challenge, "session"), a.password))
	wantStatus(t, status, body, http.StatusOK)

	want := srv.Config.Tokens.LoginTokenLifetime.Milliseconds()
	if got, ok := body["expires_in_ms"].(float64); !ok || int64(got) != want {
		t.Errorf("expires_in_ms is %#v, want %d", body["expires_in_ms"], want)
	}
	return str(t, body, "login_token")
}

// tokenLogin logs in with a login token; extra adds body fields.
func tokenLogin(t *testing.T, srv *testserver.Server, loginToken string,
	extra map[string]any,
) (int, map[string]any) {
	t.Helper()

	status, _, body := do(t, "POST", api(srv, "/login"), "",
		with(map[string]any{"type": "m.login.token", "token": loginToken}, extra))
	return status, body
}

// TestLoginTokenAdvertised checks that GET /login offers m.login.token with
// get_login_token, beside the password, and that the capability says it is enabled.
func TestLoginTokenAdvertised(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	status, _, body := do(t, "GET", api(srv, "/login"), "", nil)
	wantStatus(t, status, body, http.StatusOK)
	flows, _ := body["flows"].([]any)
	var types []string
	for _, f := range flows {
		flow, _ := f.(map[string]any)
		typ, _ := flow["type"].(string)
		types = append(types, typ)
		if typ == "m.login.token" && flow["get_login_token"] != true {
			t.Errorf("the token flow %v lacks get_login_token: true", flow)
		}
	}
	if !slices.Contains(types, "m.login.password") || !slices.Contains(types, "m.login.token") {
		t.Errorf("flow types %q, want m.login.password and m.login.token", types)
	}

	alice := newAccount(t, srv, "alice")
	status, _, body = do(t, "GET", api(srv, "/capabilities"), alice.token, nil)
	wantStatus(t, status, body, http.StatusOK)
	caps, _ := body["capabilities"].(map[string]any)
	if c, _ := caps["m.get_login_token"].(map[string]any); c["enabled"] != true {
		t.Errorf("m.get_login_token is %v, want {enabled: true}", caps["m.get_login_token"])
	}
}

// TestLoginTokenSingleUse checks the whole path: get_token asks for the password
// through UIA first, and its token logs the user in once, on a new device.
func TestLoginTokenSingleUse(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, testLoginTokenSingleUse)
}

// testLoginTokenSingleUse is TestLoginTokenSingleUse on one database.
func testLoginTokenSingleUse(t *testing.T, db testserver.Option) {
	srv := testserver.Start(t, testserver.WithOpenRegistration(), db)
	alice := newAccount(t, srv, "alice")

	status, challenge := postGetToken(t, srv, alice.token, nil)
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	if got := stagesOf(t, challenge); !slices.EqualFunc(got, [][]string{{"m.login.password"}},
		slices.Equal) {
		t.Fatalf("flows %q, want [[m.login.password]]", got)
	}
	wantAbsent(t, challenge, "login_token")

	// A wrong password fails the stage and issues nothing.
	status, body := postGetToken(t, srv, alice.token,
		passwordStage(alice, str(t, challenge, "session"), "wrong password"))
	wantError(t, status, body, http.StatusUnauthorized, "M_FORBIDDEN")
	wantAbsent(t, body, "login_token")

	lt := newLoginToken(t, srv, alice)
	status, body = tokenLogin(t, srv, lt, map[string]any{"refresh_token": true})
	wantStatus(t, status, body, http.StatusOK)
	if body["user_id"] != alice.userID {
		t.Errorf("the login token logged in %v, want %s", body["user_id"], alice.userID)
	}
	device := str(t, body, "device_id")
	if device == alice.deviceID {
		t.Errorf("the login token reused the device %s, want a new one", device)
	}
	str(t, body, "refresh_token")
	wantTokenWorks(t, srv, "session from the login token", str(t, body, "access_token"),
		device, true)

	status, body = tokenLogin(t, srv, lt, nil)
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")

	// The session that asked for the token is untouched.
	wantTokenWorks(t, srv, "the requesting session", alice.token, alice.deviceID, true)
}

// TestLoginTokenExpired checks that a login token older than
// tokens.login_token_lifetime is refused.
func TestLoginTokenExpired(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.Tokens.LoginTokenLifetime = 200 * time.Millisecond
		}))
	alice := newAccount(t, srv, "alice")
	lt := newLoginToken(t, srv, alice)

	time.Sleep(300 * time.Millisecond)
	status, body := tokenLogin(t, srv, lt, nil)
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
}

// TestLoginTokenRefused checks the answers to login tokens that never worked.
func TestLoginTokenRefused(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")

	for name, tok := range map[string]string{
		"garbage":         "not-a-token",
		"unknown":         token.New(token.Login),
		"an access token": alice.token,
	} {
		status, body := tokenLogin(t, srv, tok, nil)
		if status != http.StatusForbidden || body["errcode"] != "M_FORBIDDEN" {
			t.Errorf("%s: %d %v, want 403 M_FORBIDDEN", name, status, body)
		}
	}

	status, _, body := do(t, "POST", api(srv, "/login"), "",
		map[string]any{"type": "m.login.token"})
	wantError(t, status, body, http.StatusBadRequest, "M_MISSING_PARAM")
}

// TestGetLoginTokenRefused checks who may not ask for a login token: a request without
// an access token, and guests.
func TestGetLoginTokenRefused(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithGuests())

	status, body := postGetToken(t, srv, "", map[string]any{})
	wantError(t, status, body, http.StatusUnauthorized, "M_MISSING_TOKEN")

	status, _, guest := do(t, "POST", api(srv, "/register?kind=guest"), "", map[string]any{})
	wantStatus(t, status, guest, http.StatusOK)
	status, body = postGetToken(t, srv, str(t, guest, "access_token"), map[string]any{})
	wantError(t, status, body, http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN")
}
