package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestAdminRefusesNonAdmins calls every admin endpoint with an ordinary user's token
// (403 M_FORBIDDEN, audited as denied) and with none (401 M_MISSING_TOKEN). The target
// does not exist, so a 403 also shows that nothing was looked up first.
func TestAdminRefusesNonAdmins(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	ghost := "@ghost:" + serverName

	endpoints := []struct {
		method, path string
		body         any
	}{
		{"GET", adminV2 + "/users", nil},
		{"GET", userPath(ghost), nil},
		{"PUT", userPath(ghost), map[string]any{"password": secret}},
		{"GET", userPath(ghost) + "/devices", nil},
		{"GET", userPath(ghost) + "/devices/DEV", nil},
		{"DELETE", userPath(ghost) + "/devices/DEV", nil},
		{"POST", userPath(ghost) + "/delete_devices", map[string]any{"devices": []string{}}},
		{"POST", adminV1 + "/reset_password/" + ghost, map[string]any{"new_password": secret}},
		{"POST", adminV1 + "/deactivate/" + ghost, map[string]any{}},
		{"GET", adminV1 + "/whois/" + ghost, nil},
		{"GET", adminV1 + "/username_available?username=someone", nil},
		{"GET", adminV1 + "/threepid/email/users/a@example.org", nil},
		{"GET", moderation + "/lock/" + ghost, nil},
		{"PUT", moderation + "/lock/" + ghost, map[string]any{"locked": true}},
		{"GET", moderation + "/suspend/" + ghost, nil},
		{"PUT", moderation + "/suspend/" + ghost, map[string]any{"suspended": true}},
		{"GET", auditPath, nil},
		{"GET", adminV1 + "/registration_tokens", nil},
	}
	for _, ep := range endpoints {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			status, _, body := do(t, ep.method, e.srv.URL+ep.path, e.user.token, ep.body)
			wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")

			status, _, body = do(t, ep.method, e.srv.URL+ep.path, "", ep.body)
			wantError(t, status, body, http.StatusUnauthorized, "M_MISSING_TOKEN")
		})
	}

	denied := auditEvents(t, e.srv, store.AuditFilter{User: e.user.userID})
	n := 0
	for _, ev := range denied {
		if ev.Outcome == "denied" && ev.Actor == e.user.userID {
			n++
		}
	}
	if n != len(endpoints) {
		t.Errorf("%d denied admin calls audited, want %d: %+v", n, len(endpoints), denied)
	}
}

// userNames returns the names of the users of a list answer.
func userNames(t *testing.T, body map[string]any) []string {
	t.Helper()

	users, ok := body["users"].([]any)
	if !ok {
		t.Fatalf("users is %#v; body %v", body["users"], body)
	}
	var out []string
	for _, u := range users {
		obj, _ := u.(map[string]any)
		name, _ := obj["name"].(string)
		out = append(out, name)
	}
	return out
}

