package httpapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// deviceIDs returns the IDs GET /devices lists for the session of token.
func deviceIDs(t *testing.T, srv *testserver.Server, token string) []string {
	t.Helper()

	status, _, body := do(t, "GET", api(srv, "/devices"), token, nil)
	wantStatus(t, status, body, http.StatusOK)
	list, ok := body["devices"].([]any)
	if !ok {
		t.Fatalf("devices is %#v, want an array", body["devices"])
	}
	var ids []string
	for _, d := range list {
		obj, _ := d.(map[string]any)
		id, _ := obj["device_id"].(string)
		ids = append(ids, id)
	}
	return ids
}

// TestPasswordChangeSessions changes a password through the password stage and checks
// which sessions survive: the caller's always does; the user's other sessions, and
// their devices, end when logout_devices is true or left out, and stay when it is
// false. The old password is then 403 M_FORBIDDEN and the new one logs in.
func TestPasswordChangeSessions(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		// extra is added to the request body; nil leaves logout_devices out.
		extra         map[string]any
		othersSurvive bool
	}{
		{name: "logout_devices left out"},
		{name: "logout_devices true", extra: map[string]any{"logout_devices": true}},
		{name: "logout_devices false", extra: map[string]any{"logout_devices": false},
			othersSurvive: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, testserver.WithOpenRegistration())
			u := newAccount(t, srv, "changer")
			other := loginAs(t, srv, u)
			const next = "Another-strong-passphrase-71"

			status, out := withPassword(t, srv, u, "POST", "/account/password", u.password,
				with(map[string]any{"new_password": next}, tt.extra))
			wantStatus(t, status, out, http.StatusOK)

			wantWhoami(t, srv, u.token, http.StatusOK, "")
			if tt.othersSurvive {
				wantWhoami(t, srv, other.token, http.StatusOK, "")
			} else {
				wantWhoami(t, srv, other.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
			}

			status, body := passwordLogin(t, srv, u.userID, u.password)
			wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
			fresh := loginAs(t, srv, account{userID: u.userID, password: next})
			ids := deviceIDs(t, srv, fresh.token)
			if got := slices.Contains(ids, other.deviceID); got != tt.othersSurvive {
				t.Errorf("devices %v: other device %s listed %v, want %v", ids,
					other.deviceID, got, tt.othersSurvive)
			}
		})
	}
}

// TestUIANotSkippedAfterLogin calls each endpoint that needs UIA without auth, moments
// after the account registered and logged in: every one answers the 401 challenge,
// however fresh the credentials, and changes nothing.
func TestUIANotSkippedAfterLogin(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "fresh")
	second := loginAs(t, srv, u)

	tests := []struct {
		name, method, path string
		body               map[string]any
	}{
		{name: "deactivate", method: "POST", path: "/account/deactivate",
			body: map[string]any{}},
		{name: "password change", method: "POST", path: "/account/password",
			body: map[string]any{"new_password": "Never-applied-password-3"}},
		{name: "device deletion", method: "DELETE", path: "/devices/" + second.deviceID,
			body: map[string]any{}},
		{name: "3PID add", method: "POST", path: "/account/3pid/add",
			body: map[string]any{"client_secret": "cs26", "sid": "madeupsid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, out := do(t, tt.method, api(srv, tt.path), u.token, tt.body)

			wantStatus(t, status, out, http.StatusUnauthorized)
			if len(stagesOf(t, out)) == 0 {
				t.Errorf("the challenge offers no flow: %v", out)
			}
		})
	}

	wantWhoami(t, srv, u.token, http.StatusOK, "")
	loginAs(t, srv, u)
	status, _, device := do(t, "GET", api(srv, "/devices/"+second.deviceID), u.token, nil)
	wantStatus(t, status, device, http.StatusOK)
}

