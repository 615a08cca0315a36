package httpapi_test

import (
	"net/http"
	"testing"
)

// TestAdminLock locks an account through the spec's endpoint: its tokens get 401
// M_USER_LOCKED with soft_logout, it cannot log in but can log out, and unlocking
// brings its sessions back.
func TestAdminLock(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	alice := e.user
	other := loginAs(t, e.srv, alice)
	lock := moderation + "/lock/" + alice.userID

	status, body := e.asAdmin(t, "GET", lock, nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["locked"] != false {
		t.Errorf("GET lock before locking: %v", body)
	}

	status, body = e.asAdmin(t, "PUT", lock, map[string]any{"locked": true})
	wantStatus(t, status, body, http.StatusOK)
	if body["locked"] != true {
		t.Errorf("PUT lock answered %v", body)
	}
	_, body = e.asAdmin(t, "GET", lock, nil)
	if body["locked"] != true {
		t.Errorf("GET lock after locking: %v", body)
	}

	body = wantWhoami(t, e.srv, alice.token, http.StatusUnauthorized, "M_USER_LOCKED")
	if body["soft_logout"] != true {
		t.Errorf("locked answer %v lacks soft_logout", body)
	}
	status, body = passwordLogin(t, e.srv, alice.userID, secret)
	wantError(t, status, body, http.StatusUnauthorized, "M_USER_LOCKED")
	status, _, body = do(t, "POST", api(e.srv, "/logout"), other.token, nil)
	wantStatus(t, status, body, http.StatusOK)

	status, body = e.asAdmin(t, "PUT", lock, map[string]any{"locked": false})
	wantStatus(t, status, body, http.StatusOK)
	wantWhoami(t, e.srv, alice.token, http.StatusOK, "")
	loginAs(t, e.srv, alice)

	ev := wantAuditEvent(t, e.srv, "admin.user.lock", alice.userID, "success")
	if string(ev.Details) != `{"locked":false}` || ev.Actor != e.admin.userID {
		t.Errorf("last lock event %+v", ev)
	}
	wantAuditEvent(t, e.srv, "login", alice.userID, "failure")
}

func TestAdminSuspend(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	suspend := moderation + "/suspend/" + e.user.userID

	status, body := e.asAdmin(t, "PUT", suspend, map[string]any{"suspended": true})
	wantStatus(t, status, body, http.StatusOK)
	if body["suspended"] != true {
		t.Errorf("PUT suspend answered %v", body)
	}
	_, body = e.asAdmin(t, "GET", suspend, nil)
	if body["suspended"] != true {
		t.Errorf("GET suspend after suspending: %v", body)
	}
	_, body = e.asAdmin(t, "GET", userPath(e.user.userID), nil)
	if body["suspended"] != true {
		t.Errorf("the user query does not show the suspension: %v", body)
	}
	// A suspended account may still log in and use its session (spec v1.13), but not
	// remove a contact.
	wantWhoami(t, e.srv, e.user.token, http.StatusOK, "")
	loginAs(t, e.srv, e.user)
	removal := map[string]any{"medium": "email", "address": "alice@example.org"}
	status, _, body = do(t, "POST", api(e.srv, "/account/3pid/delete"), e.user.token, removal)
	wantError(t, status, body, http.StatusForbidden, "M_USER_SUSPENDED")
	status, _, body = do(t, "GET", api(e.srv, "/account/3pid"), e.user.token, nil)
	wantStatus(t, status, body, http.StatusOK)

	status, body = e.asAdmin(t, "PUT", suspend, map[string]any{"suspended": false})
	wantStatus(t, status, body, http.StatusOK)
	_, body = e.asAdmin(t, "GET", suspend, nil)
	if body["suspended"] != false {
		t.Errorf("GET suspend after unsuspending: %v", body)
	}
	status, _, body = do(t, "POST", api(e.srv, "/account/3pid/delete"), e.user.token, removal)
	wantStatus(t, status, body, http.StatusOK)
	wantAuditEvent(t, e.srv, "admin.user.suspend", e.user.userID, "success")
}

func TestAdminModerationErrors(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)

	tests := []struct {
		name, method, path string
		body               any
		status             int
		errcode            string
	}{
		{"unknown user", "GET", "/lock/@nobody:" + serverName, nil, 404, "M_NOT_FOUND"},
		{"unknown user to lock", "PUT", "/lock/@nobody:" + serverName,
			map[string]any{"locked": true}, 404, "M_NOT_FOUND"},
		{"remote user", "PUT", "/suspend/@bob:elsewhere.example",
			map[string]any{"suspended": true}, 400, "M_INVALID_PARAM"},
		{"missing flag", "PUT", "/lock/" + e.user.userID, map[string]any{}, 400,
			"M_MISSING_PARAM"},
		{"flag not a boolean", "PUT", "/suspend/" + e.user.userID,
			map[string]any{"suspended": "yes"}, 400, "M_BAD_JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.asAdmin(t, tt.method, moderation+tt.path, tt.body)
			wantError(t, status, body, tt.status, tt.errcode)
		})
	}
}

// TestAccountModerationCapability checks that admins, and only they, are told that
// they may lock and suspend accounts.
func TestAccountModerationCapability(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)

	for _, tc := range []struct {
		who   account
		wants bool
	}{{e.admin, true}, {e.user, false}} {
		status, _, body := do(t, "GET", api(e.srv, "/capabilities"), tc.who.token, nil)
		wantStatus(t, status, body, http.StatusOK)
		caps, _ := body["capabilities"].(map[string]any)
		mod, ok := caps["m.account_moderation"].(map[string]any)
		if ok != tc.wants || (ok && (mod["lock"] != true || mod["suspend"] != true)) {
			t.Errorf("%s sees m.account_moderation %v (present %v), want present %v",
				tc.who.userID, mod, ok, tc.wants)
		}
	}
}
