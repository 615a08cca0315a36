package httpapi_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/identity/identitytest"
	"github.com/mxaccounts/mxaccounts/internal/signing"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// boundAddress is the address the identity tests bind.
const boundAddress = "alice@example.org"

// identityEnv starts a test server that may reach identity servers over plain http on
// loopback, and a fake identity server that checks unbind signatures against the keys
// the test server publishes at /_matrix/key/v2/server.
func identityEnv(t *testing.T) (*testserver.Server, *identitytest.Server) {
	t.Helper()

	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.Identity.AllowInsecureLoopback = true
		}))
	is := identitytest.New(t, identitytest.Options{Homeserver: srv.Config.ServerName,
		KeyURL: srv.URL + "/_matrix/key/v2/server"})
	return srv, is
}

// bindBody is the body of POST /account/3pid/bind for the fake's session sid.
func bindBody(is *identitytest.Server, sid string) map[string]any {
	return map[string]any{"client_secret": "is-cs", "sid": sid, "id_server": is.Name(),
		"id_access_token": identitytest.DefaultAccessToken}
}

// bind binds boundAddress to a through the fake and checks that it is bound and
// recorded.
func bind(t *testing.T, srv *testserver.Server, is *identitytest.Server, a account) {
	t.Helper()

	is.AddSession(identitytest.Session{SID: "is-sid", ClientSecret: "is-cs",
		Medium: "email", Address: boundAddress, Validated: true})
	status, _, out := do(t, "POST", api(srv, "/account/3pid/bind"), a.token,
		bindBody(is, "is-sid"))
	wantStatus(t, status, out, http.StatusOK)
	if user, ok := is.Binding("email", boundAddress); !ok || string(user) != a.userID {
		t.Fatalf("the identity server binds %s to %q, want %s", boundAddress, user, a.userID)
	}
	if got := bindings(t, srv, a); len(got) != 1 || got[0].IDServer != is.Name() {
		t.Fatalf("recorded bindings %+v, want one on %s", got, is.Name())
	}
}

// bindings returns the bindings recorded for a.
func bindings(t *testing.T, srv *testserver.Server, a account) []store.ThreePIDBinding {
	t.Helper()

	got, err := srv.Store.ThreePIDBindingsOf(t.Context(), mxid.UserID(a.userID))
	if err != nil {
		t.Fatalf("ThreePIDBindingsOf: %v", err)
	}
	return got
}

// wantUnbindResult fails the test unless the answer is 200 with result.
func wantUnbindResult(t *testing.T, status int, out map[string]any, result string) {
	t.Helper()

	wantStatus(t, status, out, http.StatusOK)
	if out["id_server_unbind_result"] != result {
		t.Errorf("id_server_unbind_result %v, want %s", out["id_server_unbind_result"],
			result)
	}
}

// TestServerKeys checks GET /_matrix/key/v2/server: a key document for the server
// name, signed by the key that was generated into the data directory on first start.
func TestServerKeys(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	resp, err := http.Get(srv.URL + "/_matrix/key/v2/server")
	if err != nil {
		t.Fatalf("GET /_matrix/key/v2/server: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_matrix/key/v2/server: %d, %v", resp.StatusCode, err)
	}
	keys, err := signing.VerifyServerKeys(body, srv.Config.ServerName, time.Now())
	if err != nil {
		t.Fatalf("the key document does not verify: %v\n%s", err, body)
	}

	path := filepath.Join(srv.Config.DataDir, signing.DefaultKeyFileName)
	key, err := signing.LoadKey(path)
	if err != nil {
		t.Fatalf("the generated key file: %v", err)
	}
	if pub, ok := keys[key.ID]; !ok || !pub.Equal(key.Public()) {
		t.Errorf("the document publishes %v, want the data directory's key %s", keys, key.ID)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the key file: %v, %v; want mode 0600", fi, err)
	}
}

