package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/internal/token"
)

// login logs in as userID with password and returns the answer; extra adds body fields.
func login(t *testing.T, srv *testserver.Server, userID, password string,
	extra map[string]any,
) (int, map[string]any) {
	t.Helper()

	body := with(map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": userID},
		"password":   password,
	}, extra)
	status, _, out := do(t, "POST", api(srv, "/login"), "", body)
	return status, out
}

// loginAs logs in to an account again and returns the new session.
func loginAs(t *testing.T, srv *testserver.Server, a account) account {
	t.Helper()

	status, body := login(t, srv, a.userID, a.password, nil)
	wantStatus(t, status, body, http.StatusOK)
	return account{userID: a.userID, password: a.password, token: str(t, body, "access_token"),
		deviceID: str(t, body, "device_id")}
}

// whoami calls GET /account/whoami with token.
func whoami(t *testing.T, srv *testserver.Server, token string) (int, map[string]any) {
	t.Helper()

	status, _, body := do(t, "GET", api(srv, "/account/whoami"), token, nil)
	return status, body
}

// TestLoginFlows checks that GET /login offers password login.
func TestLoginFlows(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	status, header, body := do(t, "GET", api(srv, "/login"), "", nil)

	wantStatus(t, status, body, http.StatusOK)
	wantJSON(t, header)
	flows, _ := body["flows"].([]any)
	want := map[string]bool{"m.login.password": false, "m.login.token": false}
	for _, f := range flows {
		flow, _ := f.(map[string]any)
		typ, _ := flow["type"].(string)
		if _, ok := want[typ]; !ok {
			t.Errorf("unexpected flow %v", f)
		}
		want[typ] = true
		if typ == "m.login.token" && flow["get_login_token"] != true {
			t.Errorf("the token flow %v does not offer get_login_token", f)
		}
	}
	for typ, seen := range want {
		if !seen {
			t.Errorf("flows %v lack %s", body["flows"], typ)
		}
	}
}

// TestLogin checks the identifiers a password login accepts, and that each answer
// carries a working token for the requested or a new device.
func TestLogin(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")

	userIdentifier := func(user string) map[string]any {
		return map[string]any{"type": "m.login.password", "password": secret,
			"identifier": map[string]any{"type": "m.id.user", "user": user}}
	}
	tests := []struct {
		name       string
		body       map[string]any
		wantDevice string // empty: any new device
	}{
		{name: "full user ID", body: userIdentifier(alice.userID)},
		{name: "localpart", body: userIdentifier("alice")},
		{name: "localpart in capitals", body: userIdentifier("ALICE")},
		{name: "full user ID in mixed case", body: userIdentifier("@Alice:" + serverName)},
		{name: "deprecated top-level user", body: map[string]any{
			"type": "m.login.password", "user": "alice", "password": secret}},
		{name: "requested device ID", body: with(userIdentifier("alice"),
			map[string]any{"device_id": "LOGINDEV", "initial_device_display_name": "Phone"}),
			wantDevice: "LOGINDEV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, "POST", api(srv, "/login"), "", tt.body)

			wantStatus(t, status, body, http.StatusOK)
			wantJSON(t, header)
			access, device := str(t, body, "access_token"), str(t, body, "device_id")
			if body["user_id"] != alice.userID {
				t.Errorf("user_id %v, want %s", body["user_id"], alice.userID)
			}
			if tt.wantDevice != "" && device != tt.wantDevice {
				t.Errorf("device_id %s, want %s", device, tt.wantDevice)
			}
			if body["home_server"] != serverName {
				t.Errorf("home_server %v, want %s", body["home_server"], serverName)
			}
			wellKnown, _ := body["well_known"].(map[string]any)
			homeserver, _ := wellKnown["m.homeserver"].(map[string]any)
			if homeserver["base_url"] != srv.URL+"/" {
				t.Errorf("well_known %v, want base_url %s/", body["well_known"], srv.URL)
			}
			wantAbsent(t, body, "refresh_token", "expires_in_ms")

			status, me := whoami(t, srv, access)
			wantStatus(t, status, me, http.StatusOK)
			if me["user_id"] != alice.userID || me["device_id"] != device {
				t.Errorf("whoami %v, want %s on %s", me, alice.userID, device)
			}
		})
	}
}

