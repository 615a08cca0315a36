package client_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TestRequestToken sends each of the six requestToken calls to a fake server
// (mxaccounts does not serve them yet) and checks path, body and answer.
func TestRequestToken(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/{family...}": answer(http.StatusOK,
			`{"sid":"s","submit_url":"https://hs.example/submit"}`),
	})
	c := fs.client(t, client.Tokens{AccessToken: "at"})
	email := &client.EmailTokenRequest{ClientSecret: "cs", Email: "u@example.org",
		SendAttempt: 2, NextLink: "https://app.example/done"}
	phone := &client.MSISDNTokenRequest{ClientSecret: "cs", Country: "GB",
		PhoneNumber: "07700900001", SendAttempt: 1, IDServer: "is.example",
		IDAccessToken: "ist"}
	const emailBody = `{"client_secret":"cs","email":"u@example.org","send_attempt":2,` +
		`"next_link":"https://app.example/done"}`
	const phoneBody = `{"client_secret":"cs","country":"GB","phone_number":"07700900001",` +
		`"send_attempt":1,"id_server":"is.example","id_access_token":"ist"}`

	for _, purpose := range []client.ValidationPurpose{client.PurposeRegister,
		client.PurposePasswordReset, client.PurposeAddThreePID} {
		for _, medium := range []string{"email", "msisdn"} {
			var (
				resp *client.RequestTokenResponse
				err  error
				want = emailBody
			)
			if medium == "email" {
				resp, err = c.RequestEmailToken(t.Context(), purpose, email)
			} else {
				resp, err = c.RequestMSISDNToken(t.Context(), purpose, phone)
				want = phoneBody
			}
			if err != nil {
				t.Fatalf("%s %s: %v", purpose, medium, err)
			}

			if resp.SID != "s" || resp.SubmitURL != "https://hs.example/submit" {
				t.Errorf("%s %s: answer %+v", purpose, medium, resp)
			}
			got := fs.last(t)
			wantPath := "/_matrix/client/v3/" + string(purpose) + "/" + medium + "/requestToken"
			if got.Path != wantPath || got.Authorization != "" {
				t.Errorf("%s %s: path %q, Authorization %q; want %q and none", purpose, medium,
					got.Path, got.Authorization, wantPath)
			}
			wantJSON(t, got.Body, want)
		}
	}

	_, err := c.RequestEmailToken(t.Context(), "account/other", email)
	if err == nil {
		t.Error("no error for an unknown purpose")
	}
}

// TestRequestTokenErrors checks the decoding of the errors the spec lists for the
// requestToken families.
func TestRequestTokenErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		purpose client.ValidationPurpose
		status  int
		code    mxerr.Code
	}{
		{client.PurposeRegister, http.StatusBadRequest, mxerr.CodeThreepidInUse},
		{client.PurposePasswordReset, http.StatusBadRequest, mxerr.CodeThreepidNotFound},
		{client.PurposeAddThreePID, http.StatusForbidden, mxerr.CodeThreepidDenied},
		{client.PurposeAddThreePID, http.StatusBadRequest, mxerr.CodeThreepidMediumNotSupp},
	}
	for _, tt := range tests {
		fs := newFakeServer(t, map[string]http.HandlerFunc{
			"POST /_matrix/client/v3/{family...}": answer(tt.status,
				`{"errcode":"`+string(tt.code)+`","error":"no"}`),
		})

		_, err := fs.client(t, client.Tokens{}).RequestEmailToken(t.Context(), tt.purpose,
			&client.EmailTokenRequest{ClientSecret: "cs", Email: "u@example.org"})
		wantMatrixError(t, err, mxerr.New(tt.status, tt.code, ""), tt.status)
	}
}

