package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestTakenNameBeforeEmailStage registers a name through the email stage on a server
// that requires an address, and checks that a second registration of that name, in
// any case, is refused on its first request with 400 M_USER_IN_USE: the client is
// never sent to validate an address for a name it cannot have.
func TestTakenNameBeforeEmailStage(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration(), requireEmail())
	body := map[string]any{"username": "first", "password": secret}

	sid := validated(t, srv, mp, forRegister, "cs", "first@example.org")
	session := startSession(t, srv, body)
	status, _, out := do(t, "POST", api(srv, "/register"), "",
		with(body, emailStage(session, "threepid_creds", sid, "cs")))
	wantStatus(t, status, out, http.StatusOK)

	for _, name := range []string{"first", "FIRST"} {
		status, _, out = do(t, "POST", api(srv, "/register"), "",
			map[string]any{"username": name, "password": secret})
		wantError(t, status, out, http.StatusBadRequest, "M_USER_IN_USE")
		wantAbsent(t, out, "flows", "session")
	}
}

// TestDeletedAddressIsGone adds an address to alice's account and checks
// /account/3pid/delete end to end: bob's delete of it answers 200 but leaves it with
// alice; alice's own answers 200 with no-support (no identity server knows of it), the
// list no longer has it, and a password reset for it finds no account and mails no
// token.
func TestDeletedAddressIsGone(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice, bob := newAccount(t, srv, "alice"), newAccount(t, srv, "bob")
	const address = "removed@example.org"
	addEmail(t, srv, mp, alice, address)
	target := map[string]any{"medium": "email", "address": address}

	status, _, out := do(t, "POST", api(srv, "/account/3pid/delete"), bob.token, target)
	wantStatus(t, status, out, http.StatusOK)
	if !hasAddress(threePIDs(t, srv, alice), address) {
		t.Fatalf("bob's delete took the address from alice")
	}

	status, _, out = do(t, "POST", api(srv, "/account/3pid/delete"), alice.token, target)
	wantStatus(t, status, out, http.StatusOK)
	if out["id_server_unbind_result"] != "no-support" {
		t.Errorf("id_server_unbind_result %v, want no-support", out["id_server_unbind_result"])
	}
	if hasAddress(threePIDs(t, srv, alice), address) {
		t.Errorf("alice still lists %s", address)
	}
	mp.Wait(t, address) // the notice that the address was removed

	status, out = requestToken(t, srv, forPassword, tokenBody("cs-reset", address, 1))
	wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_NOT_FOUND")
	mp.NoMessage(t, address, 500*time.Millisecond)
}

// TestErasedAccountFreesAddress deactivates, with erase, an account whose address was
// added here and never bound on an identity server: the answer is success, and the
// address may then be used to register and be added by another account.
func TestErasedAccountFreesAddress(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice, bob := newAccount(t, srv, "alice"), newAccount(t, srv, "bob")
	const address = "erased@example.org"
	addEmail(t, srv, mp, alice, address)

	status, out := withPassword(t, srv, alice, "POST", "/account/deactivate", alice.password,
		map[string]any{"erase": true})
	wantStatus(t, status, out, http.StatusOK)
	if out["id_server_unbind_result"] != "success" {
		t.Errorf("id_server_unbind_result %v, want success", out["id_server_unbind_result"])
	}

	mustRequestToken(t, srv, forRegister, tokenBody("cs-reg", address, 1))
	readMail(t, mp, address)
	addEmail(t, srv, mp, bob, address)
	if !hasAddress(threePIDs(t, srv, bob), address) {
		t.Errorf("bob does not list %s", address)
	}
}
