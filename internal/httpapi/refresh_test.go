package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/internal/token"
)

// onEachDatabase runs fn as the parallel subtests "sqlite" and "postgres", giving it the
// option that starts a test server on that database. The postgres subtest is skipped
// when storetest.EnvPostgres is not set.
func onEachDatabase(t *testing.T, fn func(t *testing.T, db testserver.Option)) {
	t.Helper()

	t.Run(storetest.SQLite, func(t *testing.T) {
		t.Parallel()
		fn(t, func(*config.Config) {})
	})
	t.Run(storetest.Postgres, func(t *testing.T) {
		t.Parallel()
		fn(t, testserver.WithDatabase(storetest.PostgresURL(t)))
	})
}

// session is one device's tokens, as a client that supports refresh keeps them.
type session struct {
	access, refresh, deviceID string
}

// refreshingLogin logs in to a with "refresh_token": true (and extra body fields) and
// returns the session, checking that the answer carries both tokens and a lifetime.
func refreshingLogin(t *testing.T, srv *testserver.Server, a account,
	extra map[string]any,
) session {
	t.Helper()

	status, body := login(t, srv, a.userID, a.password,
		with(map[string]any{"refresh_token": true}, extra))
	wantStatus(t, status, body, http.StatusOK)
	wantLifetime(t, body, srv.Config.Tokens.AccessLifetime)
	return session{access: str(t, body, "access_token"), refresh: str(t, body, "refresh_token"),
		deviceID: str(t, body, "device_id")}
}

// postRefresh calls POST /refresh with refreshToken and no access token.
func postRefresh(t *testing.T, srv *testserver.Server, refreshToken string) (
	int, map[string]any,
) {
	t.Helper()

	status, _, body := do(t, "POST", api(srv, "/refresh"), "",
		map[string]any{"refresh_token": refreshToken})
	return status, body
}

// refreshed refreshes s and returns the new session, failing unless it succeeds.
func refreshed(t *testing.T, srv *testserver.Server, s session) session {
	t.Helper()

	status, body := postRefresh(t, srv, s.refresh)
	wantStatus(t, status, body, http.StatusOK)
	wantLifetime(t, body, srv.Config.Tokens.AccessLifetime)
	out := session{access: str(t, body, "access_token"), refresh: str(t, body, "refresh_token"),
		deviceID: s.deviceID}
	if out.access == s.access || out.refresh == s.refresh {
		t.Fatalf("refresh returned the old tokens: %v", body)
	}
	return out
}

// wantLifetime fails the test unless expires_in_ms is the access token lifetime d.
func wantLifetime(t *testing.T, body map[string]any, d time.Duration) {
	t.Helper()

	if got, ok := body["expires_in_ms"].(float64); !ok || int64(got) != d.Milliseconds() {
		t.Errorf("expires_in_ms is %#v, want %d; body %v", body["expires_in_ms"],
			d.Milliseconds(), body)
	}
}

// wantTokenWorks fails the test unless whoami with access answers for deviceID (want
// true) or refuses it with 401 M_UNKNOWN_TOKEN (want false).
func wantTokenWorks(t *testing.T, srv *testserver.Server, what, access, deviceID string,
	want bool,
) {
	t.Helper()

	status, me := whoami(t, srv, access)
	switch {
	case want && (status != http.StatusOK || me["device_id"] != deviceID):
		t.Errorf("%s: whoami %d %v, want 200 for device %s", what, status, me, deviceID)
	case !want && (status != http.StatusUnauthorized || me["errcode"] != "M_UNKNOWN_TOKEN"):
		t.Errorf("%s: whoami %d %v, want 401 M_UNKNOWN_TOKEN", what, status, me)
	}
}

