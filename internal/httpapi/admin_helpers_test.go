package httpapi_test

import (
	"context"
	"net/url"
	"testing"

	acct "github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/server"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// The prefixes of the admin endpoints.
const (
	adminV1    = "/_synapse/admin/v1"
	adminV2    = "/_synapse/admin/v2"
	moderation = "/_matrix/client/v1/admin"
	auditPath  = "/_mxaccounts/admin/v1/audit"
)

// adminEnv is a test server with an admin ("boss") and an ordinary user ("alice"),
// each signed in on one device.
type adminEnv struct {
	srv         *testserver.Server
	admin, user account
}

// newAdminEnv starts a server with opts and creates the admin and the user.
func newAdminEnv(t *testing.T, opts ...testserver.Option) *adminEnv {
	t.Helper()

	srv := testserver.Start(t, opts...)
	return &adminEnv{srv: srv, admin: createUser(t, srv, "boss", true),
		user: createUser(t, srv, "alice", false)}
}

// createUser creates an account as an operator does and signs it in.
func createUser(t *testing.T, srv *testserver.Server, name string, admin bool) account {
	t.Helper()

	svc := server.NewServices(srv.Store, srv.Config, nil).Accounts
	reg, err := svc.CreateUser(context.Background(), acct.NewUser{Username: name,
		Password: secret, Admin: admin, Login: true})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return account{userID: string(reg.UserID), password: secret,
		token: reg.Login.AccessToken, deviceID: string(reg.Login.DeviceID)}
}

// asAdmin sends a request to path (with its prefix) on the server with the admin's
// token.
func (e *adminEnv) asAdmin(t *testing.T, method, path string, body any) (
	int, map[string]any,
) {
	t.Helper()

	status, _, out := do(t, method, e.srv.URL+path, e.admin.token, body)
	return status, out
}

// userPath returns the path of the v2 user endpoint of userID, escaped.
func userPath(userID string) string {
	return adminV2 + "/users/" + url.PathEscape(userID)
}

// auditEvents returns the audit events of srv that f selects, oldest first.
func auditEvents(t *testing.T, srv *testserver.Server, f store.AuditFilter) []store.AuditEvent {
	t.Helper()

	f.Forward = true
	events, err := srv.Store.AuditEvents(context.Background(), f)
	if err != nil {
		t.Fatalf("read the audit log: %v", err)
	}
	return events
}

// wantAuditEvent fails the test unless srv's audit log has an event of action about
// target with the outcome, and returns the latest such.
func wantAuditEvent(t *testing.T, srv *testserver.Server, action, target, outcome string,
) store.AuditEvent {
	t.Helper()

	events := auditEvents(t, srv, store.AuditFilter{Action: action})
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if string(e.Target) == target && e.Outcome == outcome {
			return e
		}
	}
	t.Fatalf("no %s audit event of %s with outcome %s; events %+v", action, target,
		outcome, events)
	return store.AuditEvent{}
}

// wantWhoami fails the test unless whoami with token answers status (and errcode for
// an error).
func wantWhoami(t *testing.T, srv *testserver.Server, token string, status int,
	errcode string,
) map[string]any {
	t.Helper()

	got, body := whoami(t, srv, token)
	if errcode == "" {
		wantStatus(t, got, body, status)
		return body
	}
	wantError(t, got, body, status, errcode)
	return body
}

// passwordLogin logs in with a password and returns the status and body.
func passwordLogin(t *testing.T, srv *testserver.Server, user, password string) (
	int, map[string]any,
) {
	t.Helper()
	return login(t, srv, user, password, nil)
}
