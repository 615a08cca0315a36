package httpapi_test

import (
	"net/http"
	"testing"
)

// TestAdminCannotLockThemselves checks that the API keeps an admin from cutting off
// their own session, while unlocking (a no-op) and other users stay allowed.
func TestAdminCannotLockThemselves(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)

	for _, path := range []string{"/lock/", "/suspend/"} {
		key := map[string]string{"/lock/": "locked", "/suspend/": "suspended"}[path]
		status, body := e.asAdmin(t, "PUT", moderation+path+e.admin.userID,
			map[string]any{key: true})
		wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")

		status, body = e.asAdmin(t, "PUT", moderation+path+e.admin.userID,
			map[string]any{key: false})
		wantStatus(t, status, body, http.StatusOK)
		status, body = e.asAdmin(t, "PUT", moderation+path+e.user.userID,
			map[string]any{key: true})
		wantStatus(t, status, body, http.StatusOK)
	}
}

// TestAdminListUsersHugeOffsets checks that paging never promises a next page it does
// not have, however large from and limit are.
func TestAdminListUsersHugeOffsets(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)

	for _, q := range []string{"?from=9223372036854775807&limit=1",
		"?from=1&limit=9223372036854775807", "?from=0&limit=100"} {
		status, body := e.asAdmin(t, "GET", "/_synapse/admin/v2/users"+q, nil)
		wantStatus(t, status, body, http.StatusOK)
		if _, ok := body["next_token"]; ok {
			t.Errorf("%s: next_token %v with every user already listed", q, body["next_token"])
		}
	}
}