// wantUnknownRefresh fails the test unless refreshing with refreshToken is 401
// M_UNKNOWN_TOKEN with soft_logout as wantSoft says.
func wantUnknownRefresh(t *testing.T, srv *testserver.Server, what, refreshToken string,
	wantSoft bool,
) {
	t.Helper()

	status, body := postRefresh(t, srv, refreshToken)
	wantError(t, status, body, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	if soft, _ := body["soft_logout"].(bool); soft != wantSoft {
		t.Errorf("%s: soft_logout %v, want %v; body %v", what, body["soft_logout"], wantSoft,
			body)
	}
}

// TestRefreshFieldsOnlyWhenAsked checks that login and registration answers carry
// refresh_token and expires_in_ms only for clients that send "refresh_token": true.
func TestRefreshFieldsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")

	status, body := login(t, srv, alice.userID, alice.password, nil)
	wantStatus(t, status, body, http.StatusOK)
	wantAbsent(t, body, "refresh_token", "expires_in_ms")

	status, body = login(t, srv, alice.userID, alice.password,
		map[string]any{"refresh_token": false})
	wantStatus(t, status, body, http.StatusOK)
	wantAbsent(t, body, "refresh_token", "expires_in_ms")

	refreshingLogin(t, srv, alice, nil)

	status, body = register(t, srv, map[string]any{"username": "bob", "password": secret,
		"refresh_token": true})
	wantStatus(t, status, body, http.StatusOK)
	str(t, body, "refresh_token")
	wantLifetime(t, body, srv.Config.Tokens.AccessLifetime)

	status, body = register(t, srv, map[string]any{"username": "carol", "password": secret})
	wantStatus(t, status, body, http.StatusOK)
	wantAbsent(t, body, "refresh_token", "expires_in_ms")

	wantTokenWorks(t, srv, "carol", str(t, body, "access_token"), str(t, body, "device_id"),
		true)
}

// TestRefreshRotates checks that POST /refresh, under v3 and r0 and without an access
// token, gives a new working pair for the same device.
func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")
	s0 := refreshingLogin(t, srv, alice, map[string]any{"device_id": "PHONE"})

	s1 := refreshed(t, srv, s0)
	wantTokenWorks(t, srv, "first refresh", s1.access, "PHONE", true)

	status, _, body := do(t, "POST", srv.URL+"/_matrix/client/r0/refresh", "",
		map[string]any{"refresh_token": s1.refresh})
	wantStatus(t, status, body, http.StatusOK)
	wantTokenWorks(t, srv, "refresh under r0", str(t, body, "access_token"), "PHONE", true)
	wantTokenWorks(t, srv, "the access token before it", s1.access, "PHONE", false)
}

// TestRefreshOldTokenUntilPairUsed checks the retry rule: the old refresh token keeps
// working (each retry replacing the unused pair) until the new access token or the new
// refresh token is first used; after that, it and its access token are refused.
func TestRefreshOldTokenUntilPairUsed(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		use  func(t *testing.T, srv *testserver.Server, s session)
	}{
		{"new access token used", func(t *testing.T, srv *testserver.Server, s session) {
			wantTokenWorks(t, srv, "new access token", s.access, s.deviceID, true)
		}},
		{"new refresh token used", func(t *testing.T, srv *testserver.Server, s session) {
			refreshed(t, srv, s)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onEachDatabase(t, func(t *testing.T, db testserver.Option) {
				testOldTokenUntilPairUsed(t, db, tt.use)
			})
		})
	}
}

// testOldTokenUntilPairUsed is one case of TestRefreshOldTokenUntilPairUsed on one
// database: use is the first use of the new pair.
func testOldTokenUntilPairUsed(t *testing.T, db testserver.Option,
	use func(t *testing.T, srv *testserver.Server, s session),
) {
	srv := testserver.Start(t, testserver.WithOpenRegistration(), db)
	alice := newAccount(t, srv, "alice")
	s0 := refreshingLogin(t, srv, alice, nil)

	lost := refreshed(t, srv, s0) // the client never saw this answer
	s1 := refreshed(t, srv, s0)
	wantTokenWorks(t, srv, "access token of the lost answer", lost.access, s0.deviceID,
		false)
	wantUnknownRefresh(t, srv, "refresh token of the lost answer", lost.refresh, false)
	wantTokenWorks(t, srv, "old access token before the new pair is used", s0.access,
		s0.deviceID, true)

	use(t, srv, s1)

	wantTokenWorks(t, srv, "old access token after the new pair is used", s0.access,
		s0.deviceID, false)
	wantUnknownRefresh(t, srv, "old refresh token after the new pair is used", s0.refresh,
		false)
}

