package httpapi_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// withPassword walks an endpoint protected by the password stage as a: a first request
// for the session, then body with the password stage. It returns the final answer.
func withPassword(t *testing.T, srv *testserver.Server, a account, method, path,
	password string, body map[string]any,
) (int, map[string]any) {
	t.Helper()

	status, _, first := do(t, method, api(srv, path), a.token, body)
	wantStatus(t, status, first, http.StatusUnauthorized)
	status, _, out := do(t, method, api(srv, path), a.token,
		with(body, passwordStage(a, str(t, first, "session"), password)))
	return status, out
}

// TestAuditEvents walks one account through the security events a user causes and
// checks that each left its row: actor, target, address, User-Agent and outcome.
func TestAuditEvents(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t, testserver.WithOpenRegistration())
	srv := e.srv

	zoe := newAccount(t, srv, "zoe")
	status, body := passwordLogin(t, srv, zoe.userID, "wrong password")
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
	second := loginAs(t, srv, zoe)
	status, _, body = do(t, "POST", api(srv, "/logout"), second.token, nil)
	wantStatus(t, status, body, http.StatusOK)

	status, body = withPassword(t, srv, zoe, "POST", "/account/password", "wrong",
		map[string]any{"new_password": "Zoe-new-password-9"})
	wantStatus(t, status, body, http.StatusUnauthorized)
	status, body = withPassword(t, srv, zoe, "POST", "/account/password", secret,
		map[string]any{"new_password": "Zoe-new-password-9", "logout_devices": false})
	wantStatus(t, status, body, http.StatusOK)
	zoe.password = "Zoe-new-password-9"

	third := loginAs(t, srv, zoe)
	status, body = withPassword(t, srv, zoe, "DELETE", "/devices/"+third.deviceID,
		zoe.password, map[string]any{})
	wantStatus(t, status, body, http.StatusOK)
	status, _, body = do(t, "POST", api(srv, "/logout/all"), loginAs(t, srv, zoe).token, nil)
	wantStatus(t, status, body, http.StatusOK)

	zoe = loginAs(t, srv, zoe)
	status, body = e.asAdmin(t, "PUT", moderation+"/lock/"+zoe.userID,
		map[string]any{"locked": true})
	wantStatus(t, status, body, http.StatusOK)
	status, body = e.asAdmin(t, "PUT", moderation+"/lock/"+zoe.userID,
		map[string]any{"locked": false})
	wantStatus(t, status, body, http.StatusOK)
	status, body = withPassword(t, srv, zoe, "POST", "/account/deactivate", zoe.password,
		map[string]any{})
	wantStatus(t, status, body, http.StatusOK)

	want := []struct{ action, actor, outcome, details string }{
		{"register", zoe.userID, "success", `{"kind":"user"}`},
		{"login", "", "failure", `{"errcode":"M_FORBIDDEN","type":"m.login.password"}`},
		{"login", zoe.userID, "success", `{"type":"m.login.password"}`},
		{"logout", zoe.userID, "success", `{"device_id":"` + second.deviceID + `"}`},
		{"password_change", zoe.userID, "failure",
			`{"errcode":"M_FORBIDDEN","uia_stage_failed":true}`},
		{"password_change", zoe.userID, "success", `{}`},
		{"login", zoe.userID, "success", `{"type":"m.login.password"}`},
		{"device_delete", zoe.userID, "success",
			`{"device_ids":["` + third.deviceID + `"]}`},
		{"login", zoe.userID, "success", `{"type":"m.login.password"}`},
		{"logout_all", zoe.userID, "success", `{}`},
		{"login", zoe.userID, "success", `{"type":"m.login.password"}`},
		{"admin.user.lock", e.admin.userID, "success", `{"locked":true}`},
		{"admin.user.lock", e.admin.userID, "success", `{"locked":false}`},
		{"deactivate", zoe.userID, "success", `{}`},
	}
	got := auditEvents(t, srv, store.AuditFilter{User: zoe.userID})
	if len(got) != len(want) {
		t.Fatalf("%d audit events of %s, want %d: %+v", len(got), zoe.userID, len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Action != w.action || g.Actor != w.actor || g.Outcome != w.outcome ||
			string(g.Target) != zoe.userID || string(g.Details) != w.details {
			t.Errorf("event %d: %s by %q on %s, %s, %s; want %s by %q, %s, %s", i,
				g.Action, g.Actor, g.Target, g.Outcome, g.Details, w.action, w.actor,
				w.outcome, w.details)
		}
		if g.IP != "127.0.0.1" || g.UserAgent == "" || g.TimeMS == 0 {
			t.Errorf("event %d (%s) from %q with User-Agent %q at %d", i, g.Action, g.IP,
				g.UserAgent, g.TimeMS)
		}
	}
}