// TestBindAndUnbind checks POST /account/3pid/bind and /account/3pid/unbind: the bind
// reaches the identity server with the user's identity access token and is recorded;
// the unbind, signed by the server and checked against its published key, removes the
// binding there and the record here, and answers success; a second unbind knows no
// identity server and answers no-support; /account/3pid/delete unbinds as well.
func TestBindAndUnbind(t *testing.T) {
	t.Parallel()
	srv, is := identityEnv(t)
	alice := newAccount(t, srv, "alice")
	bind(t, srv, is, alice)

	status, _, out := do(t, "POST", api(srv, "/account/3pid/unbind"), alice.token,
		map[string]any{"medium": "email", "address": "Alice@Example.org"})
	wantUnbindResult(t, status, out, "success")
	if _, ok := is.Binding("email", boundAddress); ok {
		t.Error("the identity server still has the binding")
	}
	if got := bindings(t, srv, alice); len(got) != 0 {
		t.Errorf("recorded bindings after the unbind: %+v", got)
	}

	// Nothing is known to unbind any more: the spec's no-support.
	status, _, out = do(t, "POST", api(srv, "/account/3pid/unbind"), alice.token,
		map[string]any{"medium": "email", "address": boundAddress})
	wantUnbindResult(t, status, out, "no-support")

	// Delete unbinds the recorded binding too.
	bind(t, srv, is, alice)
	status, _, out = do(t, "POST", api(srv, "/account/3pid/delete"), alice.token,
		map[string]any{"medium": "email", "address": boundAddress})
	wantUnbindResult(t, status, out, "success")
	if _, ok := is.Binding("email", boundAddress); ok {
		t.Error("the identity server still has the binding after the delete")
	}
}

// TestBindErrorsForwarded checks that the identity server's refusals of a bind reach
// the client with their status and errcode, and that nothing is recorded.
func TestBindErrorsForwarded(t *testing.T) {
	t.Parallel()
	srv, is := identityEnv(t)
	alice := newAccount(t, srv, "alice")
	is.AddSession(identitytest.Session{SID: "unvalidated", ClientSecret: "is-cs",
		Medium: "email", Address: boundAddress})

	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"wrong identity token", with(bindBody(is, "unvalidated"),
			map[string]any{"id_access_token": "wrong"}), http.StatusUnauthorized,
			"M_UNAUTHORIZED"},
		{"unknown session", bindBody(is, "unknown"), http.StatusNotFound,
			"M_NO_VALID_SESSION"},
		{"unvalidated session", bindBody(is, "unvalidated"), http.StatusBadRequest,
			"M_SESSION_NOT_VALIDATED"},
		{"no id_server", map[string]any{"client_secret": "is-cs", "sid": "s",
			"id_access_token": "t"}, http.StatusBadRequest, "M_MISSING_PARAM"},
		{"identity server down", with(bindBody(is, "unvalidated"),
			map[string]any{"id_server": closedPort(t)}), http.StatusBadRequest,
			"M_INVALID_PARAM"},
	}
	for _, tt := range tests {
		status, _, out := do(t, "POST", api(srv, "/account/3pid/bind"), alice.token, tt.body)
		if status != tt.status || out["errcode"] != tt.code {
			t.Errorf("%s: %d %v, want %d %s", tt.name, status, out, tt.status, tt.code)
		}
	}
	if got := bindings(t, srv, alice); len(got) != 0 {
		t.Errorf("refused binds were recorded: %+v", got)
	}
}

// closedPort returns a loopback host:port where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDeactivateUnbinds checks that deactivating an account with a bound address
// unbinds it on the identity server and answers success.
func TestDeactivateUnbinds(t *testing.T) {
	t.Parallel()
	srv, is := identityEnv(t)
	alice := newAccount(t, srv, "alice")
	bind(t, srv, is, alice)

	status, out := withPassword(t, srv, alice, "POST", "/account/deactivate",
		alice.password, map[string]any{})
	wantUnbindResult(t, status, out, "success")
	if _, ok := is.Binding("email", boundAddress); ok {
		t.Error("the identity server still binds the deactivated account's address")
	}
	if got := bindings(t, srv, alice); len(got) != 0 {
		t.Errorf("recorded bindings after the deactivation: %+v", got)
	}
}