// TestRefreshReuseRevokesDevice checks that an old refresh token presented after its
// successor was used ends every session of its device, and only of that device.
func TestRefreshReuseRevokesDevice(t *testing.T) {
	t.Parallel()
	onEachDatabase(t, testReuseRevokesDevice)
}

// testReuseRevokesDevice is TestRefreshReuseRevokesDevice on one database.
func testReuseRevokesDevice(t *testing.T, db testserver.Option) {
	srv := testserver.Start(t, testserver.WithOpenRegistration(), db)
	alice := newAccount(t, srv, "alice")
	phone := refreshingLogin(t, srv, alice, map[string]any{"device_id": "PHONE"})
	laptop := refreshingLogin(t, srv, alice, map[string]any{"device_id": "LAPTOP"})

	phone1 := refreshed(t, srv, phone)
	wantTokenWorks(t, srv, "refreshed phone", phone1.access, "PHONE", true)

	wantUnknownRefresh(t, srv, "reused refresh token", phone.refresh, false)

	wantTokenWorks(t, srv, "phone after the reuse", phone1.access, "PHONE", false)
	wantUnknownRefresh(t, srv, "phone's current refresh token after the reuse",
		phone1.refresh, false)
	wantTokenWorks(t, srv, "laptop", laptop.access, "LAPTOP", true)
	refreshed(t, srv, laptop)

	// The user can log in to the device again.
	again := refreshingLogin(t, srv, alice, map[string]any{"device_id": "PHONE"})
	wantTokenWorks(t, srv, "phone after logging in again", again.access, "PHONE", true)
}

// TestRefreshExpiredAccessToken checks that an access token of a refreshing client
// expires after tokens.access_lifetime with soft_logout, and that the refresh token,
// which needs no access token, still gives a working one.
func TestRefreshExpiredAccessToken(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.Tokens.AccessLifetime = 300 * time.Millisecond
		}))
	alice := newAccount(t, srv, "alice")
	s0 := refreshingLogin(t, srv, alice, nil)
	plain := loginAs(t, srv, alice)

	var (
		status int
		me     map[string]any
	)
	for deadline := time.Now().Add(10 * time.Second); ; {
		status, me = whoami(t, srv, s0.access)
		if status != http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantError(t, status, me, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	if me["soft_logout"] != true {
		t.Errorf("soft_logout %v for an expired access token, want true; body %v",
			me["soft_logout"], me)
	}

	// The expired access token in the header changes nothing: /refresh ignores it.
	status, _, body := do(t, "POST", api(srv, "/refresh"), s0.access,
		map[string]any{"refresh_token": s0.refresh})
	wantStatus(t, status, body, http.StatusOK)
	wantTokenWorks(t, srv, "access token after the refresh", str(t, body, "access_token"),
		s0.deviceID, true)

	// The access tokens of clients that did not ask for refresh never expire.
	wantTokenWorks(t, srv, "access token without refresh", plain.token, plain.deviceID, true)
}

// TestLogoutExpiredAccessToken ends a session whose access token has expired: /logout
// accepts it, as a client should not have to refresh a session only to end it, and the
// refresh token of the ended session then refreshes nothing. /logout/all refuses it: a
// token leaked long after it expired must not end every session of the user.
func TestLogoutExpiredAccessToken(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.Tokens.AccessLifetime = 200 * time.Millisecond
		}))
	alice := newAccount(t, srv, "alice")
	phone := refreshingLogin(t, srv, alice, map[string]any{"device_id": "PHONE"})
	laptop := refreshingLogin(t, srv, alice, map[string]any{"device_id": "LAPTOP"})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if status, _ := whoami(t, srv, laptop.access); status != http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	status, me := whoami(t, srv, phone.access)
	wantError(t, status, me, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")

	status, _, body := do(t, "POST", api(srv, "/logout"), phone.access, nil)
	wantStatus(t, status, body, http.StatusOK)
	wantUnknownRefresh(t, srv, "refresh token of the logged-out phone", phone.refresh, false)
	wantTokenWorks(t, srv, "the never-expiring session", alice.token, alice.deviceID, true)

	status, _, body = do(t, "POST", api(srv, "/logout/all"), laptop.access, nil)
	wantError(t, status, body, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	wantTokenWorks(t, srv, "a session after a refused logout/all", alice.token,
		alice.deviceID, true)
	status, refreshed := postRefresh(t, srv, laptop.refresh)
	wantStatus(t, status, refreshed, http.StatusOK)

	// Unknown tokens are still refused.
	status, _, body = do(t, "POST", api(srv, "/logout"), phone.access, nil)
	wantError(t, status, body, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
}

// TestRefreshExpiredRefreshToken checks that a refresh token older than
// tokens.refresh_lifetime is refused with soft_logout.
func TestRefreshExpiredRefreshToken(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.Tokens.AccessLifetime = 100 * time.Millisecond
			c.Tokens.RefreshLifetime = 400 * time.Millisecond
		}))
	alice := newAccount(t, srv, "alice")
	s0 := refreshingLogin(t, srv, alice, nil)

	time.Sleep(500 * time.Millisecond)
	wantUnknownRefresh(t, srv, "expired refresh token", s0.refresh, true)
}

