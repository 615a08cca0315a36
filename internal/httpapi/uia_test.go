package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// stagesOf returns the stages of each flow of a UIA challenge.
func stagesOf(t *testing.T, body map[string]any) [][]string {
	t.Helper()

	flows, ok := body["flows"].([]any)
	if !ok {
		t.Fatalf("flows is %#v, want an array; body %v", body["flows"], body)
	}
	var out [][]string
	for _, f := range flows {
		obj, _ := f.(map[string]any)
		raw, ok := obj["stages"].([]any)
		if !ok {
			t.Fatalf("flow %v has no stages array", f)
		}
		var stages []string
		for _, s := range raw {
			name, _ := s.(string)
			stages = append(stages, name)
		}
		out = append(out, stages)
	}
	return out
}

// completed returns the completed stages of a UIA challenge.
func completed(t *testing.T, body map[string]any) []string {
	t.Helper()

	raw, ok := body["completed"].([]any)
	if !ok {
		t.Fatalf("completed is %#v, want an array; body %v", body["completed"], body)
	}
	out := []string{}
	for _, s := range raw {
		name, _ := s.(string)
		out = append(out, name)
	}
	return out
}

// startSession sends body to POST /register without auth and returns the session of the
// 401 challenge.
func startSession(t *testing.T, srv *testserver.Server, body map[string]any) string {
	t.Helper()

	status, _, out := do(t, "POST", api(srv, "/register"), "", body)
	wantStatus(t, status, out, http.StatusUnauthorized)
	return str(t, out, "session")
}

// dummyAuth is the auth dict of the dummy stage in session.
func dummyAuth(session string) map[string]any {
	return map[string]any{"auth": map[string]any{"type": stageDummy, "session": session}}
}

// TestUIAParametersCarryOver checks that parameters sent with an earlier request of a
// session count when a later one leaves them out, whether the client resends them all
// or only auth.
func TestUIAParametersCarryOver(t *testing.T) {
	t.Parallel()

	full := map[string]any{"username": "carried", "password": secret,
		"device_id": "BUG09DEV", "initial_device_display_name": "Bug09 phone"}
	tests := []struct {
		name  string
		first map[string]any
		// last is sent with the dummy stage.
		last map[string]any
	}{
		{name: "only auth at the last stage", first: full},
		{name: "the whole body at every stage", first: full, last: full},
		{name: "the rest added at the last stage",
			first: map[string]any{"username": "carried"},
			last: map[string]any{"password": secret, "device_id": "BUG09DEV",
				"initial_device_display_name": "Bug09 phone"}},
		{name: "the password added at the last stage",
			first: map[string]any{"username": "carried", "device_id": "BUG09DEV",
				"initial_device_display_name": "Bug09 phone"},
			last: map[string]any{"password": secret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, testserver.WithOpenRegistration())
			session := startSession(t, srv, tt.first)

			status, _, body := do(t, "POST", api(srv, "/register"), "",
				with(tt.last, dummyAuth(session)))

			wantStatus(t, status, body, http.StatusOK)
			if body["user_id"] != "@carried:"+serverName || body["device_id"] != "BUG09DEV" {
				t.Errorf("registered %v, want @carried:%s on BUG09DEV", body, serverName)
			}
			token := str(t, body, "access_token")

			status, _, device := do(t, "GET", api(srv, "/devices/BUG09DEV"), token, nil)
			wantStatus(t, status, device, http.StatusOK)
			if device["display_name"] != "Bug09 phone" {
				t.Errorf("display_name %v, want Bug09 phone", device["display_name"])
			}
			loginAs(t, srv, account{userID: "@carried:" + serverName, password: secret})
		})
	}
}

