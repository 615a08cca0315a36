package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestDeactivatedAccountConfirmsNoPassword deactivates an account and checks that it
// can no longer tell a right password from a wrong one, on /login or in a UIA password
// stage: the hash is gone and every attempt is M_USER_DEACTIVATED.
func TestDeactivatedAccountConfirmsNoPassword(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")

	status, _, out := do(t, "POST", api(srv, "/account/deactivate"), alice.token,
		passwordStage(alice, "", alice.password))
	wantStatus(t, status, out, http.StatusOK)

	acct, err := srv.Store.AccountByLocalpart(t.Context(), "alice")
	if err != nil || acct.PasswordHash != "" {
		t.Errorf("deactivated account %+v, %v; want no password hash", acct, err)
	}
	for _, pw := range []string{alice.password, "a wrong guess"} {
		status, body := passwordLogin(t, srv, alice.userID, pw)
		wantError(t, status, body, http.StatusForbidden, "M_USER_DEACTIVATED")

		status, _, body = do(t, "POST", api(srv, "/account/password"), "",
			with(map[string]any{"new_password": secret + "-new"},
				passwordStage(alice, "", pw)))
		wantError(t, status, body, http.StatusUnauthorized, "M_USER_DEACTIVATED")
	}
}

// TestTokenlessDeactivationAudited deactivates an account without an access token,
// proving it with the password stage, and checks that the audit event names it.
func TestTokenlessDeactivationAudited(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	bob := newAccount(t, srv, "bob")

	status, _, out := do(t, "POST", api(srv, "/account/deactivate"), "",
		passwordStage(bob, "", bob.password))
	wantStatus(t, status, out, http.StatusOK)

	ev := wantAuditEvent(t, srv, "deactivate", bob.userID, "success")
	if ev.Actor != bob.userID {
		t.Errorf("deactivation event %+v; want bob as actor and target", ev)
	}
}

// TestPasswordStageTestsNoOtherAccount sends, with alice's token, password stages that
// name bob: his right password and a wrong one get the same answer, so the stage tells
// a signed-in user nothing about another account's password.
func TestPasswordStageTestsNoOtherAccount(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice, bob := newAccount(t, srv, "alice"), newAccount(t, srv, "bob")

	var answers []any
	for _, pw := range []string{bob.password, "a wrong guess"} {
		status, _, out := do(t, "POST", api(srv, "/delete_devices"), alice.token,
			with(map[string]any{"devices": []string{alice.deviceID}},
				passwordStage(bob, "", pw)))
		wantError(t, status, out, http.StatusUnauthorized, "M_FORBIDDEN")
		answers = append(answers, out["error"])
	}
	if answers[0] != answers[1] {
		t.Errorf("bob's right and wrong passwords answered %q and %q; want the same",
			answers[0], answers[1])
	}
	status, me := whoami(t, srv, alice.token)
	wantStatus(t, status, me, http.StatusOK)
}