// TestDeactivateFailedStages sends stages to /account/deactivate that cannot complete:
// a wrong password fails the stage (401 M_FORBIDDEN with the challenge, not a login's
// 403), and a made-up stage type or a dummy stage no flow offers fail alike. The
// account stays active throughout.
func TestDeactivateFailedStages(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "stays")

	status, _, challenge := do(t, "POST", api(srv, "/account/deactivate"), u.token,
		map[string]any{})
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	session := str(t, challenge, "session")
	for _, flow := range stagesOf(t, challenge) {
		if slices.Contains(flow, stageDummy) {
			t.Fatalf("deactivation offers the dummy stage: %v", challenge["flows"])
		}
	}

	tests := []struct {
		name string
		auth map[string]any
	}{
		{name: "wrong password", auth: passwordStage(u, session, "not the password")},
		{name: "made-up stage type", auth: map[string]any{"auth": map[string]any{
			"type": "org.example.bogus", "session": session}}},
		{name: "dummy stage not offered", auth: map[string]any{"auth": map[string]any{
			"type": stageDummy, "session": session}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, out := do(t, "POST", api(srv, "/account/deactivate"), u.token,
				tt.auth)

			wantError(t, status, out, http.StatusUnauthorized, "M_FORBIDDEN")
			if len(stagesOf(t, out)) == 0 {
				t.Errorf("the failed stage's answer has no flows: %v", out)
			}
			if got := completed(t, out); slices.Contains(got, "m.login.password") {
				t.Errorf("completed %v lists the password stage", got)
			}
			wantWhoami(t, srv, u.token, http.StatusOK, "")
		})
	}
}

// TestTokenlessUIAEndpoints calls /account/deactivate and /account/password with no
// access token: without auth each answers the 401 challenge, never an error of the
// server, and the password stage alone then deactivates the account.
func TestTokenlessUIAEndpoints(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "tokenless")

	for path, body := range map[string]map[string]any{
		"/account/deactivate": {},
		"/account/password":   {"new_password": "Never-applied-password-4"},
	} {
		status, _, out := do(t, "POST", api(srv, path), "", body)
		wantStatus(t, status, out, http.StatusUnauthorized)
		if len(stagesOf(t, out)) == 0 {
			t.Errorf("%s: the challenge offers no flow: %v", path, out)
		}
	}
	wantWhoami(t, srv, u.token, http.StatusOK, "")

	status, _, out := do(t, "POST", api(srv, "/account/deactivate"), "",
		passwordStage(u, "", u.password))
	wantStatus(t, status, out, http.StatusOK)
	wantWhoami(t, srv, u.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
}

// TestDeactivateEndsEverything deactivates an account with two sessions through the
// password stage: the answer is 200 with id_server_unbind_result success (nothing was
// bound), every token of the account is then M_UNKNOWN_TOKEN, the password logs in no
// more, and the localpart stays taken for /register/available and /register.
func TestDeactivateEndsEverything(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "leaver")
	other := loginAs(t, srv, u)

	status, out := withPassword(t, srv, u, "POST", "/account/deactivate", u.password,
		map[string]any{})
	wantStatus(t, status, out, http.StatusOK)
	if out["id_server_unbind_result"] != "success" {
		t.Errorf("id_server_unbind_result %v, want success", out["id_server_unbind_result"])
	}

	wantWhoami(t, srv, u.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	wantWhoami(t, srv, other.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	status, body := passwordLogin(t, srv, u.userID, u.password)
	wantError(t, status, body, http.StatusForbidden, "M_USER_DEACTIVATED")

	status, _, body = do(t, "GET", api(srv, "/register/available?username=leaver"), "", nil)
	wantError(t, status, body, http.StatusBadRequest, "M_USER_IN_USE")
	status, _, body = do(t, "POST", api(srv, "/register"), "",
		map[string]any{"username": "leaver", "password": secret})
	wantError(t, status, body, http.StatusBadRequest, "M_USER_IN_USE")
	status, body = register(t, srv, map[string]any{"username": "leaver", "password": secret})
	wantError(t, status, body, http.StatusBadRequest, "M_USER_IN_USE")
}