func TestAdminListUsers(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t, testserver.WithGuests())
	srv := e.srv
	bob := newAccount(t, srv, "bob")
	carol := newAccount(t, srv, "carol")
	status, _, guest := do(t, "POST", api(srv, "/register?kind=guest"), "", map[string]any{})
	wantStatus(t, status, guest, http.StatusOK)
	guestID := str(t, guest, "user_id")

	status, body := e.asAdmin(t, "PUT", moderation+"/lock/"+carol.userID,
		map[string]any{"locked": true})
	wantStatus(t, status, body, http.StatusOK)
	status, body = e.asAdmin(t, "POST", adminV1+"/deactivate/"+bob.userID, nil)
	wantStatus(t, status, body, http.StatusOK)

	u := func(lp string) string { return "@" + lp + ":" + serverName }
	tests := []struct {
		name      string
		query     string
		want      []string
		wantTotal float64
		wantNext  string
	}{
		{"defaults: guests in, deactivated and locked out", "",
			[]string{guestID, u("alice"), u("boss")}, 3, ""},
		{"no guests", "?guests=false", []string{u("alice"), u("boss")}, 2, ""},
		{"everyone", "?deactivated=true&locked=true&guests=false",
			[]string{u("alice"), u("bob"), u("boss"), u("carol")}, 4, ""},
		{"admins", "?admins=true", []string{u("boss")}, 1, ""},
		{"not admins", "?admins=false&guests=false", []string{u("alice")}, 1, ""},
		{"name", "?name=BO&deactivated=true", []string{u("bob"), u("boss")}, 2, ""},
		{"user_id", "?user_id=" + url.QueryEscape("@al"), []string{u("alice")}, 1, ""},
		{"first page", "?limit=2&guests=false&deactivated=true",
			[]string{u("alice"), u("bob")}, 3, "2"},
		{"second page", "?limit=2&from=2&guests=false&deactivated=true",
			[]string{u("boss")}, 3, ""},
		{"newest first", "?order_by=creation_ts&dir=b&guests=false&locked=true",
			[]string{u("carol"), u("alice"), u("boss")}, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.asAdmin(t, "GET", adminV2+"/users"+tt.query, nil)
			wantStatus(t, status, body, http.StatusOK)
			if got := userNames(t, body); !slices.Equal(got, tt.want) {
				t.Errorf("users %q, want %q", got, tt.want)
			}
			if body["total"] != tt.wantTotal {
				t.Errorf("total %v, want %v", body["total"], tt.wantTotal)
			}
			next, _ := body["next_token"].(string)
			if next != tt.wantNext {
				t.Errorf("next_token %q, want %q", next, tt.wantNext)
			}
		})
	}

	// One entry in full: the Synapse fields, with creation_ts in milliseconds.
	_, body = e.asAdmin(t, "GET", adminV2+"/users?user_id="+url.QueryEscape(e.user.userID),
		nil)
	entry := body["users"].([]any)[0].(map[string]any)
	for key, want := range map[string]any{"name": e.user.userID, "is_guest": false,
		"admin": false, "deactivated": false, "erased": false, "locked": false,
		"shadow_banned": false, "user_type": nil, "displayname": nil} {
		if entry[key] != want {
			t.Errorf("%s is %#v, want %#v; entry %v", key, entry[key], want, entry)
		}
	}
	if ts, _ := entry["creation_ts"].(float64); ts < 1e12 {
		t.Errorf("creation_ts %v is not in milliseconds", entry["creation_ts"])
	}

	for _, bad := range []string{"?from=-1", "?limit=0", "?limit=x", "?guests=maybe",
		"?order_by=height", "?dir=sideways", "?admins=1"} {
		status, body := e.asAdmin(t, "GET", adminV2+"/users"+bad, nil)
		wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")
	}
}

func TestAdminQueryUser(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	wantWhoami(t, e.srv, e.user.token, http.StatusOK, "") // the device is seen

	status, body := e.asAdmin(t, "GET", userPath(e.user.userID), nil)
	wantStatus(t, status, body, http.StatusOK)
	for key, want := range map[string]any{"name": e.user.userID, "admin": false,
		"is_guest": false, "deactivated": false, "locked": false, "suspended": false,
		"appservice_id": nil, "user_type": nil} {
		if body[key] != want {
			t.Errorf("%s is %#v, want %#v; body %v", key, body[key], want, body)
		}
	}
	if ts, _ := body["creation_ts"].(float64); ts < 1e9 || ts > 1e11 {
		t.Errorf("creation_ts %v is not in seconds, as Synapse gives it", body["creation_ts"])
	}
	if pids, ok := body["threepids"].([]any); !ok || len(pids) != 0 {
		t.Errorf("threepids %#v, want []", body["threepids"])
	}
	if body["last_seen_ts"] == nil {
		t.Errorf("last_seen_ts is null after the user's requests; body %v", body)
	}

	status, body = e.asAdmin(t, "GET", userPath("@nobody:"+serverName), nil)
	wantError(t, status, body, http.StatusNotFound, "M_NOT_FOUND")
	status, body = e.asAdmin(t, "GET", userPath("@alice:elsewhere.example"), nil)
	wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")
	status, body = e.asAdmin(t, "GET", userPath("alice"), nil)
	wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")

	wantAuditEvent(t, e.srv, "admin.user.query", e.user.userID, "success")
}

