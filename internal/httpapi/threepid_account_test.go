package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestListThreePIDs checks GET /account/3pid: an access token is needed (not a
// guest's), a new account lists [], and an added address has all four fields, in
// canonical form, with times in milliseconds.
func TestListThreePIDs(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration(), testserver.WithGuests())
	alice := newAccount(t, srv, "alice")

	status, _, body := do(t, "GET", api(srv, "/account/3pid"), "", nil)
	wantError(t, status, body, http.StatusUnauthorized, "M_MISSING_TOKEN")
	status, _, guest := do(t, "POST", api(srv, "/register?kind=guest"), "", map[string]any{})
	wantStatus(t, status, guest, http.StatusOK)
	status, _, body = do(t, "GET", api(srv, "/account/3pid"), str(t, guest, "access_token"),
		nil)
	wantError(t, status, body, http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN")

	status, _, body = do(t, "GET", api(srv, "/account/3pid"), alice.token, nil)
	wantStatus(t, status, body, http.StatusOK)
	if list, ok := body["threepids"].([]any); !ok || len(list) != 0 {
		t.Fatalf("a new account's threepids: %#v, want []", body["threepids"])
	}

	before := time.Now().UnixMilli()
	addEmail(t, srv, mp, alice, "Alice.Liddell@Example.org")
	list := threePIDs(t, srv, alice)
	if len(list) != 1 || !hasAddress(list, "alice.liddell@example.org") {
		t.Fatalf("threepids %v, want alice.liddell@example.org alone", list)
	}
	validatedAt, _ := list[0]["validated_at"].(float64)
	addedAt, _ := list[0]["added_at"].(float64)
	if validatedAt < float64(before-1000) || addedAt < validatedAt ||
		addedAt > float64(time.Now().UnixMilli()) {
		t.Errorf("validated_at %v, added_at %v: want times after %d, added after validated",
			list[0]["validated_at"], list[0]["added_at"], before)
	}
}

// TestAddThreePID checks POST /account/3pid/add: UIA comes first, even with a valid
// session; then the session must be validated, for adding, unused and the caller's
// (client_secret), else 400 M_THREEPID_AUTH_FAILED, which leaves the UIA session usable;
// an address another account added meanwhile is M_THREEPID_IN_USE.
func TestAddThreePID(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice, bob := newAccount(t, srv, "alice"), newAccount(t, srv, "bob")

	t.Run("parameters are checked before UIA", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"client_secret": "cs"},
			{"sid": "SID"},
			{"sid": "bad sid", "client_secret": "cs"},
			{"sid": "SID", "client_secret": "bad~secret"},
		} {
			status, _, out := do(t, "POST", api(srv, "/account/3pid/add"), alice.token, body)
			if status != http.StatusBadRequest {
				t.Errorf("%v: %d %v, want 400", body, status, out)
			}
		}
	})

	t.Run("UIA first, then an unvalidated session fails and may be retried", func(t *testing.T) {
		const address = "later@example.org"
		sid := mustRequestToken(t, srv, forThreePID, tokenBody("cs1", address, 1))
		body := map[string]any{"sid": sid, "client_secret": "cs1"}

		status, _, challenge := do(t, "POST", api(srv, "/account/3pid/add"), alice.token, body)
		wantStatus(t, status, challenge, http.StatusUnauthorized)
		session := str(t, challenge, "session")
		auth := with(body, passwordStage(alice, session, alice.password))
		status, _, out := do(t, "POST", api(srv, "/account/3pid/add"), alice.token, auth)
		wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_AUTH_FAILED")

		m := readMail(t, mp, address)
		status, out = submit(t, srv, sid, "cs1", m.code)
		wantStatus(t, status, out, http.StatusOK)
		status, _, out = do(t, "POST", api(srv, "/account/3pid/add"), alice.token,
			with(body, map[string]any{"auth": map[string]any{"session": session}}))
		wantStatus(t, status, out, http.StatusOK)
		if !hasAddress(threePIDs(t, srv, alice), address) {
			t.Errorf("%s is not listed after the add", address)
		}

		status, out = addThreePID(t, srv, alice, sid, "cs1")
		wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_AUTH_FAILED")
	})

	t.Run("sessions that cannot be used", func(t *testing.T) {
		register := validated(t, srv, mp, forRegister, "cs2", "reg@example.org")
		mine := validated(t, srv, mp, forThreePID, "cs3", "mine@example.org")
		tests := []struct {
			name, sid, cs string
		}{
			{"a registration's session", register, "cs2"},
			{"another client_secret", mine, "not-cs3"},
			{"an unknown sid", "NOSUCHSID", "cs3"},
		}
		for _, tt := range tests {
			status, out := addThreePID(t, srv, bob, tt.sid, tt.cs)
			if status != http.StatusBadRequest || out["errcode"] != "M_THREEPID_AUTH_FAILED" {
				t.Errorf("%s: %d %v, want 400 M_THREEPID_AUTH_FAILED", tt.name, status, out)
			}
		}
		if list := threePIDs(t, srv, bob); len(list) != 0 {
			t.Errorf("bob has %v after refused adds", list)
		}
	})

	t.Run("one owner per address", func(t *testing.T) {
		const address = "contested@example.org"
		forAlice := validated(t, srv, mp, forThreePID, "cs-a", address)
		forBob := validated(t, srv, mp, forThreePID, "cs-b", address)

		status, out := addThreePID(t, srv, alice, forAlice, "cs-a")
		wantStatus(t, status, out, http.StatusOK)
		status, out = addThreePID(t, srv, bob, forBob, "cs-b")
		wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_IN_USE")
		if hasAddress(threePIDs(t, srv, bob), address) {
			t.Errorf("bob got alice's address")
		}
	})
}