// TestLoginRefused checks the answers to logins that cannot succeed: 403 M_FORBIDDEN
// for credentials that do not match, whatever the reason, and 400 for bad requests.
func TestLoginRefused(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration(), testserver.WithGuests())
	newAccount(t, srv, "alice")

	status, _, guest := do(t, "POST", api(srv, "/register?kind=guest"), "", map[string]any{})
	wantStatus(t, status, guest, http.StatusOK)

	byUser := func(user, password string) map[string]any {
		return map[string]any{"type": "m.login.password", "password": password,
			"identifier": map[string]any{"type": "m.id.user", "user": user}}
	}
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantCode   string
	}{
		{name: "wrong password", body: byUser("alice", "wrong"),
			wantStatus: http.StatusForbidden, wantCode: "M_FORBIDDEN"},
		{name: "unknown user", body: byUser("nobody", secret),
			wantStatus: http.StatusForbidden, wantCode: "M_FORBIDDEN"},
		{name: "user on another server", body: byUser("@alice:other.example", secret),
			wantStatus: http.StatusForbidden, wantCode: "M_FORBIDDEN"},
		{name: "unknown email address", body: map[string]any{"type": "m.login.password",
			"password": secret, "identifier": map[string]any{"type": "m.id.thirdparty",
				"medium": "email", "address": "alice@example.org"}},
			wantStatus: http.StatusForbidden, wantCode: "M_FORBIDDEN"},
		{name: "guest account without a password", body: byUser(str(t, guest, "user_id"), ""),
			wantStatus: http.StatusForbidden, wantCode: "M_FORBIDDEN"},
		{name: "no type", body: map[string]any{"user": "alice", "password": secret},
			wantStatus: http.StatusBadRequest, wantCode: "M_MISSING_PARAM"},
		{name: "unknown type", body: with(byUser("alice", secret),
			map[string]any{"type": "m.login.magic"}),
			wantStatus: http.StatusBadRequest, wantCode: "M_UNKNOWN"},
		{name: "unknown login token", body: map[string]any{"type": "m.login.token",
			"token": "abc"}, wantStatus: http.StatusForbidden, wantCode: "M_FORBIDDEN"},
		{name: "no password", body: map[string]any{"type": "m.login.password",
			"identifier": map[string]any{"type": "m.id.user", "user": "alice"}},
			wantStatus: http.StatusBadRequest, wantCode: "M_MISSING_PARAM"},
		{name: "no identifier", body: map[string]any{"type": "m.login.password",
			"password": secret}, wantStatus: http.StatusBadRequest, wantCode: "M_MISSING_PARAM"},
		{name: "unknown identifier type", body: map[string]any{"type": "m.login.password",
			"password": secret, "identifier": map[string]any{"type": "m.id.magic"}},
			wantStatus: http.StatusBadRequest, wantCode: "M_UNKNOWN"},
		{name: "number for password", body: with(byUser("alice", ""),
			map[string]any{"password": 12345}),
			wantStatus: http.StatusBadRequest, wantCode: "M_BAD_JSON"},
		{name: "string for identifier", body: map[string]any{"type": "m.login.password",
			"password": secret, "identifier": "alice"},
			wantStatus: http.StatusBadRequest, wantCode: "M_BAD_JSON"},
		{name: "string for refresh_token", body: with(byUser("alice", secret),
			map[string]any{"refresh_token": "yes"}),
			wantStatus: http.StatusBadRequest, wantCode: "M_BAD_JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, "POST", api(srv, "/login"), "", tt.body)

			wantJSON(t, header)
			wantError(t, status, body, tt.wantStatus, tt.wantCode)
			wantAbsent(t, body, "access_token", "user_id")
		})
	}
}

