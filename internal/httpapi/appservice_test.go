package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

const asToken = "as-token-for-tests"

// withBridge registers an application service that claims @_bridge_.* and @irc_.*
// exclusively and @shared_.* without exclusivity.
func withBridge(t *testing.T) testserver.Option {
	t.Helper()
	file := filepath.Join(t.TempDir(), "bridge.yaml")
	reg := `id: bridge
url: null
as_token: ` + asToken + `
hs_token: hs-token-for-tests
sender_localpart: bridgebot
namespaces:
  users:
    - {exclusive: true, regex: '@_bridge_.*:localhost'}
    - {exclusive: true, regex: '@irc_.*:localhost'}
    - {exclusive: false, regex: '@shared_.*:localhost'}
`
	if err := os.WriteFile(file, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	return testserver.WithConfig(func(c *config.Config) {
		c.Registration.AppServiceConfigFiles = []string{file}
	})
}

func TestAppServiceRegistration(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, withBridge(t))
	asBody := func(name string) map[string]any {
		return map[string]any{"type": "m.login.application_service", "username": name}
	}

	tests := []struct {
		name       string
		token      string
		body       map[string]any
		wantStatus int
		wantCode   string
		wantUser   string
	}{
		{"exclusive namespace", asToken, asBody("_bridge_alice"), 200, "",
			"@_bridge_alice:localhost"},
		{"shared namespace", asToken, asBody("shared_bob"), 200, "", "@shared_bob:localhost"},
		{"outside the namespaces", asToken, asBody("carol"), 400, "M_EXCLUSIVE", ""},
		{"taken", asToken, asBody("_bridge_alice"), 400, "M_USER_IN_USE", ""},
		{"no token", "", asBody("_bridge_dan"), 401, "M_MISSING_TOKEN", ""},
		{"unknown token", "not-the-token", asBody("_bridge_dan"), 401, "M_UNKNOWN_TOKEN", ""},
		{"no username", asToken, map[string]any{"type": "m.login.application_service"},
			400, "M_MISSING_PARAM", ""},
	}
	for _, tt := range tests {
		status, _, body := do(t, "POST", api(srv, "/register"), tt.token, tt.body)
		if tt.wantCode != "" {
			wantError(t, status, body, tt.wantStatus, tt.wantCode)
			continue
		}
		wantStatus(t, status, body, tt.wantStatus)
		if body["user_id"] != tt.wantUser {
			t.Errorf("%s: user_id %v, want %s", tt.name, body["user_id"], tt.wantUser)
		}
		if str(t, body, "access_token") == "" {
			t.Errorf("%s: no access token", tt.name)
		}
	}
}

func TestAppServiceExclusiveNamespaceClosedToUsers(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, withBridge(t), testserver.WithOpenRegistration())

	// A leading underscore is refused first, as Synapse does; a name without one that
	// a service claims exclusively is M_EXCLUSIVE.
	status, _, body := do(t, "GET", api(srv, "/register/available?username=_bridge_eve"),
		"", nil)
	wantError(t, status, body, http.StatusBadRequest, "M_INVALID_USERNAME")
	status, _, body = do(t, "GET", api(srv, "/register/available?username=irc_eve"), "", nil)
	wantError(t, status, body, http.StatusBadRequest, "M_EXCLUSIVE")

	status, _, body = do(t, "POST", api(srv, "/register"), "", map[string]any{
		"username": "irc_eve", "password": secret,
		"auth": map[string]any{"type": "m.login.dummy"}})
	wantError(t, status, body, http.StatusBadRequest, "M_EXCLUSIVE")

	status, _, body = do(t, "GET", api(srv, "/register/available?username=shared_fay"),
		"", nil)
	wantStatus(t, status, body, http.StatusOK)
}

func TestAppServiceWhoamiAndLogin(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, withBridge(t))

	status, _, body := do(t, "GET", api(srv, "/account/whoami"), asToken, nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["user_id"] != "@bridgebot:localhost" {
		t.Errorf("whoami with the as_token: %v, want the sender", body)
	}
	wantAbsent(t, body, "device_id")

	do(t, "POST", api(srv, "/register"), asToken, map[string]any{
		"type": "m.login.application_service", "username": "_bridge_gil",
		"inhibit_login": true})

	status, _, body = do(t, "GET",
		api(srv, "/account/whoami?user_id=@_bridge_gil:localhost"), asToken, nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["user_id"] != "@_bridge_gil:localhost" {
		t.Errorf("asserted whoami: %v", body)
	}
	status, _, body = do(t, "GET",
		api(srv, "/account/whoami?user_id=@someone:localhost"), asToken, nil)
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")

	login := func(user, token string) (int, map[string]any) {
		status, _, body := do(t, "POST", api(srv, "/login"), token, map[string]any{
			"type":       "m.login.application_service",
			"identifier": map[string]any{"type": "m.id.user", "user": user}})
		return status, body
	}
	status, body = login("_bridge_gil", asToken)
	wantStatus(t, status, body, http.StatusOK)
	if body["user_id"] != "@_bridge_gil:localhost" || str(t, body, "device_id") == "" {
		t.Errorf("application service login: %v", body)
	}
	status, body = login("_bridge_gil", "")
	wantError(t, status, body, http.StatusUnauthorized, "M_MISSING_TOKEN")
	status, body = login("_bridge_nobody", asToken)
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
	status, body = login("outsider", asToken)
	wantError(t, status, body, http.StatusBadRequest, "M_EXCLUSIVE")

	status, _, body = do(t, "GET", api(srv, "/login"), "", nil)
	wantStatus(t, status, body, http.StatusOK)
	found := false
	for _, f := range body["flows"].([]any) {
		found = found || f.(map[string]any)["type"] == "m.login.application_service"
	}
	if !found {
		t.Errorf("GET /login does not offer m.login.application_service: %v", body)
	}
}