// TestAddThreePIDWithoutUIA checks the deprecated POST /account/3pid: three_pid_creds
// or threePidCreds name a validated session, whose address is added without UIA;
// credentials that name none are 403 M_THREEPID_AUTH_FAILED.
func TestAddThreePIDWithoutUIA(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")

	for i, key := range []string{"three_pid_creds", "threePidCreds"} {
		address := []string{"one@example.org", "two@example.org"}[i]
		sid := validated(t, srv, mp, forThreePID, "cs", address)
		status, _, out := do(t, "POST", api(srv, "/account/3pid"), alice.token,
			map[string]any{key: map[string]any{"sid": sid, "client_secret": "cs",
				"id_server": "id.example.org", "id_access_token": "x"}})
		wantStatus(t, status, out, http.StatusOK)
		if !hasAddress(threePIDs(t, srv, alice), address) {
			t.Errorf("%s: %s is not listed", key, address)
		}
	}

	unvalidated := mustRequestToken(t, srv, forThreePID, tokenBody("cs", "three@example.org", 1))
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no credentials", map[string]any{}, 400, "M_MISSING_PARAM"},
		{"credentials not an object", map[string]any{"three_pid_creds": "x"}, 400,
			"M_BAD_JSON"},
		{"an unvalidated session", map[string]any{"three_pid_creds": map[string]any{
			"sid": unvalidated, "client_secret": "cs"}}, 403, "M_THREEPID_AUTH_FAILED"},
	}
	for _, tt := range tests {
		status, _, out := do(t, "POST", api(srv, "/account/3pid"), alice.token, tt.body)
		if status != tt.status || out["errcode"] != tt.code {
			t.Errorf("%s: %d %v, want %d %s", tt.name, status, out, tt.status, tt.code)
		}
	}
}