// TestUIAChangedParameters checks that a later request may not change a parameter
// the session already holds: 400 M_INVALID_PARAM, and nothing is registered. The
// session still finishes with the original values.
func TestUIAChangedParameters(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	tests := []struct {
		name   string
		field  string
		first  any
		change any
	}{
		{name: "username", field: "username", first: "first", change: "second"},
		{name: "username case", field: "username", first: "first", change: "First"},
		{name: "password", field: "password", first: secret, change: secret + "x"},
		{name: "device_id", field: "device_id", first: "DEV1", change: "DEV2"},
		{name: "display name", field: "initial_device_display_name", first: "a",
			change: "b"},
		{name: "inhibit_login", field: "inhibit_login", first: false, change: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := map[string]any{"username": "first", "password": secret}
			first[tt.field] = tt.first
			session := startSession(t, srv, first)

			changed := with(first, dummyAuth(session))
			changed[tt.field] = tt.change
			status, _, body := do(t, "POST", api(srv, "/register"), "", changed)

			wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")
			wantAbsent(t, body, "flows", "user_id")
			if n := countAccounts(t, srv); n != 0 {
				t.Fatalf("%d accounts after a refused change, want 0", n)
			}
		})
	}

	t.Run("the session survives a refused change", func(t *testing.T) {
		first := map[string]any{"username": "kept", "password": secret}
		session := startSession(t, srv, first)
		status, _, body := do(t, "POST", api(srv, "/register"), "",
			with(first, with(dummyAuth(session), map[string]any{"username": "other"})))
		wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")

		status, _, body = do(t, "POST", api(srv, "/register"), "", dummyAuth(session))
		wantStatus(t, status, body, http.StatusOK)
		if body["user_id"] != "@kept:"+serverName {
			t.Errorf("user_id %v, want @kept:%s", body["user_id"], serverName)
		}
	})
}

// TestUIAMissingPassword checks that a session whose requests never carried a password
// is refused once its stages are done, and can finish by sending the password with
// nothing but its session ID.
func TestUIAMissingPassword(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	session := startSession(t, srv, map[string]any{"username": "nopass"})

	status, _, body := do(t, "POST", api(srv, "/register"), "", dummyAuth(session))
	wantError(t, status, body, http.StatusBadRequest, "M_MISSING_PARAM")
	if n := countAccounts(t, srv); n != 0 {
		t.Fatalf("%d accounts without a password, want 0", n)
	}

	status, _, body = do(t, "POST", api(srv, "/register"), "", map[string]any{
		"password": secret, "auth": map[string]any{"session": session}})
	wantStatus(t, status, body, http.StatusOK)
	loginAs(t, srv, account{userID: "@nopass:" + serverName, password: secret})
}

// TestUIASessionBoundToOperation checks that a session started for another operation,
// method or path cannot authorise a registration, and that the path does not depend on
// the API version prefix.
func TestUIASessionBoundToOperation(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	now := time.Now().UnixMilli()

	tests := []struct {
		name                    string
		operation, method, path string
	}{
		{name: "password change", operation: "password", method: "POST",
			path: "/account/password"},
		{name: "another path", operation: "register", method: "POST",
			path: "/account/password"},
		{name: "another method", operation: "register", method: "PUT", path: "/register"},
		{name: "another operation", operation: "deactivate", method: "POST",
			path: "/register"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := &store.UIASession{ID: "foreign-" + tt.operation + tt.method,
				Operation: tt.operation, Method: tt.method, Path: tt.path,
				Params: json.RawMessage(`{}`), Completed: []string{stageDummy},
				CreatedMS: now, ExpiresMS: now + time.Hour.Milliseconds()}
			if err := srv.Store.CreateUIASession(t.Context(), sess); err != nil {
				t.Fatalf("create session: %v", err)
			}

			status, _, body := do(t, "POST", api(srv, "/register"), "",
				with(map[string]any{"username": "hijack", "password": secret},
					dummyAuth(sess.ID)))

			wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")
			wantAbsent(t, body, "user_id")
			wantAvailable(t, srv, "hijack")
		})
	}

	t.Run("a password-change session on /register", func(t *testing.T) {
		u := newAccount(t, srv, "changer")
		status, _, out := do(t, "POST", api(srv, "/account/password"), u.token,
			map[string]any{"new_password": secret + "2"})
		wantStatus(t, status, out, http.StatusUnauthorized)

		status, _, out = do(t, "POST", api(srv, "/register"), "", with(map[string]any{
			"username": "hijack", "password": secret}, dummyAuth(str(t, out, "session"))))

		wantError(t, status, out, http.StatusBadRequest, "M_INVALID_PARAM")
		wantAvailable(t, srv, "hijack")
	})

	t.Run("a registration session on /account/password", func(t *testing.T) {
		u := newAccount(t, srv, "victim")
		session := startSession(t, srv, map[string]any{"username": "starter"})

		status, _, out := do(t, "POST", api(srv, "/account/password"), u.token,
			map[string]any{"new_password": secret + "2", "auth": map[string]any{
				"type": "m.login.password", "session": session, "password": u.password,
				"identifier": map[string]any{"type": "m.id.user", "user": u.userID}}})

		wantError(t, status, out, http.StatusBadRequest, "M_INVALID_PARAM")
		loginAs(t, srv, u)
	})

	t.Run("v3 session finished under r0", func(t *testing.T) {
		body := map[string]any{"username": "prefixes", "password": secret}
		session := startSession(t, srv, body)

		status, _, out := do(t, "POST", srv.URL+"/_matrix/client/r0/register", "",
			dummyAuth(session))

		wantStatus(t, status, out, http.StatusOK)
		if out["user_id"] != "@prefixes:"+serverName {
			t.Errorf("user_id %v, want @prefixes:%s", out["user_id"], serverName)
		}
	})
}