func TestAdminCreateUser(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	dave := "@dave:" + serverName

	status, body := e.asAdmin(t, "PUT", userPath(dave), map[string]any{
		"password": "short", "admin": true, "user_type": "bot",
		"threepids":   []map[string]any{{"medium": "email", "address": "Dave@Example.org"}},
		"displayname": "Dave", // the homeserver's; ignored
	})
	wantStatus(t, status, body, http.StatusCreated)
	if body["admin"] != true || body["user_type"] != "bot" || body["name"] != dave {
		t.Errorf("created account %v", body)
	}
	pids, _ := body["threepids"].([]any)
	if len(pids) != 1 || pids[0].(map[string]any)["address"] != "dave@example.org" {
		t.Errorf("threepids %v, want the case-folded address", body["threepids"])
	}

	// An operator's password skips the users' policy; the account can log in.
	status, body = passwordLogin(t, e.srv, dave, "short")
	wantStatus(t, status, body, http.StatusOK)

	status, body = e.asAdmin(t, "GET", adminV1+"/threepid/email/users/dave%40example.org",
		nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["user_id"] != dave {
		t.Errorf("3PID lookup answered %v, want %s", body, dave)
	}
	status, body = e.asAdmin(t, "GET", adminV1+"/threepid/email/users/nobody%40x.org", nil)
	wantError(t, status, body, http.StatusNotFound, "M_NOT_FOUND")

	ev := wantAuditEvent(t, e.srv, "admin.user.modify", dave, "success")
	if ev.Actor != e.admin.userID || ev.IP != "127.0.0.1" {
		t.Errorf("audit event %+v, want actor %s from 127.0.0.1", ev, e.admin.userID)
	}

	tests := []struct {
		name    string
		user    string
		body    map[string]any
		status  int
		errcode string
	}{
		{"taken address", "@erin:" + serverName, map[string]any{"threepids": []any{
			map[string]any{"medium": "email", "address": "dave@example.org"}}},
			400, "M_THREEPID_IN_USE"},
		{"bad user type", "@erin:" + serverName, map[string]any{"user_type": "robot"},
			400, "M_INVALID_PARAM"},
		{"admin not a boolean", "@erin:" + serverName, map[string]any{"admin": "yes"},
			400, "M_BAD_JSON"},
		{"bad localpart", "@Erin!:" + serverName, map[string]any{}, 400,
			"M_INVALID_USERNAME"},
		{"remote user", "@erin:elsewhere.example", map[string]any{}, 400,
			"M_INVALID_PARAM"},
		{"deactivated and locked", "@erin:" + serverName, map[string]any{
			"deactivated": true, "locked": true}, 400, "M_INVALID_PARAM"},
		{"3PID without address", "@erin:" + serverName, map[string]any{"threepids": []any{
			map[string]any{"medium": "email"}}}, 400, "M_MISSING_PARAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.asAdmin(t, "PUT", userPath(tt.user), tt.body)
			wantError(t, status, body, tt.status, tt.errcode)
		})
	}
	if _, err := e.srv.Store.AccountByLocalpart(t.Context(), "erin"); err == nil {
		t.Error("a refused PUT created erin")
	}
}