// TestAuditLogEndpoint reads the audit log through the admin API: filters, pages in
// both directions and the shape of an event.
func TestAuditLogEndpoint(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	start := time.Now().Add(-time.Second).UnixMilli()
	for range 3 {
		status, body := passwordLogin(t, e.srv, e.user.userID, "wrong")
		wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
	}
	loginAs(t, e.srv, e.user)

	ids := func(body map[string]any) []float64 {
		var out []float64
		for _, ev := range body["events"].([]any) {
			out = append(out, ev.(map[string]any)["id"].(float64))
		}
		return out
	}
	q := auditPath + "?action=login&user=" + e.user.userID

	status, body := e.asAdmin(t, "GET", q, nil)
	wantStatus(t, status, body, http.StatusOK)
	all := ids(body)
	if len(all) != 4 || !slices.IsSortedFunc(all, func(a, b float64) int {
		return int(b - a)
	}) {
		t.Fatalf("login events %v, want 4, newest first", all)
	}
	newest := body["events"].([]any)[0].(map[string]any)
	for key, want := range map[string]any{"action": "login", "actor": e.user.userID,
		"target": e.user.userID, "ip": "127.0.0.1", "outcome": "success"} {
		if newest[key] != want {
			t.Errorf("%s is %v, want %v; event %v", key, newest[key], want, newest)
		}
	}
	if ts, _ := newest["ts"].(float64); int64(ts) < start {
		t.Errorf("ts %v is before the test began", newest["ts"])
	}

	// Two pages of two, newest first, then the same oldest first.
	status, body = e.asAdmin(t, "GET", q+"&limit=2", nil)
	wantStatus(t, status, body, http.StatusOK)
	page1, next := ids(body), str(t, body, "next_token")
	_, body = e.asAdmin(t, "GET", q+"&limit=2&from="+next, nil)
	page2 := ids(body)
	if !slices.Equal(append(page1, page2...), all) {
		t.Errorf("pages %v + %v, want %v", page1, page2, all)
	}
	_, body = e.asAdmin(t, "GET", q+"&dir=f&limit=3", nil)
	forward := ids(body)
	if len(forward) != 3 || forward[0] != all[3] {
		t.Errorf("forward %v, want the oldest three of %v", forward, all)
	}

	// since and until, in milliseconds or RFC 3339.
	future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	_, body = e.asAdmin(t, "GET", q+"&since="+future, nil)
	if len(ids(body)) != 0 {
		t.Errorf("events since an hour from now: %v", ids(body))
	}
	_, body = e.asAdmin(t, "GET", q+"&until="+time.Now().Add(time.Hour).UTC().
		Format(time.RFC3339), nil)
	if len(ids(body)) != 4 {
		t.Errorf("events until an hour from now: %v", ids(body))
	}
	_, body = e.asAdmin(t, "GET", auditPath+"?action=login&outcome=x&user=nobody", nil)
	if len(ids(body)) != 0 {
		t.Errorf("events of nobody: %v", ids(body))
	}

	for _, bad := range []string{"?since=yesterday", "?limit=0", "?from=-3", "?dir=up"} {
		status, body := e.asAdmin(t, "GET", auditPath+bad, nil)
		wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")
	}

	// Reading the audit log is itself an admin action.
	wantAuditEvent(t, e.srv, "admin.audit.list", "", "success")
}