// TestUIAUnknownSession checks that a session ID the server does not hold, or holds
// past its expiry, is 400 M_INVALID_PARAM.
func TestUIAUnknownSession(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	now := time.Now().UnixMilli()

	expired := &store.UIASession{ID: "expired", Operation: "register", Method: "POST",
		Path: "/register", Params: json.RawMessage(`{"username":"late"}`),
		CreatedMS: now - 2*time.Hour.Milliseconds(), ExpiresMS: now - 1000}
	if err := srv.Store.CreateUIASession(t.Context(), expired); err != nil {
		t.Fatalf("create session: %v", err)
	}

	tests := []struct {
		name string
		auth map[string]any
	}{
		{name: "never issued", auth: map[string]any{"type": stageDummy, "session": "nosuch"}},
		{name: "never issued, no type", auth: map[string]any{"session": "nosuch"}},
		{name: "expired", auth: map[string]any{"type": stageDummy, "session": "expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, "POST", api(srv, "/register"), "",
				map[string]any{"password": secret, "auth": tt.auth})

			wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")
			wantAbsent(t, body, "flows", "user_id")
		})
	}
	if n := countAccounts(t, srv); n != 0 {
		t.Errorf("%d accounts, want 0", n)
	}
}

// TestUIAStageNotOffered checks that a stage no flow offers next fails as a stage does:
// 401 with M_FORBIDDEN and the challenge, nothing completed.
func TestUIAStageNotOffered(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		opts  []testserver.Option
		stage string
	}{
		{name: "password stage on registration", stage: "m.login.password",
			opts: []testserver.Option{testserver.WithOpenRegistration()}},
		{name: "made-up stage", stage: "m.login.magic",
			opts: []testserver.Option{testserver.WithOpenRegistration()}},
		{name: "dummy where a token is required", stage: stageDummy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, tt.opts...)
			body := map[string]any{"username": "u", "password": secret}
			session := startSession(t, srv, body)

			status, _, out := do(t, "POST", api(srv, "/register"), "", with(body,
				map[string]any{"auth": map[string]any{"type": tt.stage, "session": session}}))

			wantError(t, status, out, http.StatusUnauthorized, "M_FORBIDDEN")
			if out["session"] != session || len(stagesOf(t, out)) == 0 {
				t.Errorf("answer %v lacks the session's challenge", out)
			}
			if got := completed(t, out); len(got) != 0 {
				t.Errorf("completed %v, want none", got)
			}
			if n := countAccounts(t, srv); n != 0 {
				t.Errorf("%d accounts, want 0", n)
			}
		})
	}
}