// TestDeleteAndUnbindThreePID checks POST /account/3pid/delete and /unbind: the
// parameters, id_server_unbind_result no-support while no identity server is known,
// another account's address left alone, and a case variant of one's own removed;
// unbind keeps the address.
func TestDeleteAndUnbindThreePID(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice, bob := newAccount(t, srv, "alice"), newAccount(t, srv, "bob")
	addEmail(t, srv, mp, alice, "alice@example.org")

	for _, path := range []string{"/account/3pid/delete", "/account/3pid/unbind"} {
		tests := []struct {
			name string
			body map[string]any
			code string
		}{
			{"no medium", map[string]any{"address": "alice@example.org"}, "M_MISSING_PARAM"},
			{"no address", map[string]any{"medium": "email"}, "M_MISSING_PARAM"},
			{"an unknown medium", map[string]any{"medium": "sms",
				"address": "alice@example.org"}, "M_INVALID_PARAM"},
			{"an address not a string", map[string]any{"medium": "email", "address": 5},
				"M_BAD_JSON"},
		}
		for _, tt := range tests {
			status, _, out := do(t, "POST", api(srv, path), alice.token, tt.body)
			if status != http.StatusBadRequest || out["errcode"] != tt.code {
				t.Errorf("%s, %s: %d %v, want 400 %s", path, tt.name, status, out, tt.code)
			}
		}
		status, _, out := do(t, "POST", api(srv, path), "", map[string]any{})
		wantError(t, status, out, http.StatusUnauthorized, "M_MISSING_TOKEN")
	}

	wantResult := func(path string, a account, address string) {
		t.Helper()
		status, _, out := do(t, "POST", api(srv, path), a.token,
			map[string]any{"medium": "email", "address": address})
		wantStatus(t, status, out, http.StatusOK)
		if out["id_server_unbind_result"] != "no-support" {
			t.Errorf("%s: id_server_unbind_result %v, want no-support", path, out)
		}
	}

	wantResult("/account/3pid/unbind", alice, "alice@example.org")
	wantResult("/account/3pid/delete", bob, "alice@example.org")
	if !hasAddress(threePIDs(t, srv, alice), "alice@example.org") {
		t.Fatalf("alice lost her address to an unbind or to bob")
	}

	wantResult("/account/3pid/delete", alice, "ALICE@Example.org")
	if list := threePIDs(t, srv, alice); len(list) != 0 {
		t.Errorf("alice still has %v", list)
	}
	notice := mp.Wait(t, "alice@example.org")
	if !strings.Contains(notice.Text, "was removed from your") {
		t.Errorf("the removed address got:\n%s", notice.Text)
	}
	wantResult("/account/3pid/delete", alice, "alice@example.org") // again: no error
	wantResult("/account/3pid/delete", alice, "not an address")
}

// TestLoginWithThreePID checks login by email address: the m.id.thirdparty identifier
// in any case, the deprecated top-level medium and address, an identifier without
// type, and 403 M_FORBIDDEN for an address no account has.
func TestLoginWithThreePID(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")
	addEmail(t, srv, mp, alice, "strauss@example.com")

	tests := []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"m.id.thirdparty", map[string]any{"identifier": map[string]any{
			"type": "m.id.thirdparty", "medium": "email", "address": "strauss@example.com"}},
			200},
		{"a case variant", map[string]any{"identifier": map[string]any{
			"type": "m.id.thirdparty", "medium": "email", "address": "Strauß@Example.COM"}},
			200},
		{"top-level medium and address", map[string]any{"medium": "email",
			"address": "STRAUSS@example.com"}, 200},
		{"an identifier without type", map[string]any{"identifier": map[string]any{
			"medium": "email", "address": "strauss@example.com"}}, 200},
		{"an unknown address", map[string]any{"identifier": map[string]any{
			"type": "m.id.thirdparty", "medium": "email", "address": "x@example.com"}}, 403},
		{"another medium", map[string]any{"identifier": map[string]any{
			"type": "m.id.thirdparty", "medium": "msisdn", "address": "strauss@example.com"}},
			403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := with(map[string]any{"type": "m.login.password", "password": secret},
				tt.body)
			status, _, out := do(t, "POST", api(srv, "/login"), "", body)
			if tt.status != http.StatusOK {
				wantError(t, status, out, tt.status, "M_FORBIDDEN")
				return
			}
			wantStatus(t, status, out, tt.status)
			if out["user_id"] != alice.userID {
				t.Errorf("logged in as %v, want %s", out["user_id"], alice.userID)
			}
		})
	}

	status, _, out := do(t, "POST", api(srv, "/login"), "", map[string]any{
		"type": "m.login.password", "password": "wrong password", "identifier": map[string]any{
			"type": "m.id.thirdparty", "medium": "email", "address": "strauss@example.com"}})
	wantError(t, status, out, http.StatusForbidden, "M_FORBIDDEN")
}

