package httpapi_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// sharedSecret is the secret of the servers in these tests.
const sharedSecret = "a shared secret for tests"

// registerPath is where shared-secret registration is served.
const registerPath = adminV1 + "/register"

// withSharedSecret turns shared-secret registration on with sharedSecret.
func withSharedSecret() testserver.Option {
	return testserver.WithConfig(func(c *config.Config) { c.Admin.SharedSecret = sharedSecret })
}

// sharedSecretMAC computes the MAC of a registration as register_new_matrix_user does.
func sharedSecretMAC(key, nonce, user, password string, admin bool, userType string) string {
	mac := hmac.New(sha1.New, []byte(key))
	kind := "notadmin"
	if admin {
		kind = "admin"
	}
	parts := []string{nonce, user, password, kind}
	if userType != "" {
		parts = append(parts, userType)
	}
	mac.Write([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(mac.Sum(nil))
}

// nonce fetches a nonce from srv.
func nonce(t *testing.T, srv *testserver.Server) string {
	t.Helper()

	status, _, body := do(t, "GET", srv.URL+registerPath, "", nil)
	wantStatus(t, status, body, http.StatusOK)
	return str(t, body, "nonce")
}

// sharedSecretBody returns a registration body for user with a MAC under key.
func sharedSecretBody(key, n, user string, admin bool) map[string]any {
	return map[string]any{"nonce": n, "username": user, "password": secret, "admin": admin,
		"mac": sharedSecretMAC(key, n, user, secret, admin, "")}
}

func TestSharedSecretRegistration(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, withSharedSecret())

	status, _, body := do(t, "POST", srv.URL+registerPath, "",
		sharedSecretBody(sharedSecret, nonce(t, srv), "Root", true))
	wantStatus(t, status, body, http.StatusOK)
	if body["user_id"] != "@root:"+serverName || body["home_server"] != serverName {
		t.Errorf("answer %v", body)
	}
	str(t, body, "device_id")
	token := str(t, body, "access_token")
	wantWhoami(t, srv, token, http.StatusOK, "")

	// The account is an admin: its token opens the admin API.
	status, _, body = do(t, "GET", srv.URL+adminV2+"/users", token, nil)
	wantStatus(t, status, body, http.StatusOK)
	ev := wantAuditEvent(t, srv, "register", "@root:"+serverName, "success")
	if ev.Actor != "shared_secret" {
		t.Errorf("audit actor %q, want shared_secret", ev.Actor)
	}

	// A user type is part of the MAC; refresh tokens are given on request.
	n := nonce(t, srv)
	status, _, body = do(t, "POST", srv.URL+registerPath, "", map[string]any{
		"nonce": n, "username": "bot", "password": secret, "user_type": "bot",
		"refresh_token": true, "mac": sharedSecretMAC(sharedSecret, n, "bot", secret, false,
			"bot")})
	wantStatus(t, status, body, http.StatusOK)
	str(t, body, "refresh_token")
	acct, err := srv.Store.AccountDetails(t.Context(), "@bot:"+serverName)
	if err != nil || acct.Admin || acct.UserType != "bot" {
		t.Errorf("the bot account: %+v, %v", acct, err)
	}
}

func TestSharedSecretRefusals(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, withSharedSecret())
	post := func(body map[string]any) (int, map[string]any) {
		t.Helper()
		status, _, out := do(t, "POST", srv.URL+registerPath, "", body)
		return status, out
	}

	// A wrong MAC is refused, and spends its nonce.
	n := nonce(t, srv)
	status, body := post(sharedSecretBody("not the secret", n, "mallory", true))
	wantError(t, status, body, http.StatusForbidden, "M_UNKNOWN")
	status, body = post(sharedSecretBody(sharedSecret, n, "mallory", true))
	wantError(t, status, body, http.StatusBadRequest, "M_UNKNOWN")
	if !strings.Contains(body["error"].(string), "nonce") {
		t.Errorf("a spent nonce answered %v", body)
	}
	ev := wantAuditEvent(t, srv, "register", "", "denied")
	if !strings.Contains(string(ev.Details), `"username":"mallory"`) {
		t.Errorf("denied event details %s", ev.Details)
	}

	// A nonce serves once, even for a correct MAC.
	n = nonce(t, srv)
	status, body = post(sharedSecretBody(sharedSecret, n, "carol", false))
	wantStatus(t, status, body, http.StatusOK)
	status, body = post(sharedSecretBody(sharedSecret, n, "dave", false))
	wantError(t, status, body, http.StatusBadRequest, "M_UNKNOWN")

	// The admin flag is part of the MAC.
	n = nonce(t, srv)
	b := sharedSecretBody(sharedSecret, n, "erin", false)
	b["admin"] = true
	status, body = post(b)
	wantError(t, status, body, http.StatusForbidden, "M_UNKNOWN")

	tests := []struct {
		name    string
		edit    func(b map[string]any)
		status  int
		errcode string
	}{
		{"no nonce", func(b map[string]any) { delete(b, "nonce") }, 400, "M_BAD_JSON"},
		{"unknown nonce", func(b map[string]any) { b["nonce"] = "made-up" }, 400,
			"M_UNKNOWN"},
		{"no username", func(b map[string]any) { delete(b, "username") }, 400, "M_BAD_JSON"},
		{"username not a string", func(b map[string]any) { b["username"] = 7 }, 400,
			"M_UNKNOWN"},
		{"no password", func(b map[string]any) { delete(b, "password") }, 400, "M_BAD_JSON"},
		{"no mac", func(b map[string]any) { delete(b, "mac") }, 400, "M_BAD_JSON"},
		{"unknown user type", func(b map[string]any) { b["user_type"] = "robot" }, 400,
			"M_UNKNOWN"},
		{"taken username", func(b map[string]any) {
			b["username"] = "carol"
			b["mac"] = sharedSecretMAC(sharedSecret, b["nonce"].(string), "carol", secret,
				false, "")
		}, 400, "M_USER_IN_USE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sharedSecretBody(sharedSecret, nonce(t, srv), "frank", false)
			tt.edit(b)
			status, body := post(b)
			wantError(t, status, body, tt.status, tt.errcode)
		})
	}
	if _, err := srv.Store.AccountByLocalpart(t.Context(), "frank"); err == nil {
		t.Error("a refused registration created frank")
	}
}