// TestAdminDeactivateUnbinds checks that an admin's deactivation unbinds as the user's
// own does.
func TestAdminDeactivateUnbinds(t *testing.T) {
	t.Parallel()
	srv, is := identityEnv(t)
	alice := newAccount(t, srv, "alice")
	bind(t, srv, is, alice)
	admin, _ := regTokenAdmins(t, srv)

	status, _, out := do(t, "POST", srv.URL+"/_synapse/admin/v1/deactivate/"+
		url.PathEscape(alice.userID), admin, map[string]any{})
	wantUnbindResult(t, status, out, "success")
	if _, ok := is.Binding("email", boundAddress); ok {
		t.Error("the identity server still binds the address after an admin deactivation")
	}
}

// TestUnbindNoSupport checks an identity server that cannot unbind (404 without a
// Matrix error): /account/3pid/unbind, /account/3pid/delete and deactivation answer
// 200 with no-support, and the binding stays recorded for a later attempt.
func TestUnbindNoSupport(t *testing.T) {
	t.Parallel()
	srv, is := identityEnv(t)
	alice := newAccount(t, srv, "alice")
	bind(t, srv, is, alice)
	is.AnswerUnbind(http.StatusNotFound, "text/plain", "404 page not found")

	body := map[string]any{"medium": "email", "address": boundAddress}
	status, _, out := do(t, "POST", api(srv, "/account/3pid/unbind"), alice.token, body)
	wantUnbindResult(t, status, out, "no-support")
	status, _, out = do(t, "POST", api(srv, "/account/3pid/delete"), alice.token,
		with(body, map[string]any{"id_server": is.Name()}))
	wantUnbindResult(t, status, out, "no-support")
	status, out = withPassword(t, srv, alice, "POST", "/account/deactivate",
		alice.password, map[string]any{})
	wantUnbindResult(t, status, out, "no-support")

	if n := is.UnbindCount(); n != 3 {
		t.Errorf("the identity server was asked %d times, want 3", n)
	}
	if got := bindings(t, srv, alice); len(got) != 1 {
		t.Errorf("recorded bindings %+v, want the one that could not be unbound", got)
	}
}

// setEmails has admin replace a's 3PIDs with these email addresses through
// PUT /_synapse/admin/v2/users/{userId}, and returns the details of the request's
// audit event.
func setEmails(t *testing.T, srv *testserver.Server, admin, a account, emails ...string,
) map[string]any {
	t.Helper()

	pids := []map[string]any{}
	for _, e := range emails {
		pids = append(pids, map[string]any{"medium": "email", "address": e})
	}
	status, _, out := do(t, "PUT", srv.URL+userPath(a.userID), admin.token,
		map[string]any{"threepids": pids})
	wantStatus(t, status, out, http.StatusOK)
	if got, _ := out["threepids"].([]any); len(got) != len(emails) {
		t.Fatalf("threepids %v after setting %q", out["threepids"], emails)
	}
	return auditDetails(t, srv, a)
}

// auditDetails returns the details of the latest successful admin.user.modify event
// of a.
func auditDetails(t *testing.T, srv *testserver.Server, a account) map[string]any {
	t.Helper()

	ev := wantAuditEvent(t, srv, "admin.user.modify", a.userID, "success")
	var details map[string]any
	if err := json.Unmarshal(ev.Details, &details); err != nil {
		t.Fatalf("audit details %s: %v", ev.Details, err)
	}
	return details
}