// TestThreePIDs lists, adds, binds, deletes and unbinds 3PIDs on a fake server
// (mxaccounts does not serve these yet) and checks each request.
func TestThreePIDs(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"GET /_matrix/client/v3/account/3pid": answer(http.StatusOK, `{"threepids":[`+
			`{"medium":"email","address":"u@example.org","validated_at":1,"added_at":2}]}`),
		"POST /_matrix/client/v3/account/3pid": answer(http.StatusOK,
			`{"submit_url":"https://is.example/submit"}`),
		"POST /_matrix/client/v3/account/3pid/add":  uiaPasswordEndpoint(t, "pw", `{}`),
		"POST /_matrix/client/v3/account/3pid/bind": answer(http.StatusOK, `{}`),
		"POST /_matrix/client/v3/account/3pid/delete": answer(http.StatusOK,
			`{"id_server_unbind_result":"success"}`),
		"POST /_matrix/client/v3/account/3pid/unbind": answer(http.StatusOK,
			`{"id_server_unbind_result":"no-support"}`),
	})
	c := fs.client(t, client.Tokens{AccessToken: "at"})
	ctx := t.Context()

	list, err := c.ThreePIDs(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	want := client.ThreePID{Medium: client.MediumEmail, Address: "u@example.org",
		ValidatedAt: 1, AddedAt: 2}
	if len(list.ThreePIDs) != 1 || list.ThreePIDs[0] != want {
		t.Errorf("3PIDs %+v, want [%+v]", list.ThreePIDs, want)
	}

	add := &client.AddThreePIDRequest{ClientSecret: "cs", SID: "sid"}
	u := client.UIA{Stages: []client.Stage{client.PasswordStage(client.ByUser("u"), "pw")}}
	err = u.Do(ctx, func(ctx context.Context, auth *client.AuthData) error {
		add.Auth = auth
		return c.AddThreePID(ctx, add)
	})
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	wantJSON(t, fs.last(t).Body, `{"client_secret":"cs","sid":"sid","auth":{`+
		`"type":"m.login.password","session":"sess1",`+
		`"identifier":{"type":"m.id.user","user":"u"},"password":"pw"}}`)

	dep, err := c.AddThreePIDDeprecated(ctx, &client.AddThreePIDDeprecatedRequest{
		ThreePIDCreds: client.ThreePIDCredentials{SID: "sid", ClientSecret: "cs",
			IDServer: "is.example", IDAccessToken: "ist"}})
	if err != nil {
		t.Fatalf("add (deprecated): %v", err)
	}
	if dep.SubmitURL != "https://is.example/submit" {
		t.Errorf("submit_url %q", dep.SubmitURL)
	}
	wantJSON(t, fs.last(t).Body, `{"three_pid_creds":{"sid":"sid","client_secret":"cs",`+
		`"id_server":"is.example","id_access_token":"ist"}}`)

	err = c.BindThreePID(ctx, &client.BindThreePIDRequest{ClientSecret: "cs",
		IDServer: "is.example", IDAccessToken: "ist", SID: "sid"})
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	wantJSON(t, fs.last(t).Body, `{"client_secret":"cs","id_server":"is.example",`+
		`"id_access_token":"ist","sid":"sid"}`)

	del, err := c.DeleteThreePID(ctx, &client.ThreePIDUnbindRequest{
		Medium: client.MediumEmail, Address: "u@example.org"})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if del.IDServerUnbindResult != client.UnbindSuccess {
		t.Errorf("delete: unbind result %q", del.IDServerUnbindResult)
	}
	wantJSON(t, fs.last(t).Body, `{"medium":"email","address":"u@example.org"}`)

	unb, err := c.UnbindThreePID(ctx, &client.ThreePIDUnbindRequest{
		Medium: client.MediumMSISDN, Address: "447700900001", IDServer: "is.example"})
	if err != nil {
		t.Fatalf("unbind: %v", err)
	}
	if unb.IDServerUnbindResult != client.UnbindNoSupport {
		t.Errorf("unbind: unbind result %q", unb.IDServerUnbindResult)
	}
	wantJSON(t, fs.last(t).Body, `{"medium":"msisdn","address":"447700900001",`+
		`"id_server":"is.example"}`)

	for _, r := range fs.requests() {
		if r.Authorization != "Bearer at" {
			t.Errorf("%s %s: Authorization %q, want the access token", r.Method, r.Path,
				r.Authorization)
		}
	}
}

// TestThreePIDErrors checks the decoding of the 3PID endpoints' errors.
func TestThreePIDErrors(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/account/3pid": answer(http.StatusForbidden,
			`{"errcode":"M_THREEPID_AUTH_FAILED","error":"cannot verify"}`),
		"POST /_matrix/client/v3/account/3pid/bind": answer(http.StatusBadRequest,
			`{"errcode":"M_SESSION_NOT_VALIDATED","error":"from the identity server"}`),
		"GET /_matrix/client/v3/account/3pid": answer(http.StatusForbidden,
			`{"errcode":"M_GUEST_ACCESS_FORBIDDEN","error":"guests may not"}`),
	})
	c := fs.client(t, client.Tokens{AccessToken: "at"})

	_, err := c.AddThreePIDDeprecated(t.Context(), &client.AddThreePIDDeprecatedRequest{})
	wantMatrixError(t, err, mxerr.New(0, mxerr.CodeThreepidAuthFailed, ""),
		http.StatusForbidden)

	err = c.BindThreePID(t.Context(), &client.BindThreePIDRequest{})
	wantMatrixError(t, err, mxerr.New(0, "M_SESSION_NOT_VALIDATED", ""), http.StatusBadRequest)

	_, err = c.ThreePIDs(t.Context())
	wantMatrixError(t, err, mxerr.ErrGuestForbidden, http.StatusForbidden)
}

// TestSubmitValidationToken checks the submit_url call: no access token, the body, a
// wrong token, and a submit_url that is not absolute.
func TestSubmitValidationToken(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"POST /submit": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("x") != "1" {
				writeJSON(w, http.StatusBadRequest,
					`{"errcode":"M_TOKEN_INCORRECT","error":"wrong token"}`)
				return
			}
			writeJSON(w, http.StatusOK, `{"success":true}`)
		},
	})
	c := fs.client(t, client.Tokens{AccessToken: "at"})
	req := &client.SubmitTokenRequest{SID: "sid", ClientSecret: "cs", Token: "123"}

	resp, err := c.SubmitValidationToken(t.Context(), fs.URL+"/submit?x=1", req)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	got := fs.last(t)
	if !resp.Success || got.Authorization != "" || got.Query != "x=1" {
		t.Errorf("success %v, Authorization %q, query %q; want true, none, x=1",
			resp.Success, got.Authorization, got.Query)
	}
	wantJSON(t, got.Body, `{"sid":"sid","client_secret":"cs","token":"123"}`)

	_, err = c.SubmitValidationToken(t.Context(), fs.URL+"/submit", req)
	wantMatrixError(t, err, mxerr.New(0, mxerr.CodeTokenIncorrect, ""), http.StatusBadRequest)

	if _, err := c.SubmitValidationToken(t.Context(), "/submit", req); err == nil {
		t.Error("no error for a relative submit_url")
	}
}