// TestUIAConsumedSession checks that a session that has registered an account never
// authorises anything again. The spec answers a replayed stage with 401 listing it as
// completed (never with a different error), so that is the answer, with M_FORBIDDEN
// saying that the session is spent, and no second account.
func TestUIAConsumedSession(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	session := startSession(t, srv, map[string]any{"password": secret})
	status, _, body := do(t, "POST", api(srv, "/register"), "", dummyAuth(session))
	wantStatus(t, status, body, http.StatusOK)

	tests := []struct {
		name string
		body map[string]any
	}{
		{name: "the dummy stage again", body: dummyAuth(session)},
		{name: "only the session", body: map[string]any{
			"auth": map[string]any{"session": session}}},
		{name: "a new device", body: with(dummyAuth(session),
			map[string]any{"device_id": "SECOND"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, out := do(t, "POST", api(srv, "/register"), "", tt.body)

			wantError(t, status, out, http.StatusUnauthorized, "M_FORBIDDEN")
			wantAbsent(t, out, "user_id", "access_token")
			if got := completed(t, out); len(got) != 1 || got[0] != "m.login.dummy" {
				t.Errorf("completed %v, want [m.login.dummy]", got)
			}
		})
	}
	if n := countAccounts(t, srv); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
}

// TestUIAConsumedSessionRace sends the last stage of one session several times at once:
// exactly one request registers, and the others are refused.
func TestUIAConsumedSessionRace(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	const racers = 8

	// Without a username every request would make its own account, so only the
	// session stands between them and a second one.
	session := startSession(t, srv, map[string]any{"password": secret})

	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		statuses [racers]int
		bodies   [racers]map[string]any
		errs     [racers]error
	)
	for i := range racers {
		wg.Go(func() {
			<-start
			statuses[i], _, bodies[i], errs[i] = send("POST", api(srv, "/register"), "",
				dummyAuth(session))
		})
	}
	close(start)
	wg.Wait()

	wins := 0
	for i := range racers {
		switch {
		case errs[i] != nil:
			t.Errorf("racer %d: %v", i, errs[i])
		case statuses[i] == http.StatusOK:
			wins++
		case bodies[i]["errcode"] != "M_FORBIDDEN":
			t.Errorf("racer %d: %d %v, want 200 or M_FORBIDDEN", i, statuses[i], bodies[i])
		}
	}
	if wins != 1 {
		t.Errorf("%d racers registered, want 1", wins)
	}
	if n := countAccounts(t, srv); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
}

// createToken stores a registration token allowing uses registrations.
func createToken(t *testing.T, srv *testserver.Server, name string, uses int64) {
	t.Helper()

	tok := &store.RegistrationToken{Token: name, UsesAllowed: &uses,
		CreatedMS: time.Now().UnixMilli()}
	if err := srv.Store.CreateRegistrationToken(t.Context(), tok); err != nil {
		t.Fatalf("create registration token %s: %v", name, err)
	}
}

// tokenState returns the stored counts of a registration token.
func tokenState(t *testing.T, srv *testserver.Server, name string) (pending, done int64) {
	t.Helper()

	tok, err := srv.Store.RegistrationToken(t.Context(), name)
	if err != nil {
		t.Fatalf("read registration token %s: %v", name, err)
	}
	return tok.Pending, tok.Completed
}

// wantValidity fails the test unless the validity check says want for the token.
func wantValidity(t *testing.T, srv *testserver.Server, name string, want bool) {
	t.Helper()

	status, _, body := do(t, "GET", srv.URL+validityPath+"?token="+name, "", nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["valid"] != want {
		t.Errorf("token %s: valid %v, want %v", name, body["valid"], want)
	}
}

// tokenStage is the body of the registration token stage of session, plus extra.
func tokenStage(session, tok string, extra map[string]any) map[string]any {
	return with(extra, map[string]any{"auth": map[string]any{"type": stageToken,
		"token": tok, "session": session}})
}

// TestUIARegistrationTokenLastUse races two sessions for the one use a registration
// token has left, several times over: each time exactly one registers, and the other's
// stage fails with the challenge and the token stage not completed.
func TestUIARegistrationTokenLastUse(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	const rounds = 5

	for round := range rounds {
		name := "lastuse" + string(rune('a'+round))
		createToken(t, srv, name, 1)
		users := [2]string{name + "x", name + "y"}
		var sessions [2]string
		for i, u := range users {
			sessions[i] = startSession(t, srv, map[string]any{"username": u,
				"password": secret})
		}

		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			statuses [2]int
			bodies   [2]map[string]any
			errs     [2]error
		)
		for i := range 2 {
			wg.Go(func() {
				<-start
				statuses[i], _, bodies[i], errs[i] = send("POST", api(srv, "/register"), "",
					tokenStage(sessions[i], name, nil))
			})
		}
		close(start)
		wg.Wait()

		wins := 0
		for i := range 2 {
			switch {
			case errs[i] != nil:
				t.Errorf("%s: racer %d: %v", name, i, errs[i])
			case statuses[i] == http.StatusOK:
				wins++
			case statuses[i] != http.StatusUnauthorized ||
				bodies[i]["errcode"] != "M_FORBIDDEN" ||
				slices.Contains(completed(t, bodies[i]), stageToken):
				t.Errorf("%s: racer %d: %d %v, want 200 or a failed token stage", name, i,
					statuses[i], bodies[i])
			}
		}
		if wins != 1 {
			t.Errorf("%s: %d registrations, want 1", name, wins)
		}
		if pending, done := tokenState(t, srv, name); pending != 0 || done != 1 {
			t.Errorf("%s: %d pending and %d completed uses, want 0 and 1", name, pending,
				done)
		}
		wantValidity(t, srv, name, false)
	}
	if n := countAccounts(t, srv); n != rounds {
		t.Errorf("%d accounts, want %d", n, rounds)
	}
}