// TestAdminPutThreePIDsUnbinds checks that an admin's PUT that takes bound addresses
// off an account unbinds them: the fake identity server, which accepts only unbinds
// signed by the server's published key, drops the binding it was asked about and only
// that one, the record goes, and the audit event says success. An address kept on the
// account stays bound, and a removed address that was never bound asks nothing.
func TestAdminPutThreePIDsUnbinds(t *testing.T) {
	t.Parallel()
	srv, is := identityEnv(t)
	alice := newAccount(t, srv, "alice")
	admin := createUser(t, srv, "boss", true)
	const kept, unbound = "kept@example.org", "unbound@example.org"

	setEmails(t, srv, admin, alice, boundAddress, kept, unbound)
	bind(t, srv, is, alice)
	// kept is bound too, as a bind through this server would have left it.
	is.SetBinding("email", kept, mxid.UserID(alice.userID))
	err := srv.Store.AddThreePIDBinding(t.Context(), &store.ThreePIDBinding{
		UserID: mxid.UserID(alice.userID), Medium: "email", Address: kept,
		IDServer: is.Name(), BoundMS: time.Now().UnixMilli()})
	if err != nil {
		t.Fatalf("record the binding of %s: %v", kept, err)
	}

	details := setEmails(t, srv, admin, alice, kept)
	if details["id_server_unbind_result"] != "success" {
		t.Errorf("audit details %v, want id_server_unbind_result success", details)
	}
	if _, ok := is.Binding("email", boundAddress); ok {
		t.Error("the identity server still binds the removed address")
	}
	if n := is.UnbindCount(); n != 1 {
		t.Errorf("the identity server was asked %d times, want once", n)
	}
	if _, ok := is.Binding("email", kept); !ok {
		t.Error("the identity server no longer binds the address the account kept")
	}
	if got := bindings(t, srv, alice); len(got) != 1 || got[0].Address != kept {
		t.Errorf("recorded bindings %+v, want only the one of %s", got, kept)
	}

	// A PUT that removes nothing unbinds nothing and says nothing of it.
	details = setEmails(t, srv, admin, alice, kept)
	if _, ok := details["id_server_unbind_result"]; ok || is.UnbindCount() != 1 {
		t.Errorf("audit details %v and %d unbinds after a PUT that removed nothing",
			details, is.UnbindCount())
	}
}

// TestAdminPutThreePIDsUnbindFails checks that an identity server that does not
// unbind a removed address fails nothing: the PUT answers 200 without the address, the
// audit event says no-support, and the binding stays recorded for a later attempt.
func TestAdminPutThreePIDsUnbindFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		status            int
		contentType, body string
	}{
		{"no unbind support", http.StatusNotFound, "text/plain", "404 page not found"},
		{"Matrix error", http.StatusInternalServerError, "application/json",
			`{"errcode":"M_UNKNOWN","error":"the database is down"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, is := identityEnv(t)
			alice := newAccount(t, srv, "alice")
			admin := createUser(t, srv, "boss", true)
			setEmails(t, srv, admin, alice, boundAddress)
			bind(t, srv, is, alice)
			is.AnswerUnbind(tt.status, tt.contentType, tt.body)

			details := setEmails(t, srv, admin, alice)
			if details["id_server_unbind_result"] != "no-support" {
				t.Errorf("audit details %v, want id_server_unbind_result no-support",
					details)
			}
			if n := is.UnbindCount(); n != 1 {
				t.Errorf("the identity server was asked %d times, want once", n)
			}
			if got := bindings(t, srv, alice); len(got) != 1 {
				t.Errorf("recorded bindings %+v, want the one that could not be unbound",
					got)
			}
		})
	}
}

// TestAdminPutDeactivateUnbinds checks that deactivating an account through PUT
// unbinds its addresses, as POST /_synapse/admin/v1/deactivate does.
func TestAdminPutDeactivateUnbinds(t *testing.T) {
	t.Parallel()
	srv, is := identityEnv(t)
	alice := newAccount(t, srv, "alice")
	admin := createUser(t, srv, "boss", true)
	bind(t, srv, is, alice)

	status, _, out := do(t, "PUT", srv.URL+userPath(alice.userID), admin.token,
		map[string]any{"deactivated": true})
	wantStatus(t, status, out, http.StatusOK)
	if _, ok := is.Binding("email", boundAddress); ok {
		t.Error("the identity server still binds the deactivated account's address")
	}
	if got := bindings(t, srv, alice); len(got) != 0 {
		t.Errorf("recorded bindings after the deactivation: %+v", got)
	}
	if details := auditDetails(t, srv, alice); details["id_server_unbind_result"] != "success" {
		t.Errorf("audit details %v, want id_server_unbind_result success", details)
	}
}
