package httpapi_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestInhibitLoginLeavesNoDevice registers with inhibit_login (and refresh_token, which
// it overrides) and checks that no device came into being: after a password login the
// account lists only the login's device. A misspelt flag is an unknown key, ignored:
// that registration logs in as usual.
func TestInhibitLoginLeavesNoDevice(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	status, body := register(t, srv, map[string]any{"username": "quiet", "password": secret,
		"inhibit_login": true, "refresh_token": true})
	wantStatus(t, status, body, http.StatusOK)
	wantAbsent(t, body, "access_token", "device_id", "refresh_token", "expires_in_ms")

	quiet := loginAs(t, srv, account{userID: str(t, body, "user_id"), password: secret})
	if ids := deviceIDs(t, srv, quiet.token); !slices.Equal(ids, []string{quiet.deviceID}) {
		t.Errorf("devices %v, want only the login's %s", ids, quiet.deviceID)
	}

	status, body = register(t, srv, map[string]any{"username": "misspelt", "password": secret,
		"inhabit_login": true})
	wantStatus(t, status, body, http.StatusOK)
	str(t, body, "access_token")
	str(t, body, "device_id")
}

// TestExpiredRegistrationToken stores a token whose expiry has passed: the validity
// check calls it invalid, and the registration-token stage fails with it (401
// M_FORBIDDEN and the challenge, the stage not completed) and registers no one.
func TestExpiredRegistrationToken(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	now := time.Now().UnixMilli()
	expiry := now - 1000
	tok := &store.RegistrationToken{Token: "expired-token", ExpiryMS: &expiry,
		CreatedMS: now - 5000}
	if err := srv.Store.CreateRegistrationToken(t.Context(), tok); err != nil {
		t.Fatalf("create token: %v", err)
	}

	status, _, body := do(t, "GET", srv.URL+validityPath+"?token=expired-token", "", nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["valid"] != false {
		t.Errorf("valid %v, want false", body["valid"])
	}

	session := startSession(t, srv, map[string]any{"username": "late", "password": secret})
	status, out := tryRegisterWith(t, srv, "late", "expired-token", session)
	wantError(t, status, out, http.StatusUnauthorized, "M_FORBIDDEN")
	if len(stagesOf(t, out)) == 0 {
		t.Errorf("the failed stage's answer has no flows: %v", out)
	}
	if slices.Contains(completed(t, out), stageToken) {
		t.Errorf("completed %v lists the token stage", out["completed"])
	}
	wantAvailable(t, srv, "late")
}

// TestAppServiceNamespaceLeftFree checks, for names an application service claims
// exclusively, that users can neither see them as available nor register them (as
// invalid when they start with '_', else as M_EXCLUSIVE), and that the service then
// registers the very same names.
func TestAppServiceNamespaceLeftFree(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, withBridge(t), testserver.WithOpenRegistration())

	tests := []struct{ name, wantCode string }{
		{name: "_bridge_zed", wantCode: "M_INVALID_USERNAME"},
		{name: "irc_zed", wantCode: "M_EXCLUSIVE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, "GET", api(srv, "/register/available?username="+tt.name),
				"", nil)
			wantError(t, status, body, http.StatusBadRequest, tt.wantCode)
			status, body = register(t, srv, map[string]any{"username": tt.name,
				"password": secret})
			wantError(t, status, body, http.StatusBadRequest, tt.wantCode)

			status, _, body = do(t, "POST", api(srv, "/register"), asToken, map[string]any{
				"type": "m.login.application_service", "username": tt.name,
				"inhibit_login": true})
			wantStatus(t, status, body, http.StatusOK)
			if want := "@" + tt.name + ":" + serverName; body["user_id"] != want {
				t.Errorf("user_id %v, want %s", body["user_id"], want)
			}
		})
	}
}

// TestMixedCaseLoginSessions logs in with case variants of a localpart and of a full
// user ID: each session belongs to the one lower-case account (whoami, and its device
// list shows both new devices), and a wrong password with a variant is 403 M_FORBIDDEN.
func TestMixedCaseLoginSessions(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "casey")

	var devices []string
	for _, name := range []string{"CaSeY", "@CASEY:" + serverName} {
		s := loginAs(t, srv, account{userID: name, password: u.password})
		me := wantWhoami(t, srv, s.token, http.StatusOK, "")
		if me["user_id"] != u.userID {
			t.Errorf("login as %s: whoami %v, want %s", name, me["user_id"], u.userID)
		}
		devices = append(devices, s.deviceID)
	}
	ids := deviceIDs(t, srv, u.token)
	for _, d := range devices {
		if !slices.Contains(ids, d) {
			t.Errorf("devices %v lack %s", ids, d)
		}
	}

	status, body := passwordLogin(t, srv, "CaSeY", "not the password")
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
}

// TestFailedLoginLimitLifts sends wrong passwords until the limit answers 429
// M_LIMIT_EXCEEDED with a Retry-After header in seconds (within the ten attempts a
// client may expect), waits as long as the answer says, and then logs in with the
// right password.
func TestFailedLoginLimitLifts(t *testing.T) {
	t.Parallel()
	srv := limitedServer(t, 3, 3, func(c *config.Config) {
		c.RateLimits.FailedLogin = config.Rate{PerSecond: 1, Burst: 3}
		c.RateLimits.FailedLoginAccount = config.Rate{PerSecond: 1, Burst: 3}
	})
	u := newAccount(t, srv, "guessed")

	var (
		header http.Header
		body   map[string]any
		status int
	)
	for range 10 {
		status, header, body = do(t, "POST", api(srv, "/login"), "", map[string]any{
			"type": "m.login.password", "password": "a wrong guess",
			"identifier": map[string]any{"type": "m.id.user", "user": u.userID}})
		if status != http.StatusForbidden {
			break
		}
	}
	wantError(t, status, body, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	retry := header.Get("Retry-After")
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(retry) {
		t.Fatalf("Retry-After %q, want whole seconds", retry)
	}
	var wait time.Duration
	if ms, ok := body["retry_after_ms"].(float64); ok {
		wait = time.Duration(ms) * time.Millisecond
	} else {
		secs, _ := strconv.Atoi(retry)
		wait = time.Duration(secs) * time.Second
	}

	time.Sleep(wait + 200*time.Millisecond)
	loginAs(t, srv, u)
}

// TestQueryTokenMatchesVersions ties the access_token query parameter to the versions
// the server advertises: up to v1.19 servers must accept it, from v1.20 they must not.
// Whichever versions /versions lists, the server's answer must agree with them.
func TestQueryTokenMatchesVersions(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "query")

	status, _, body := do(t, "GET", srv.URL+"/_matrix/client/versions", "", nil)
	wantStatus(t, status, body, http.StatusOK)
	versions, _ := body["versions"].([]any)
	since120 := false
	for _, v := range versions {
		s, _ := v.(string)
		m := regexp.MustCompile(`^v(\d+)\.(\d+)$`).FindStringSubmatch(s)
		if m == nil {
			continue
		}
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		since120 = since120 || major > 1 || (major == 1 && minor >= 20)
	}

	status, _, me := do(t, "GET", api(srv, "/account/whoami?access_token="+u.token), "", nil)
	if since120 {
		wantError(t, status, me, http.StatusUnauthorized, "M_MISSING_TOKEN")
		return
	}
	wantStatus(t, status, me, http.StatusOK)
	if me["user_id"] != u.userID {
		t.Errorf("whoami %v, want %s", me, u.userID)
	}
}
