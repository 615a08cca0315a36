package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// newGuest registers a guest on srv and returns its user ID, localpart and access token.
func newGuest(t *testing.T, srv *testserver.Server) (userID, localpart, token string) {
	t.Helper()

	status, _, body := do(t, "POST", api(srv, "/register?kind=guest"), "", map[string]any{})
	wantStatus(t, status, body, http.StatusOK)
	userID, token = str(t, body, "user_id"), str(t, body, "access_token")
	localpart = strings.TrimPrefix(strings.SplitN(userID, ":", 2)[0], "@")
	return userID, localpart, token
}

// TestGuestUpgrade upgrades a guest to a full account through the ordinary registration
// flow with guest_access_token (spec: Guest Access module): it keeps its user ID, gets
// a password and a new session, and its guest token becomes a full user's.
func TestGuestUpgrade(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithGuests())
	guestID, localpart, guestToken := newGuest(t, srv)
	before := countAccounts(t, srv)

	status, body := register(t, srv, map[string]any{"username": localpart,
		"password": secret, "guest_access_token": guestToken})

	wantStatus(t, status, body, http.StatusOK)
	if got := str(t, body, "user_id"); got != guestID {
		t.Errorf("upgrade made %s; want the guest's own %s", got, guestID)
	}
	newToken := str(t, body, "access_token")
	if after := countAccounts(t, srv); after != before {
		t.Errorf("%d accounts after the upgrade, %d before; want no new one", after, before)
	}
	for _, tok := range []string{newToken, guestToken} {
		status, me := whoami(t, srv, tok)
		wantStatus(t, status, me, http.StatusOK)
		if me["user_id"] != guestID || me["is_guest"] == true {
			t.Errorf("whoami %v; want %s as a full user", me, guestID)
		}
	}
	status, out := login(t, srv, guestID, secret, nil)
	wantStatus(t, status, out, http.StatusOK)

	// The token no longer belongs to a guest, so it upgrades nothing a second time.
	status, body = register(t, srv, map[string]any{"username": localpart,
		"password": secret, "guest_access_token": guestToken})
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
}

// TestGuestUpgradeRefused checks the answers, before any UIA stage, to upgrades that
// cannot be: the token must be a live guest's and the username that guest's localpart.
func TestGuestUpgradeRefused(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithGuests())
	_, localpart, guestToken := newGuest(t, srv)
	_, otherLocalpart, _ := newGuest(t, srv)
	user := newAccount(t, srv, "upgrade-user")
	lockedID, lockedLocalpart, lockedToken := newGuest(t, srv)
	locked := true
	err := srv.Store.UpdateAccount(t.Context(), mxid.UserID(lockedID),
		store.AccountUpdate{Locked: &locked})
	if err != nil {
		t.Fatalf("lock guest %s: %v", lockedID, err)
	}

	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"another guest's name", map[string]any{"username": otherLocalpart,
			"guest_access_token": guestToken}, http.StatusForbidden, "M_FORBIDDEN"},
		{"a free name", map[string]any{"username": "someone-new",
			"guest_access_token": guestToken}, http.StatusForbidden, "M_FORBIDDEN"},
		{"a user's token", map[string]any{"username": "upgrade-user",
			"guest_access_token": user.token}, http.StatusForbidden, "M_FORBIDDEN"},
		{"an unknown token", map[string]any{"username": localpart,
			"guest_access_token": "syt_bm90IGEgdG9rZW4_abcdefghijklmnopqrst_0a1b2c"},
			http.StatusForbidden, "M_FORBIDDEN"},
		{"no username", map[string]any{"guest_access_token": guestToken},
			http.StatusBadRequest, "M_MISSING_PARAM"},
		{"a token that is not a string", map[string]any{"username": localpart,
			"guest_access_token": 12}, http.StatusBadRequest, "M_BAD_JSON"},
		{"a locked guest", map[string]any{"username": lockedLocalpart,
			"guest_access_token": lockedToken}, http.StatusUnauthorized, "M_USER_LOCKED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := with(tt.body, map[string]any{"password": secret})
			status, _, out := do(t, "POST", api(srv, "/register"), "", body)
			wantError(t, status, out, tt.status, tt.code)
		})
	}

	// Without a guest token the guest's name stays someone else's.
	status, _, out := do(t, "POST", api(srv, "/register"), "",
		map[string]any{"username": localpart, "password": secret})
	if status != http.StatusBadRequest {
		t.Errorf("registering a guest's name without its token: %d %v; want 400", status, out)
	}
}

// TestGuestUpgradeTokenRevoked starts an upgrade, revokes the guest's token before the
// last stage and checks that the upgrade then fails instead of making an account that
// nobody proved to own, and that the session never stored the token itself.
func TestGuestUpgradeTokenRevoked(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithGuests())
	guestID, localpart, guestToken := newGuest(t, srv)
	reqBody := map[string]any{"username": localpart, "password": secret,
		"guest_access_token": guestToken}

	status, _, first := do(t, "POST", api(srv, "/register"), "", reqBody)
	wantStatus(t, status, first, http.StatusUnauthorized)
	session := str(t, first, "session")
	sess, err := srv.Store.UIASession(t.Context(), session)
	if err != nil {
		t.Fatalf("read UIA session %s: %v", session, err)
	}
	if strings.Contains(string(sess.Params), guestToken) {
		t.Errorf("the UIA session stores the guest's access token: %s", sess.Params)
	}

	status, _, me := do(t, "GET", api(srv, "/account/whoami"), guestToken, nil)
	wantStatus(t, status, me, http.StatusOK)
	err = srv.Store.DeleteDevice(t.Context(), mxid.UserID(guestID),
		mxid.DeviceID(str(t, me, "device_id")))
	if err != nil {
		t.Fatalf("delete the guest's device: %v", err)
	}

	// The later request leaves the token out; the session's digest must still be checked.
	auth := map[string]any{"session": session, "type": stageToken,
		"token": srv.RegistrationToken(t)}
	status, _, out := do(t, "POST", api(srv, "/register"), "",
		map[string]any{"auth": auth})
	wantError(t, status, out, http.StatusForbidden, "M_FORBIDDEN")
}

// TestGuestCapabilities checks that a guest may read the capabilities, as clients do
// when they start, and that they offer it nothing a guest is refused.
func TestGuestCapabilities(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithGuests())
	_, _, guestToken := newGuest(t, srv)

	status, _, body := do(t, "GET", api(srv, "/capabilities"), guestToken, nil)
	wantStatus(t, status, body, http.StatusOK)
	caps, _ := body["capabilities"].(map[string]any)
	for _, name := range []string{"m.change_password", "m.get_login_token",
		"m.3pid_changes"} {
		c, _ := caps[name].(map[string]any)
		if c == nil || c["enabled"] != false {
			t.Errorf("%s for a guest is %v; want enabled false", name, caps[name])
		}
	}
}
