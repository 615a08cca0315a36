package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// TestChangePassword changes a password through the m.login.password stage on a fake
// server (mxaccounts does not serve /account/password yet) and checks the bodies sent.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/account/password": uiaPasswordEndpoint(t, "old-pw", `{}`),
	})
	c := fs.client(t, client.Tokens{AccessToken: "at"})
	keep := false
	req := &client.ChangePasswordRequest{NewPassword: "new-pw", LogoutDevices: &keep}

	u := client.UIA{Stages: []client.Stage{
		client.PasswordStage(client.ByUser("@u:hs"), "old-pw")}}
	err := u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		req.Auth = auth
		return c.ChangePassword(ctx, req)
	})
	if err != nil {
		t.Fatalf("change password: %v", err)
	}

	reqs := fs.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	wantJSON(t, reqs[0].Body, `{"new_password":"new-pw","logout_devices":false}`)
	wantJSON(t, reqs[1].Body, `{"new_password":"new-pw","logout_devices":false,`+
		`"auth":{"type":"m.login.password","session":"sess1",`+
		`"identifier":{"type":"m.id.user","user":"@u:hs"},"password":"old-pw"}}`)
	for _, r := range reqs {
		if r.Authorization != "Bearer at" || r.ContentType != "application/json" {
			t.Errorf("Authorization %q, Content-Type %q; want the token and JSON",
				r.Authorization, r.ContentType)
		}
	}
}

// TestChangePasswordErrors checks the decoding of a weak password and of a disabled
// password change.
func TestChangePasswordErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		status int
		body   string
		want   *mxerr.Error
	}{
		{"weak password", http.StatusBadRequest,
			`{"errcode":"M_WEAK_PASSWORD","error":"too short"}`, mxerr.ErrWeakPassword},
		{"disabled", http.StatusForbidden,
			`{"errcode":"M_FORBIDDEN","error":"password changes are disabled"}`,
			mxerr.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeServer(t, map[string]http.HandlerFunc{
				"POST /_matrix/client/v3/account/password": answer(tt.status, tt.body)})

			err := fs.client(t, client.Tokens{AccessToken: "at"}).ChangePassword(t.Context(),
				&client.ChangePasswordRequest{NewPassword: "x"})
			wantMatrixError(t, err, tt.want, tt.status)
		})
	}
}

// TestPasswordReset resets a password without an access token, through the
// m.login.email.identity stage: the stage requests a token from the password family,
// the caller submits the code the user received, and the server sees the session's
// threepid_creds.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	var (
		mu        sync.Mutex
		validated = map[string]bool{} // by client secret
	)
	const challenge = `"flows":[{"stages":["m.login.email.identity"]}],"params":{},` +
		`"session":"reset1"`

	var fs *fakeServer
	fs = newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/account/password/email/requestToken": func(
			w http.ResponseWriter, r *http.Request,
		) {
			writeJSON(w, http.StatusOK, `{"sid":"sid1","submit_url":"`+fs.URL+`/submit"}`)
		},
		"POST /submit": func(w http.ResponseWriter, r *http.Request) {
			var b client.SubmitTokenRequest
			if err := json.Unmarshal(readBody(t, r), &b); err != nil || b.Token != "123456" {
				writeJSON(w, http.StatusBadRequest,
					`{"errcode":"M_TOKEN_INCORRECT","error":"wrong token"}`)
				return
			}
			mu.Lock()
			validated[b.ClientSecret] = true
			mu.Unlock()
			writeJSON(w, http.StatusOK, `{"success":true}`)
		},
		"POST /_matrix/client/v3/account/password": func(w http.ResponseWriter, r *http.Request) {
			auth := decodeAuth(t, readBody(t, r))
			if auth == nil {
				writeJSON(w, http.StatusUnauthorized, `{`+challenge+`,"completed":[]}`)
				return
			}
			creds, _ := auth["threepid_creds"].(map[string]any)
			secret, _ := creds["client_secret"].(string)
			mu.Lock()
			ok := validated[secret] && creds["sid"] == "sid1"
			mu.Unlock()
			if !ok {
				writeJSON(w, http.StatusUnauthorized, `{"errcode":"M_UNAUTHORIZED",`+
					`"error":"not validated",`+challenge+`,"completed":[]}`)
				return
			}
			writeJSON(w, http.StatusOK, `{}`)
		},
	})
	c := fs.client(t, client.Tokens{})

	var requested *client.EmailTokenRequest
	stage := client.EmailIdentityStage(client.ThreePIDValidation{
		RequestToken: func(ctx context.Context, secret string) (*client.RequestTokenResponse,
			error) {
			requested = &client.EmailTokenRequest{ClientSecret: secret,
				Email: "u@example.org", SendAttempt: 1}
			return c.RequestEmailToken(ctx, client.PurposePasswordReset, requested)
		},
		Validate: func(ctx context.Context, v client.ValidationSession) (
			*client.ThreePIDCredentials, error) {
			_, err := c.SubmitValidationToken(ctx, v.SubmitURL, &client.SubmitTokenRequest{
				SID: v.SID, ClientSecret: v.ClientSecret, Token: "123456"})
			return v.Credentials(), err
		},
	})
	req := &client.ChangePasswordRequest{NewPassword: "new-pw"}
	u := client.UIA{Stages: []client.Stage{stage}}
	err := u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		req.Auth = auth
		return c.ChangePassword(ctx, req)
	})
	if err != nil {
		t.Fatalf("reset password: %v", err)
	}

	for _, r := range fs.requests() {
		if r.Authorization != "" {
			t.Errorf("%s %s sent Authorization %q, want none", r.Method, r.Path,
				r.Authorization)
		}
	}
	last := fs.last(t)
	wantJSON(t, last.Body, `{"new_password":"new-pw","auth":{"type":"m.login.email.identity",`+
		`"session":"reset1","threepid_creds":{"sid":"sid1","client_secret":"`+
		requested.ClientSecret+`"}}}`)
}