func TestAdminModifyUser(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	alice := e.user
	second := loginAs(t, e.srv, alice)

	// A new password with logout_devices false keeps the sessions.
	status, body := e.asAdmin(t, "PUT", userPath(alice.userID), map[string]any{
		"password": "new-secret-1", "logout_devices": false, "user_type": "support"})
	wantStatus(t, status, body, http.StatusOK)
	if body["user_type"] != "support" {
		t.Errorf("user_type %v, want support", body["user_type"])
	}
	wantWhoami(t, e.srv, second.token, http.StatusOK, "")
	status, body = passwordLogin(t, e.srv, alice.userID, "new-secret-1")
	wantStatus(t, status, body, http.StatusOK)

	// By default a new password ends every session.
	status, body = e.asAdmin(t, "PUT", userPath(alice.userID), map[string]any{
		"password": "new-secret-2", "user_type": nil})
	wantStatus(t, status, body, http.StatusOK)
	if body["user_type"] != nil {
		t.Errorf("user_type %v after null, want null", body["user_type"])
	}
	wantWhoami(t, e.srv, second.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	ev := wantAuditEvent(t, e.srv, "admin.user.modify", alice.userID, "success")
	if string(ev.Details) != `{"changed":["user_type","password"],"created":false}` {
		t.Errorf("audit details %s", ev.Details)
	}

	// Locking through PUT refuses the tokens with M_USER_LOCKED.
	fresh := loginAsWith(t, e.srv, alice.userID, "new-secret-2")
	status, body = e.asAdmin(t, "PUT", userPath(alice.userID), map[string]any{"locked": true})
	wantStatus(t, status, body, http.StatusOK)
	wantWhoami(t, e.srv, fresh, http.StatusUnauthorized, "M_USER_LOCKED")
	status, body = e.asAdmin(t, "PUT", userPath(alice.userID), map[string]any{"locked": false})
	wantStatus(t, status, body, http.StatusOK)
	wantWhoami(t, e.srv, fresh, http.StatusOK, "")

	// Deactivation ends the sessions and the password; reactivation with a new one
	// lets the account in again.
	status, body = e.asAdmin(t, "PUT", userPath(alice.userID),
		map[string]any{"deactivated": true})
	wantStatus(t, status, body, http.StatusOK)
	if body["deactivated"] != true {
		t.Errorf("deactivated %v", body["deactivated"])
	}
	wantWhoami(t, e.srv, fresh, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	status, body = passwordLogin(t, e.srv, alice.userID, "new-secret-2")
	wantError(t, status, body, http.StatusForbidden, "M_USER_DEACTIVATED")
	// Deactivation dropped the password, so reactivation needs a new one.
	status, body = e.asAdmin(t, "PUT", userPath(alice.userID), map[string]any{
		"deactivated": false})
	wantError(t, status, body, http.StatusBadRequest, "M_MISSING_PARAM")
	status, body = e.asAdmin(t, "PUT", userPath(alice.userID), map[string]any{
		"deactivated": false, "password": "new-secret-3"})
	wantStatus(t, status, body, http.StatusOK)
	status, body = passwordLogin(t, e.srv, alice.userID, "new-secret-3")
	wantStatus(t, status, body, http.StatusOK)

	// An admin may not demote themself, but may promote and demote others.
	status, body = e.asAdmin(t, "PUT", userPath(e.admin.userID), map[string]any{"admin": false})
	wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")
	status, body = e.asAdmin(t, "PUT", userPath(alice.userID), map[string]any{"admin": true})
	wantStatus(t, status, body, http.StatusOK)
	if body["admin"] != true {
		t.Errorf("admin %v after promotion", body["admin"])
	}

	// threepids replaces the set.
	for _, set := range [][]string{{"a@example.org", "b@example.org"}, {"b@example.org"}, {}} {
		var pids []map[string]any
		for _, a := range set {
			pids = append(pids, map[string]any{"medium": "email", "address": a})
		}
		status, body = e.asAdmin(t, "PUT", userPath(alice.userID),
			map[string]any{"threepids": append([]map[string]any{}, pids...)})
		wantStatus(t, status, body, http.StatusOK)
		got, _ := body["threepids"].([]any)
		if len(got) != len(set) {
			t.Errorf("threepids %v after setting %q", body["threepids"], set)
		}
	}
}

// loginAsWith logs in to userID with password and returns the access token.
func loginAsWith(t *testing.T, srv *testserver.Server, userID, password string) string {
	t.Helper()

	status, body := passwordLogin(t, srv, userID, password)
	wantStatus(t, status, body, http.StatusOK)
	return str(t, body, "access_token")
}

func TestAdminResetPassword(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	path := adminV1 + "/reset_password/" + e.user.userID

	status, body := e.asAdmin(t, "POST", path, map[string]any{"new_password": "reset-1",
		"logout_devices": false})
	wantStatus(t, status, body, http.StatusOK)
	wantWhoami(t, e.srv, e.user.token, http.StatusOK, "")
	loginAsWith(t, e.srv, e.user.userID, "reset-1")

	status, body = e.asAdmin(t, "POST", path, map[string]any{"new_password": "reset-2"})
	wantStatus(t, status, body, http.StatusOK)
	wantWhoami(t, e.srv, e.user.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	status, body = passwordLogin(t, e.srv, e.user.userID, "reset-1")
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
	loginAsWith(t, e.srv, e.user.userID, "reset-2")
	wantAuditEvent(t, e.srv, "admin.user.reset_password", e.user.userID, "success")

	// An admin resetting their own password keeps the session they act from.
	status, body = e.asAdmin(t, "POST", adminV1+"/reset_password/"+e.admin.userID,
		map[string]any{"new_password": "reset-3"})
	wantStatus(t, status, body, http.StatusOK)
	wantWhoami(t, e.srv, e.admin.token, http.StatusOK, "")

	status, body = e.asAdmin(t, "POST", path, map[string]any{})
	wantError(t, status, body, http.StatusBadRequest, "M_MISSING_PARAM")
	status, body = e.asAdmin(t, "POST", adminV1+"/reset_password/@nobody:"+serverName,
		map[string]any{"new_password": "x"})
	wantError(t, status, body, http.StatusNotFound, "M_NOT_FOUND")
	wantAuditEvent(t, e.srv, "admin.user.reset_password", "@nobody:"+serverName, "failure")
}

func TestAdminDeactivate(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)

	status, body := e.asAdmin(t, "POST", adminV1+"/deactivate/"+e.user.userID,
		map[string]any{"erase": true})
	wantStatus(t, status, body, http.StatusOK)
	if body["id_server_unbind_result"] != "success" {
		t.Errorf("answer %v", body)
	}
	wantWhoami(t, e.srv, e.user.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")

	_, body = e.asAdmin(t, "GET", userPath(e.user.userID), nil)
	if body["deactivated"] != true || body["erased"] != true {
		t.Errorf("after deactivation with erase: %v", body)
	}
	status, body = passwordLogin(t, e.srv, e.user.userID, secret)
	wantError(t, status, body, http.StatusForbidden, "M_USER_DEACTIVATED")
	ev := wantAuditEvent(t, e.srv, "admin.user.deactivate", e.user.userID, "success")
	if string(ev.Details) != `{"erase":true}` {
		t.Errorf("audit details %s", ev.Details)
	}

	// Deactivating again is no error; an empty body is allowed.
	status, body = e.asAdmin(t, "POST", adminV1+"/deactivate/"+e.user.userID, nil)
	wantStatus(t, status, body, http.StatusOK)
	status, body = e.asAdmin(t, "POST", adminV1+"/deactivate/@nobody:"+serverName, nil)
	wantError(t, status, body, http.StatusNotFound, "M_NOT_FOUND")
	status, body = e.asAdmin(t, "POST", adminV1+"/deactivate/"+e.admin.userID,
		map[string]any{"erase": "yes"})
	wantError(t, status, body, http.StatusBadRequest, "M_BAD_JSON")
}

func TestAdminUsernameAvailable(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t, testserver.WithConfig(func(c *config.Config) {
		c.Registration.Enabled = false
	}))

	status, body := e.asAdmin(t, "GET", adminV1+"/username_available?username=zoe", nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["available"] != true {
		t.Errorf("answer %v", body)
	}
	status, body = e.asAdmin(t, "GET", adminV1+"/username_available?username=boss", nil)
	wantError(t, status, body, http.StatusBadRequest, "M_USER_IN_USE")
	status, body = e.asAdmin(t, "GET", adminV1+"/username_available?username=a%20b", nil)
	wantError(t, status, body, http.StatusBadRequest, "M_INVALID_USERNAME")
	status, body = e.asAdmin(t, "GET", adminV1+"/username_available", nil)
	wantError(t, status, body, http.StatusBadRequest, "M_MISSING_PARAM")
}
