package httpapi_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestPasswordChangeEndsRacingLogins logs in with the old password many times while
// the password changes: no session made with the old password may survive the change,
// whichever committed first.
func TestPasswordChangeEndsRacingLogins(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			var opts []testserver.Option
			if db == "postgres" {
				opts = append(opts, testserver.WithDatabase(storetest.PostgresURL(t)))
			}
			srv := testserver.Start(t, append(opts, testserver.WithOpenRegistration())...)
			owner := registerDummy(t, srv, "racer")

			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				tokens []string
			)
			for range 12 {
				wg.Go(func() {
					status, _, body, err := send("POST", api(srv, "/login"), "",
						map[string]any{"type": "m.login.password", "user": "racer",
							"password": secret})
					if err == nil && status == http.StatusOK {
						mu.Lock()
						tokens = append(tokens, body["access_token"].(string))
						mu.Unlock()
					}
				})
			}
			status, _, body := do(t, "POST", api(srv, "/account/password"), owner,
				map[string]any{"new_password": secret + " changed",
					"auth": map[string]any{"type": "m.login.password", "user": "racer",
						"password": secret}})
			wantStatus(t, status, body, http.StatusOK)
			wg.Wait()

			for i, tok := range tokens {
				status, _, body := do(t, "GET", api(srv, "/account/whoami"), tok, nil)
				if status != http.StatusUnauthorized {
					t.Errorf("login %d with the old password survived: %d %v", i, status,
						body)
				}
			}
			if status, _, _ := do(t, "GET", api(srv, "/account/whoami"), owner,
				nil); status != http.StatusOK {
				t.Errorf("the session that changed the password was logged out: %d", status)
			}
		})
	}
}

func registerDummy(t *testing.T, srv *testserver.Server, name string) string {
	t.Helper()
	status, _, body := do(t, "POST", api(srv, "/register"), "", map[string]any{
		"username": name, "password": secret, "auth": map[string]any{"type": "m.login.dummy"}})
	wantStatus(t, status, body, http.StatusOK)
	return str(t, body, "access_token")
}

// TestFailedRegistrationReleasesTokenUse races registrations of one name with a token of
// as many uses as racers: the losers' reservations come back at once, so the token
// still registers the others under new names.
func TestFailedRegistrationReleasesTokenUse(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	admin, _ := regTokenAdmins(t, srv)
	status, _, body := do(t, "POST", srv.URL+tokensAdmin+"/new", admin,
		map[string]any{"token": "six", "uses_allowed": 6})
	wantStatus(t, status, body, http.StatusOK)

	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			_, _, _, _ = send("POST", api(srv, "/register"), "", map[string]any{
				"username": "same", "password": secret,
				"auth": map[string]any{"type": "m.login.registration_token", "token": "six"}})
		})
	}
	wg.Wait()

	status, _, body = do(t, "GET", srv.URL+tokensAdmin+"/six", admin, nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["pending"] != float64(0) || body["completed"] != float64(1) {
		t.Errorf("after the race: %v, want pending 0 and completed 1", body)
	}
}
