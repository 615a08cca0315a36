package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	acct "github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/server"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

const tokensAdmin = "/_synapse/admin/v1/registration_tokens"

// regTokenAdmins creates an admin and a plain user directly and returns their tokens.
func regTokenAdmins(t *testing.T, srv *testserver.Server) (admin, user string) {
	t.Helper()
	svc := server.NewServices(srv.Store, srv.Config, nil).Accounts
	for i, name := range []string{"boss", "pleb"} {
		reg, err := svc.CreateUser(context.Background(), acct.NewUser{Username: name,
			Password: secret, Admin: i == 0, Login: true})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			admin = reg.Login.AccessToken
		} else {
			user = reg.Login.AccessToken
		}
	}
	return admin, user
}

func TestAdminRegistrationTokens(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	admin, user := regTokenAdmins(t, srv)
	url := srv.URL + tokensAdmin
	future := time.Now().Add(time.Hour).UnixMilli()

	status, _, body := do(t, "GET", url, user, nil)
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
	status, _, body = do(t, "GET", url, "", nil)
	wantError(t, status, body, http.StatusUnauthorized, "M_MISSING_TOKEN")

	status, _, body = do(t, "POST", url+"/new", admin, map[string]any{
		"token": "welcome", "uses_allowed": 1, "expiry_time": future})
	wantStatus(t, status, body, http.StatusOK)
	if body["token"] != "welcome" || body["uses_allowed"] != float64(1) ||
		body["pending"] != float64(0) || body["completed"] != float64(0) ||
		body["expiry_time"] != float64(future) {
		t.Errorf("created token %v", body)
	}

	status, _, body = do(t, "POST", url+"/new", admin, map[string]any{"length": 20})
	wantStatus(t, status, body, http.StatusOK)
	if tok, _ := body["token"].(string); len(tok) != 20 || body["uses_allowed"] != nil {
		t.Errorf("generated token %v", body)
	}

	for name, b := range map[string]map[string]any{
		"existing token":   {"token": "welcome"},
		"bad token":        {"token": "no way"},
		"negative uses":    {"uses_allowed": -2},
		"uses not integer": {"uses_allowed": "3"},
		"past expiry":      {"expiry_time": 1000},
		"zero length":      {"length": 0},
	} {
		status, _, body := do(t, "POST", url+"/new", admin, b)
		if status != http.StatusBadRequest || body["errcode"] != "M_INVALID_PARAM" {
			t.Errorf("%s: %d %v, want 400 M_INVALID_PARAM", name, status, body)
		}
	}

	status, _, body = do(t, "PUT", url+"/welcome", admin, map[string]any{
		"uses_allowed": nil})
	wantStatus(t, status, body, http.StatusOK)
	if _, ok := body["uses_allowed"]; !ok || body["uses_allowed"] != nil ||
		body["expiry_time"] != float64(future) {
		t.Errorf("after clearing uses_allowed: %v", body)
	}

	status, _, body = do(t, "GET", url+"?valid=true", admin, nil)
	wantStatus(t, status, body, http.StatusOK)
	if list, _ := body["registration_tokens"].([]any); len(list) != 2 {
		t.Errorf("valid tokens %v, want 2", body)
	}
	status, _, body = do(t, "GET", url+"?valid=maybe", admin, nil)
	wantError(t, status, body, http.StatusBadRequest, "M_INVALID_PARAM")

	status, _, body = do(t, "DELETE", url+"/welcome", admin, nil)
	wantStatus(t, status, body, http.StatusOK)
	for _, method := range []string{"GET", "DELETE"} {
		status, _, body = do(t, method, url+"/welcome", admin, nil)
		wantError(t, status, body, http.StatusNotFound, "M_NOT_FOUND")
	}
	status, _, body = do(t, "POST", url+"/welcome", admin, map[string]any{})
	wantError(t, status, body, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
}