// TestThreePIDCapability checks that m.3pid_changes is enabled when email is
// configured, and disabled otherwise.
func TestThreePIDCapability(t *testing.T) {
	t.Parallel()
	withEmail, _ := emailServer(t, testserver.WithOpenRegistration())
	without := testserver.Start(t, testserver.WithOpenRegistration())

	for srv, want := range map[*testserver.Server]bool{withEmail: true, without: false} {
		a := newAccount(t, srv, "caps")
		status, _, out := do(t, "GET", api(srv, "/capabilities"), a.token, nil)
		wantStatus(t, status, out, http.StatusOK)
		caps, _ := out["capabilities"].(map[string]any)
		changes, _ := caps["m.3pid_changes"].(map[string]any)
		if changes["enabled"] != want {
			t.Errorf("m.3pid_changes %v, want enabled %v", caps["m.3pid_changes"], want)
		}
	}
}

// TestThreePIDNotices checks the notices to an account's addresses: a password change
// tells them all, a new address is announced to the others, in the request's
// language when the catalogue has it.
func TestThreePIDNotices(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")
	addEmail(t, srv, mp, alice, "first@example.org")
	mp.NoMessage(t, "first@example.org", 300*time.Millisecond) // no notice about itself

	addEmail(t, srv, mp, alice, "second@example.org")
	notice := mp.Wait(t, "first@example.org")
	if !strings.Contains(notice.Text, "second@example.org (email) was added") {
		t.Errorf("the first address was told:\n%s", notice.Text)
	}

	status, _, challenge := do(t, "POST", api(srv, "/account/password"), alice.token,
		map[string]any{"new_password": secret + "-2"})
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	status, _, out := do(t, "POST", api(srv, "/account/password"), alice.token,
		with(map[string]any{"new_password": secret + "-2"},
			passwordStage(alice, str(t, challenge, "session"), alice.password)))
	wantStatus(t, status, out, http.StatusOK)
	for _, address := range []string{"first@example.org", "second@example.org"} {
		msg := mp.Wait(t, address)
		if !strings.Contains(msg.Subject, "password was changed") ||
			!strings.Contains(msg.Text, alice.userID) {
			t.Errorf("%s got %q:\n%s", address, msg.Subject, msg.Text)
		}
	}
}

// TestDeactivateRemovesThreePIDs checks that deactivation removes the account's
// addresses, with id_server_unbind_result success since none was bound on an identity
// server: a password reset no longer finds them, login by them fails, and another
// account may take them.
func TestDeactivateRemovesThreePIDs(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")
	addEmail(t, srv, mp, alice, "leaving@example.org")

	status, _, challenge := do(t, "POST", api(srv, "/account/deactivate"), alice.token,
		map[string]any{})
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	status, _, out := do(t, "POST", api(srv, "/account/deactivate"), alice.token,
		passwordStage(alice, str(t, challenge, "session"), alice.password))
	wantStatus(t, status, out, http.StatusOK)
	if out["id_server_unbind_result"] != "success" {
		t.Errorf("id_server_unbind_result %v, want success", out["id_server_unbind_result"])
	}

	status, out = requestToken(t, srv, forPassword, tokenBody("cs", "leaving@example.org", 1))
	wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_NOT_FOUND")
	status, _, out = do(t, "POST", api(srv, "/login"), "", map[string]any{
		"type": "m.login.password", "password": secret, "identifier": map[string]any{
			"type": "m.id.thirdparty", "medium": "email", "address": "leaving@example.org"}})
	wantError(t, status, out, http.StatusForbidden, "M_FORBIDDEN")

	bob := newAccount(t, srv, "bob")
	addEmail(t, srv, mp, bob, "leaving@example.org")
}
