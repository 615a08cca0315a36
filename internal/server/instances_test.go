package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// twoInstances starts two servers on one fresh PostgreSQL database, as a deployment
// behind a load balancer runs them.
func twoInstances(t *testing.T) (a, b *testserver.Server) {
	t.Helper()
	url := storetest.PostgresURL(t)
	a = testserver.Start(t, testserver.WithDatabase(url))
	b = testserver.Start(t, testserver.WithDatabase(url))
	return a, b
}

// call sends a JSON request and decodes the JSON answer.
func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()

	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v", method, url, err)
	}
	return resp.StatusCode, out
}

const registerPath = "/_matrix/client/v3/register"

func TestUIASessionSpansInstances(t *testing.T) {
	a, b := twoInstances(t)
	tok := a.RegistrationToken(t)

	status, body := call(t, "POST", a.URL+registerPath, "", map[string]any{
		"username": "spanner", "password": "a long enough password"})
	if status != http.StatusUnauthorized || body["session"] == nil {
		t.Fatalf("first step on A: %d %v, want a 401 challenge with a session", status, body)
	}

	status, body = call(t, "POST", b.URL+registerPath, "", map[string]any{
		"auth": map[string]any{"type": "m.login.registration_token", "token": tok,
			"session": body["session"]}})
	if status != http.StatusOK || body["user_id"] != "@spanner:localhost" {
		t.Fatalf("second step on B: %d %v, want the account from A's parameters", status, body)
	}

	// The password of the first request, given on A, logs in on B.
	status, _ = call(t, "POST", b.URL+"/_matrix/client/v3/login", "", map[string]any{
		"type": "m.login.password", "user": "spanner", "password": "a long enough password"})
	if status != http.StatusOK {
		t.Errorf("login on B with the password given on A: %d", status)
	}
}

func TestLogoutOnOneInstanceIsSeenByTheOther(t *testing.T) {
	a, b := twoInstances(t)
	access := register(t, a, "leaver")

	if status, _ := call(t, "GET", b.URL+"/_matrix/client/v3/account/whoami", access,
		nil); status != http.StatusOK {
		t.Fatalf("whoami on B before logout: %d", status)
	}
	if status, _ := call(t, "POST", a.URL+"/_matrix/client/v3/logout", access,
		nil); status != http.StatusOK {
		t.Fatalf("logout on A: %d", status)
	}

	status, body := call(t, "GET", b.URL+"/_matrix/client/v3/account/whoami", access, nil)
	if status != http.StatusUnauthorized || body["errcode"] != "M_UNKNOWN_TOKEN" {
		t.Errorf("whoami on B right after logout on A: %d %v, want 401 M_UNKNOWN_TOKEN",
			status, body)
	}
}

func TestSameUsernameOnBothInstances(t *testing.T) {
	a, b := twoInstances(t)
	tok := a.RegistrationToken(t)

	for round := range 5 {
		name := fmt.Sprintf("contested%d", round)
		statuses := race(t, []*testserver.Server{a, b, a, b}, func(s *testserver.Server) int {
			return post(s.URL+registerPath, map[string]any{
				"username": name, "password": "a long enough password",
				"auth": map[string]any{"type": "m.login.registration_token", "token": tok}})
		})
		if statuses[http.StatusOK] != 1 || statuses[http.StatusBadRequest] != 3 {
			t.Errorf("round %d: statuses %v, want one 200 and three 400 M_USER_IN_USE",
				round, statuses)
		}
	}
}

