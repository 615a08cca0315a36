package httpapi_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// limitedServer starts an open server with rate limits on and the per-address and
// per-account failure bursts given, which refill too slowly to matter in a test.
func limitedServer(t *testing.T, addressBurst, accountBurst int,
	more ...func(*config.Config),
) *testserver.Server {
	t.Helper()
	return testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.RateLimits.Enabled = true
			c.RateLimits.FailedLogin = config.Rate{PerSecond: 0.001, Burst: addressBurst}
			c.RateLimits.FailedLoginAccount = config.Rate{PerSecond: 0.001,
				Burst: accountBurst}
			for _, m := range more {
				m(c)
			}
		}))
}

// TestUIASessionStartsLimited starts UIA sessions from one address until the limit
// answers 429, on /register and on an authenticated endpoint alike, and checks that a
// request that goes on with a session it has is not held up.
func TestUIASessionStartsLimited(t *testing.T) {
	t.Parallel()
	srv := limitedServer(t, 1000, 1000, func(c *config.Config) {
		c.RateLimits.UIASessions = config.Rate{PerSecond: 0.001, Burst: 4}
	})
	alice := newAccount(t, srv, "alice") // its registration starts the first session

	first := startSession(t, srv, map[string]any{"username": "bob"})
	startSession(t, srv, map[string]any{"username": "carol"})
	status, _, out := do(t, "POST", api(srv, "/account/password"), alice.token,
		map[string]any{"new_password": secret + "-new"})
	wantStatus(t, status, out, http.StatusUnauthorized)

	for _, start := range []struct{ path, token string }{
		{"/register", ""}, {"/account/password", alice.token},
		{"/delete_devices", alice.token},
	} {
		status, header, out := do(t, "POST", api(srv, start.path), start.token,
			map[string]any{"new_password": secret + "-new", "devices": []string{}})
		wantError(t, status, out, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
		if out["retry_after_ms"] == nil || header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without retry_after_ms and Retry-After: %v", start.path, out)
		}
	}

	status, _, out = do(t, "POST", api(srv, "/register"), "",
		with(map[string]any{"username": "bob", "password": secret}, dummyAuth(first)))
	wantStatus(t, status, out, http.StatusOK)
}

// TestFailedStagesLimitedUnderRaces sends wrong passwords in UIA password stages from
// one address at once: no more are tried than the address's burst, the rest are 429.
func TestFailedStagesLimitedUnderRaces(t *testing.T) {
	t.Parallel()
	srv := limitedServer(t, 3, 1000)
	alice := newAccount(t, srv, "alice")

	const racers = 12
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			statuses[i], _, _, _ = send("POST", api(srv, "/account/deactivate"), "",
				passwordStage(alice, "", "a wrong guess"))
		})
	}
	wg.Wait()

	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusUnauthorized] != 3 || counts[http.StatusTooManyRequests] != racers-3 {
		t.Errorf("answers by status %v; want 3 × 401 and %d × 429", counts, racers-3)
	}
	status, me := whoami(t, srv, alice.token)
	wantStatus(t, status, me, http.StatusOK)
}

// TestRightPasswordsCostNothing logs in with the right password more often than the
// address's failure burst, then with wrong ones: only the wrong ones count.
func TestRightPasswordsCostNothing(t *testing.T) {
	t.Parallel()
	srv := limitedServer(t, 2, 2)
	alice := newAccount(t, srv, "alice")

	for i := range 5 {
		status, out := login(t, srv, alice.userID, alice.password, nil)
		if status != http.StatusOK {
			t.Fatalf("login %d with the right password: %d %v", i+1, status, out)
		}
	}
	for _, want := range []int{http.StatusForbidden, http.StatusForbidden,
		http.StatusTooManyRequests} {
		if status, out := login(t, srv, alice.userID, "a wrong guess", nil); status != want {
			t.Errorf("login with a wrong password: %d %v; want %d", status, out, want)
		}
	}
}