// TestDeactivate deactivates through UIA on a fake server (mxaccounts does not serve
// /account/deactivate yet) and checks the body and the unbind result.
func TestDeactivate(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/account/deactivate": uiaPasswordEndpoint(t, "pw",
			`{"id_server_unbind_result":"no-support"}`),
	})
	c := fs.client(t, client.Tokens{AccessToken: "at"})
	req := &client.DeactivateRequest{IDServer: "is.example", Erase: true}

	var resp *client.UnbindResult
	u := client.UIA{Stages: []client.Stage{client.PasswordStage(client.ByUser("u"), "pw")}}
	err := u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		req.Auth = auth
		var err error
		resp, err = c.Deactivate(ctx, req)
		return err
	})
	if err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if resp.IDServerUnbindResult != client.UnbindNoSupport {
		t.Errorf("unbind result %q, want no-support", resp.IDServerUnbindResult)
	}
	wantJSON(t, fs.last(t).Body, `{"id_server":"is.example","erase":true,"auth":{`+
		`"type":"m.login.password","session":"sess1",`+
		`"identifier":{"type":"m.id.user","user":"u"},"password":"pw"}}`)
}

// passwordUIA returns a UIA helper that proves to be user with password.
func passwordUIA(user mxid.UserID, password string) *client.UIA {
	return &client.UIA{Stages: []client.Stage{
		client.PasswordStage(client.ByUser(string(user)), password)}}
}

// TestChangePasswordRealServer changes a password on the real server: the other
// sessions end, this one stays, and only the new password logs in.
func TestChangePasswordRealServer(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	reg := registerUser(t, srv, "olive")
	c := newClient(t, srv.URL, reg.Tokens())
	other := newClient(t, srv.URL, client.Tokens{})
	login, err := other.Login(t.Context(), &client.LoginRequest{
		Type: client.LoginTypePassword, Identifier: client.ByUser("olive"),
		Password: testPassword})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	other.SetTokens(login.Tokens())

	change := func(old, next string) error {
		req := &client.ChangePasswordRequest{NewPassword: next}
		return passwordUIA(reg.UserID, old).Do(t.Context(),
			func(ctx context.Context, auth *client.AuthData) error {
				req.Auth = auth
				return c.ChangePassword(ctx, req)
			})
	}

	const next = "another good passphrase 2"
	err = change("not the password", next)
	e := wantMatrixError(t, err, mxerr.ErrForbidden, http.StatusUnauthorized)
	if e.UIA == nil {
		t.Error("the failed password stage carries no challenge")
	}

	if err := change(testPassword, next); err != nil {
		t.Fatalf("change password: %v", err)
	}
	if _, err := c.Whoami(t.Context()); err != nil {
		t.Errorf("the session that changed the password ended: %v", err)
	}
	_, err = other.Whoami(t.Context())
	wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)

	for pw, wantErr := range map[string]bool{testPassword: true, next: false} {
		_, err := c.Login(t.Context(), &client.LoginRequest{Type: client.LoginTypePassword,
			Identifier: client.ByUser("olive"), Password: pw})
		if wantErr && !errWith(err, mxerr.ErrForbidden, http.StatusForbidden) {
			t.Errorf("login with the old password: error %v, want 403 M_FORBIDDEN", err)
		}
		if !wantErr && err != nil {
			t.Errorf("login with the new password: %v", err)
		}
	}
}

// TestDeactivateRealServer deactivates an account on the real server: its token stops
// working, it cannot log in, and its name stays taken.
func TestDeactivateRealServer(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	reg := registerUser(t, srv, "paul")
	c := newClient(t, srv.URL, reg.Tokens())

	var resp *client.UnbindResult
	req := &client.DeactivateRequest{}
	err := passwordUIA(reg.UserID, testPassword).Do(t.Context(),
		func(ctx context.Context, auth *client.AuthData) error {
			req.Auth = auth
			var err error
			resp, err = c.Deactivate(ctx, req)
			return err
		})
	if err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if resp.IDServerUnbindResult != client.UnbindSuccess {
		t.Errorf("unbind result %q, want success (nothing to unbind)",
			resp.IDServerUnbindResult)
	}

	_, err = c.Whoami(t.Context())
	wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)
	_, err = c.Login(t.Context(), &client.LoginRequest{Type: client.LoginTypePassword,
		Identifier: client.ByUser("paul"), Password: testPassword})
	if !errWith(err, mxerr.ErrUserDeactivated, http.StatusForbidden) &&
		!errWith(err, mxerr.ErrForbidden, http.StatusForbidden) {
		t.Errorf("login after deactivation: error %v, want 403", err)
	}
	_, err = c.UsernameAvailable(t.Context(), "paul")
	wantMatrixError(t, err, mxerr.ErrUserInUse, http.StatusBadRequest)
}