func TestLastTokenUseRacedOnBothInstances(t *testing.T) {
	a, b := twoInstances(t)

	for round := range 5 {
		one := int64(1)
		tok := fmt.Sprintf("lastuse%d", round)
		err := a.Store.CreateRegistrationToken(context.Background(), &store.RegistrationToken{
			Token: tok, UsesAllowed: &one, CreatedMS: time.Now().UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}

		i := 0
		var mu sync.Mutex
		statuses := race(t, []*testserver.Server{a, b, a, b}, func(s *testserver.Server) int {
			mu.Lock()
			i++
			name := fmt.Sprintf("racer%d-%d", round, i)
			mu.Unlock()
			return post(s.URL+registerPath, map[string]any{
				"username": name, "password": "a long enough password",
				"auth": map[string]any{"type": "m.login.registration_token", "token": tok}})
		})
		if statuses[http.StatusOK] != 1 || statuses[http.StatusUnauthorized] != 3 {
			t.Errorf("round %d: statuses %v, want one 200 and three 401 (failed stage)",
				round, statuses)
		}

		got, err := b.Store.RegistrationToken(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if got.Completed != 1 || got.Pending != 0 {
			t.Errorf("round %d: token has completed=%d pending=%d, want 1 and 0", round,
				got.Completed, got.Pending)
		}
	}
}

// post sends a JSON POST from any goroutine and returns the status, or 0 when the
// request failed.
func post(url string, body any) int {
	data, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// race runs fn once per server at the same moment and counts the statuses.
func race(
	t *testing.T, servers []*testserver.Server, fn func(s *testserver.Server) int,
) map[int]int {
	t.Helper()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		start    = make(chan struct{})
		statuses = map[int]int{}
	)
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status := fn(s)
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

// register makes an account on s and returns its access token.
func register(t *testing.T, s *testserver.Server, name string) string {
	t.Helper()
	status, body := call(t, "POST", s.URL+registerPath, "", map[string]any{
		"username": name, "password": "a long enough password",
		"auth": map[string]any{"type": "m.login.registration_token",
			"token": s.RegistrationToken(t)}})
	if status != http.StatusOK {
		t.Fatalf("register %s: %d %v", name, status, body)
	}
	return body["access_token"].(string)
}

// twoLimitedInstances is twoInstances with a per-account password limit of a burst of
// 4 that does not refill during a test, and a per-address one that never gets in its
// way.
func twoLimitedInstances(t *testing.T) (a, b *testserver.Server) {
	t.Helper()
	url := storetest.PostgresURL(t)
	limits := testserver.WithConfig(func(c *config.Config) {
		c.RateLimits.Enabled = true
		c.RateLimits.FailedLogin = config.Rate{PerSecond: 1, Burst: 1000}
		c.RateLimits.FailedLoginAccount = config.Rate{PerSecond: 0.001, Burst: 4}
	})
	a = testserver.Start(t, testserver.WithDatabase(url), limits)
	b = testserver.Start(t, testserver.WithDatabase(url), limits)
	return a, b
}

// TestFailedPasswordLimitSpansInstances guesses one account's password on two instances:
// the per-account limit counts the guesses of both, so a second instance allows no more,
// and it answers alike for an account that does not exist.
func TestFailedPasswordLimitSpansInstances(t *testing.T) {
	a, b := twoLimitedInstances(t)
	const pw = "a long enough password"
	for _, name := range []string{"guessed", "bystander"} {
		status, body := call(t, "POST", a.URL+registerPath, "", map[string]any{
			"username": name, "password": pw, "auth": map[string]any{
				"type": "m.login.registration_token", "token": a.RegistrationToken(t)}})
		if status != http.StatusOK {
			t.Fatalf("register %s: %d %v", name, status, body)
		}
	}
	login := func(srv *testserver.Server, user, password string) (int, map[string]any) {
		t.Helper()
		return call(t, "POST", srv.URL+"/_matrix/client/v3/login", "", map[string]any{
			"type": "m.login.password", "user": user, "password": password})
	}

	for _, user := range []string{"guessed", "nobody-here"} {
		for i, srv := range []*testserver.Server{a, b, a, b} {
			if status, body := login(srv, user, "wrong guess"); status != http.StatusForbidden {
				t.Fatalf("guess %d at %s: %d %v; want 403", i+1, user, status, body)
			}
		}
		for name, srv := range map[string]*testserver.Server{"A": a, "B": b} {
			status, body := login(srv, user, pw)
			if status != http.StatusTooManyRequests || body["errcode"] != "M_LIMIT_EXCEEDED" ||
				body["retry_after_ms"] == nil {
				t.Errorf("login as %s on %s after 4 guesses: %d %v; want 429 "+
					"M_LIMIT_EXCEEDED with retry_after_ms", user, name, status, body)
			}
		}
	}

	// The password stage of UIA counts against the same bucket.
	status, body := call(t, "POST", b.URL+"/_matrix/client/v3/account/deactivate", "",
		map[string]any{"auth": map[string]any{"type": "m.login.password",
			"identifier": map[string]any{"type": "m.id.user", "user": "guessed"},
			"password":   pw}})
	if status != http.StatusTooManyRequests {
		t.Errorf("deactivate with the password stage: %d %v; want 429", status, body)
	}

	// Other accounts are not held up.
	if status, body := login(b, "bystander", pw); status != http.StatusOK {
		t.Errorf("login as bystander: %d %v; want 200", status, body)
	}
}

// TestFailedPasswordLimitHoldsUnderRaces sends many wrong passwords for one account at
// once to two instances: no more get checked than the burst allows, the rest are 429.
func TestFailedPasswordLimitHoldsUnderRaces(t *testing.T) {
	a, b := twoLimitedInstances(t)

	const racers = 20
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	for i := range racers {
		srv := []*testserver.Server{a, b}[i%2]
		wg.Go(func() {
			statuses[i], _ = call(t, "POST", srv.URL+"/_matrix/client/v3/login", "",
				map[string]any{"type": "m.login.password", "user": "raced",
					"password": "wrong guess"})
		})
	}
	wg.Wait()

	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusForbidden] != 4 || counts[http.StatusTooManyRequests] != racers-4 {
		t.Errorf("answers by status %v; want 4 × 403 and %d × 429", counts, racers-4)
	}
}