// TestLoginReusedDevice checks that logging in again with a device ID replaces the
// device's earlier token.
func TestLoginReusedDevice(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")
	device := map[string]any{"device_id": "SAMEDEV"}

	status, first := login(t, srv, alice.userID, secret, device)
	wantStatus(t, status, first, http.StatusOK)
	status, second := login(t, srv, alice.userID, secret, device)
	wantStatus(t, status, second, http.StatusOK)

	status, me := whoami(t, srv, str(t, first, "access_token"))
	wantError(t, status, me, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	status, me = whoami(t, srv, str(t, second, "access_token"))
	wantStatus(t, status, me, http.StatusOK)
	if me["device_id"] != "SAMEDEV" {
		t.Errorf("device_id %v, want SAMEDEV", me["device_id"])
	}
}

// TestLogout checks that POST /logout, with no body or an empty object, ends only the
// calling session: its token becomes M_UNKNOWN_TOKEN without soft_logout, and the
// user's other sessions keep working.
func TestLogout(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body any
	}{
		{name: "no body"},
		{name: "empty object", body: map[string]any{}},
		{name: "empty body labelled JSON", body: rawBody("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, testserver.WithOpenRegistration())
			alice := newAccount(t, srv, "alice")
			alice2 := loginAs(t, srv, alice)

			status, header, body := do(t, "POST", api(srv, "/logout"), alice.token, tt.body)
			wantStatus(t, status, body, http.StatusOK)
			wantJSON(t, header)
			if len(body) != 0 {
				t.Errorf("logout answered %v, want {}", body)
			}

			status, me := whoami(t, srv, alice.token)
			wantError(t, status, me, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
			if soft, ok := me["soft_logout"]; ok && soft != false {
				t.Errorf("soft_logout %v after a logout, want absent or false", soft)
			}

			status, _, body = do(t, "POST", api(srv, "/logout"), alice.token, nil)
			wantError(t, status, body, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")

			status, me = whoami(t, srv, alice2.token)
			wantStatus(t, status, me, http.StatusOK)
			if me["user_id"] != alice.userID || me["device_id"] != alice2.deviceID {
				t.Errorf("whoami %v, want %s on %s", me, alice.userID, alice2.deviceID)
			}
		})
	}
}

// TestLogoutAll checks that POST /logout/all ends every session of the user, the
// caller's included, and leaves the account able to log in.
func TestLogoutAll(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "u")
	u2, u3 := loginAs(t, srv, u), loginAs(t, srv, u)
	other := newAccount(t, srv, "other")

	status, _, body := do(t, "POST", api(srv, "/logout/all"), u2.token, nil)
	wantStatus(t, status, body, http.StatusOK)
	if len(body) != 0 {
		t.Errorf("logout/all answered %v, want {}", body)
	}

	for name, tok := range map[string]string{"first": u.token, "caller": u2.token,
		"third": u3.token} {
		status, me := whoami(t, srv, tok)
		if status != http.StatusUnauthorized || me["errcode"] != "M_UNKNOWN_TOKEN" {
			t.Errorf("%s session: %d %v, want 401 M_UNKNOWN_TOKEN", name, status, me)
		}
		if soft, ok := me["soft_logout"]; ok && soft != false {
			t.Errorf("%s session: soft_logout %v, want absent or false", name, soft)
		}
	}

	status, me := whoami(t, srv, other.token)
	wantStatus(t, status, me, http.StatusOK)
	loginAs(t, srv, u)
}

// TestSessionEndpointsNeedToken checks the 401 answers of /logout, /logout/all and
// /account/whoami to a request without a usable token.
func TestSessionEndpointsNeedToken(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	endpoints := []struct{ method, path string }{
		{"POST", "/logout"}, {"POST", "/logout/all"}, {"GET", "/account/whoami"},
	}
	tokens := []struct {
		name     string
		token    string
		wantCode string
	}{
		{name: "no token", wantCode: "M_MISSING_TOKEN"},
		{name: "made-up token", token: "syt_bogus", wantCode: "M_UNKNOWN_TOKEN"},
		// Well formed, so the server has to look it up to refuse it.
		{name: "well formed, never issued", token: token.New(token.Access),
			wantCode: "M_UNKNOWN_TOKEN"},
	}
	for _, e := range endpoints {
		for _, tt := range tokens {
			t.Run(e.path+" "+tt.name, func(t *testing.T) {
				status, header, body := do(t, e.method, api(srv, e.path), tt.token, nil)

				wantJSON(t, header)
				wantError(t, status, body, http.StatusUnauthorized, tt.wantCode)
				if soft, ok := body["soft_logout"]; ok && soft != false {
					t.Errorf("soft_logout %v, want absent or false", soft)
				}
			})
		}
	}
}

// TestWhoami checks whoami for a user and for a guest.
func TestWhoami(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration(), testserver.WithGuests())
	user := newAccount(t, srv, "u")

	status, _, guest := do(t, "POST", api(srv, "/register?kind=guest"), "", map[string]any{})
	wantStatus(t, status, guest, http.StatusOK)

	tests := []struct {
		name      string
		token     string
		want      map[string]any
		wantGuest bool
	}{
		{name: "user", token: user.token,
			want: map[string]any{"user_id": user.userID, "device_id": user.deviceID}},
		{name: "guest", token: str(t, guest, "access_token"), wantGuest: true,
			want: map[string]any{"user_id": guest["user_id"], "device_id": guest["device_id"]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, me := whoami(t, srv, tt.token)

			wantStatus(t, status, me, http.StatusOK)
			for k, v := range tt.want {
				if me[k] != v {
					t.Errorf("%s %v, want %v", k, me[k], v)
				}
			}
			if tt.wantGuest && me["is_guest"] != true {
				t.Errorf("is_guest %v, want true", me["is_guest"])
			}
			if g, ok := me["is_guest"]; !tt.wantGuest && ok && g != false {
				t.Errorf("is_guest %v for a user, want absent or false", g)
			}
		})
	}
}

// TestGuestCannotLogOut checks that a guest, who may call whoami, is refused /logout
// and /logout/all, which are not on the spec's list of guest endpoints.
func TestGuestCannotLogOut(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithGuests())

	status, _, guest := do(t, "POST", api(srv, "/register?kind=guest"), "", map[string]any{})
	wantStatus(t, status, guest, http.StatusOK)
	guestToken := str(t, guest, "access_token")

	for _, path := range []string{"/logout", "/logout/all"} {
		t.Run(path, func(t *testing.T) {
			status, _, body := do(t, "POST", api(srv, path), guestToken, nil)
			wantError(t, status, body, http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN")
		})
	}

	status, me := whoami(t, srv, guestToken)
	wantStatus(t, status, me, http.StatusOK)
}