// TestRefreshRefused checks the answers to refresh tokens that never worked and to
// malformed bodies.
func TestRefreshRefused(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")

	for name, tok := range map[string]string{
		"garbage":          "not-a-token",
		"unknown":          token.New(token.Refresh),
		"an access token":  alice.token,
		"mistyped":         token.New(token.Refresh)[:20] + "x",
		"empty":            "",
		"login token kind": token.New(token.Login),
	} {
		wantUnknownRefresh(t, srv, name, tok, false)
	}

	for _, tt := range []struct {
		name string
		body any
		code string
	}{
		{"missing refresh_token", map[string]any{}, "M_MISSING_PARAM"},
		{"refresh_token not a string", map[string]any{"refresh_token": 1}, "M_BAD_JSON"},
		{"not an object", rawBody(`[]`), "M_BAD_JSON"},
	} {
		status, _, body := do(t, "POST", api(srv, "/refresh"), "", tt.body)
		if status != http.StatusBadRequest || body["errcode"] != tt.code {
			t.Errorf("%s: %d %v, want 400 %s", tt.name, status, body, tt.code)
		}
	}
}

// TestLogoutRemovesRefreshTokens checks that /logout and /logout/all end refreshing
// sessions for good: their refresh tokens stop working too.
func TestLogoutRemovesRefreshTokens(t *testing.T) {
	t.Parallel()

	for _, path := range []string{"/logout", "/logout/all"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, testserver.WithOpenRegistration())
			alice := newAccount(t, srv, "alice")
			s0 := refreshingLogin(t, srv, alice, nil)
			s1 := refreshed(t, srv, s0) // a pending rotation goes too

			status, _, body := do(t, "POST", api(srv, path), s0.access, nil)
			wantStatus(t, status, body, http.StatusOK)

			wantUnknownRefresh(t, srv, "refresh token after "+path, s0.refresh, false)
			wantUnknownRefresh(t, srv, "refreshed token after "+path, s1.refresh, false)
			wantTokenWorks(t, srv, "refreshed access token after "+path, s1.access,
				s0.deviceID, false)
		})
	}
}