// TestUIARegistrationTokenReplay checks that completing the token stage twice in one
// session reserves one use, not two.
func TestUIARegistrationTokenReplay(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	createToken(t, srv, "replayed", 2)

	// No password yet: the stage completes, but the registration waits for one.
	session := startSession(t, srv, map[string]any{"username": "replayer"})
	for range 2 {
		status, _, body := do(t, "POST", api(srv, "/register"), "",
			tokenStage(session, "replayed", nil))
		wantError(t, status, body, http.StatusBadRequest, "M_MISSING_PARAM")
	}
	if pending, done := tokenState(t, srv, "replayed"); pending != 1 || done != 0 {
		t.Fatalf("%d pending and %d completed uses, want 1 and 0", pending, done)
	}

	status, _, body := do(t, "POST", api(srv, "/register"), "",
		tokenStage(session, "replayed", map[string]any{"password": secret}))
	wantStatus(t, status, body, http.StatusOK)
	if pending, done := tokenState(t, srv, "replayed"); pending != 0 || done != 1 {
		t.Errorf("%d pending and %d completed uses, want 0 and 1", pending, done)
	}
	wantValidity(t, srv, "replayed", true)
}

// TestUIAExpiredSessionReleasesToken checks that a session holding the last use of a
// registration token keeps others out until it expires, and that clearing expired
// sessions gives the use back, but never a use a registration has spent.
func TestUIAExpiredSessionReleasesToken(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	ctx := t.Context()
	createToken(t, srv, "held", 1)

	// A completes the token stage but, lacking a password, does not register.
	holder := startSession(t, srv, map[string]any{"username": "holder"})
	status, _, body := do(t, "POST", api(srv, "/register"), "", tokenStage(holder, "held", nil))
	wantError(t, status, body, http.StatusBadRequest, "M_MISSING_PARAM")
	wantValidity(t, srv, "held", false)

	user := map[string]any{"username": "waiter", "password": secret}
	status, _, body = do(t, "POST", api(srv, "/register"), "",
		tokenStage(startSession(t, srv, user), "held", user))
	wantError(t, status, body, http.StatusUnauthorized, "M_FORBIDDEN")

	// Nothing has expired yet, so clearing now must keep the reservation.
	if _, err := srv.Store.DeleteExpiredUIASessions(ctx, time.Now().UnixMilli()); err != nil {
		t.Fatalf("delete expired sessions: %v", err)
	}
	wantValidity(t, srv, "held", false)

	future := time.Now().Add(srv.Config.UIA.SessionLifetime + time.Minute).UnixMilli()
	n, err := srv.Store.DeleteExpiredUIASessions(ctx, future)
	if err != nil || n < 2 {
		t.Fatalf("deleted %d expired sessions (%v), want at least 2", n, err)
	}
	if pending, done := tokenState(t, srv, "held"); pending != 0 || done != 0 {
		t.Errorf("%d pending and %d completed uses, want none", pending, done)
	}
	wantValidity(t, srv, "held", true)

	status, _, body = do(t, "POST", api(srv, "/register"), "", with(user, newTokenSession("held")))
	wantStatus(t, status, body, http.StatusOK)
	wantValidity(t, srv, "held", false)

	// The spent use stays spent when its (consumed) session is cleared in turn.
	later := time.Now().Add(2*srv.Config.UIA.SessionLifetime + time.Minute).UnixMilli()
	if _, err := srv.Store.DeleteExpiredUIASessions(ctx, later); err != nil {
		t.Fatalf("delete expired sessions: %v", err)
	}
	if pending, done := tokenState(t, srv, "held"); pending != 0 || done != 1 {
		t.Errorf("%d pending and %d completed uses, want 0 and 1", pending, done)
	}
	wantValidity(t, srv, "held", false)

	// The expired holder cannot come back to register with the use it lost.
	status, _, body = do(t, "POST", api(srv, "/register"), "",
		map[string]any{"password": secret, "auth": map[string]any{"session": holder}})
	wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")
}

// newTokenSession is the auth of a new session that completes the token stage with tok.
func newTokenSession(tok string) map[string]any {
	return map[string]any{"auth": map[string]any{"type": stageToken, "token": tok}}
}