// TestSharedSecretDisabled checks that without a secret neither nonces nor accounts
// are given out.
func TestSharedSecretDisabled(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	status, _, body := do(t, "GET", srv.URL+registerPath, "", nil)
	wantError(t, status, body, http.StatusBadRequest, "M_UNKNOWN")
	status, _, body = do(t, "POST", srv.URL+registerPath, "",
		sharedSecretBody("", "n", "root", true))
	wantError(t, status, body, http.StatusBadRequest, "M_UNKNOWN")
}

// TestSharedSecretFile reads the secret from admin.shared_secret_file.
func TestSharedSecretFile(t *testing.T) {
	t.Parallel()
	file := t.TempDir() + "/secret"
	if err := os.WriteFile(file, []byte(sharedSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Admin.SharedSecretFile = file
	}))

	status, _, body := do(t, "POST", srv.URL+registerPath, "",
		sharedSecretBody(sharedSecret, nonce(t, srv), "root", false))
	wantStatus(t, status, body, http.StatusOK)
}

// TestSharedSecretNonceRateLimit checks that nonces are limited per client address:
// past the burst the GET answers 429 M_LIMIT_EXCEEDED with retry_after_ms and
// Retry-After and stores nothing, while the nonces given out still register.
func TestSharedSecretNonceRateLimit(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, withSharedSecret(), testserver.WithRateLimits(),
		testserver.WithConfig(func(c *config.Config) {
			c.RateLimits.SharedSecretNonce = config.Rate{PerSecond: 0.01, Burst: 2}
		}))

	given := []string{nonce(t, srv), nonce(t, srv)}
	status, header, body := do(t, "GET", srv.URL+registerPath, "", nil)
	wantError(t, status, body, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	if ms, _ := body["retry_after_ms"].(float64); ms <= 0 {
		t.Errorf("retry_after_ms %v, want a positive wait", body["retry_after_ms"])
	}
	if header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After header on the 429")
	}

	status, _, body = do(t, "POST", srv.URL+registerPath, "",
		sharedSecretBody(sharedSecret, given[0], "root", false))
	wantStatus(t, status, body, http.StatusOK)
	// Only the other nonce given out is left: the refused GET stored none.
	forever := time.Now().Add(24 * time.Hour).UnixMilli()
	n, err := srv.Store.DeleteExpiredRegistrationNonces(t.Context(), forever)
	if err != nil || n != 1 {
		t.Errorf("%d nonces stored, %v; want the 1 given out and not yet used", n, err)
	}
}

// TestSharedSecretAcrossInstances takes a nonce from one instance and registers with
// it at another on the same PostgreSQL database, as behind a load balancer.
func TestSharedSecretAcrossInstances(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	a := testserver.Start(t, withSharedSecret(), testserver.WithDatabase(url))
	b := testserver.Start(t, withSharedSecret(), testserver.WithDatabase(url))

	n := nonce(t, a)
	status, _, body := do(t, "POST", b.URL+registerPath, "",
		sharedSecretBody(sharedSecret, n, "root", true))
	wantStatus(t, status, body, http.StatusOK)
	status, _, body = do(t, "POST", a.URL+registerPath, "",
		sharedSecretBody(sharedSecret, n, "root2", true))
	wantError(t, status, body, http.StatusBadRequest, "M_UNKNOWN")
}
