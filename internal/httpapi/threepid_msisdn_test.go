package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/sms/smstest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// Values of the phone-number tests: a number of libphonenumber's examples, as typed in
// the United Kingdom and as its MSISDN.
const (
	stageMSISDN   = "m.login.msisdn"
	phoneNational = "07400 123456"
	phoneMSISDN   = "447400123456"
)

// phoneBody is a msisdn requestToken body.
func phoneBody(cs, country, phone string, attempt int) map[string]any {
	return map[string]any{"client_secret": cs, "country": country, "phone_number": phone,
		"send_attempt": attempt}
}

// validatedPhone requests a token for phone for purpose, submits the texted code and
// returns the sid.
func validatedPhone(t *testing.T, srv *testserver.Server, g *smstest.Gateway,
	purpose, cs, phone string,
) string {
	t.Helper()

	status, _, out := do(t, "POST", api(srv, purpose+"/msisdn/requestToken"), "",
		phoneBody(cs, "GB", phone, 1))
	wantStatus(t, status, out, http.StatusOK)
	submitURL := srv.URL + "/_mxaccounts/validate/msisdn/submitToken"
	if out["submit_url"] != submitURL {
		t.Errorf("submit_url %v, want %s", out["submit_url"], submitURL)
	}
	sid := str(t, out, "sid")

	code := g.Code(t, phoneMSISDN)
	status, _, out = do(t, "POST", submitURL, "",
		map[string]any{"sid": sid, "client_secret": cs, "token": code})
	wantStatus(t, status, out, http.StatusOK)
	return sid
}

// phoneLogin logs in with identifier and password and returns the status and body.
func phoneLogin(t *testing.T, srv *testserver.Server, identifier map[string]any,
	password string,
) (int, map[string]any) {
	t.Helper()

	status, _, out := do(t, "POST", api(srv, "/login"), "", map[string]any{
		"type": "m.login.password", "identifier": identifier, "password": password})
	return status, out
}

// TestPhoneNumberLifecycle adds a phone number to an account and removes it again
// through a webhook gateway: requestToken texts a code, the submit URL takes it,
// /account/3pid/add spends the session through UIA, GET /account/3pid lists the
// MSISDN, m.id.phone and m.id.thirdparty log in with it, and /account/3pid/delete
// removes it, after which it logs in nobody.
func TestPhoneNumberLifecycle(t *testing.T) {
	t.Parallel()
	g := smstest.Start(t)
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(g.Configure))
	alice := newAccount(t, srv, "alice")

	sid := validatedPhone(t, srv, g, forThreePID, "cs-phone", phoneNational)
	status, out := addThreePID(t, srv, alice, sid, "cs-phone")
	wantStatus(t, status, out, http.StatusOK)
	list := threePIDs(t, srv, alice)
	if len(list) != 1 || list[0]["medium"] != "msisdn" || list[0]["address"] != phoneMSISDN {
		t.Fatalf("threepids %v, want msisdn %s alone", list, phoneMSISDN)
	}

	for _, id := range []map[string]any{
		{"type": "m.id.phone", "country": "GB", "phone": "07400123456"},
		{"type": "m.id.phone", "country": "gb", "phone": "+44 7400 123456"},
		{"type": "m.id.thirdparty", "medium": "msisdn", "address": phoneMSISDN},
	} {
		status, out := phoneLogin(t, srv, id, alice.password)
		wantStatus(t, status, out, http.StatusOK)
		if out["user_id"] != alice.userID {
			t.Errorf("login with %v: user_id %v, want %s", id, out["user_id"], alice.userID)
		}
	}

	status, _, out = do(t, "POST", api(srv, "/account/3pid/delete"), alice.token,
		map[string]any{"medium": "msisdn", "address": "+" + phoneMSISDN})
	wantStatus(t, status, out, http.StatusOK)
	if notice := g.Next(t, phoneMSISDN); !strings.Contains(notice, "removed from") {
		t.Errorf("after the delete the number got %q, want a removal notice", notice)
	}
	if list := threePIDs(t, srv, alice); len(list) != 0 {
		t.Errorf("threepids after the delete: %v, want none", list)
	}
	status, out = phoneLogin(t, srv, map[string]any{"type": "m.id.phone", "country": "GB",
		"phone": phoneNational}, alice.password)
	wantError(t, status, out, http.StatusForbidden, "M_FORBIDDEN")
}

// TestPhoneRequestToken checks the msisdn requestToken endpoints: a number that is
// none, or an unknown country, is M_INVALID_PARAM and texts nothing; the default
// country reads a national number when the client sends an empty country; a number in
// use cannot be registered or added again.
func TestPhoneRequestToken(t *testing.T) {
	t.Parallel()
	g := smstest.Start(t)
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(g.Configure))
	alice := newAccount(t, srv, "alice")

	for _, body := range []map[string]any{
		phoneBody("cs", "GB", "07700 900123", 1), // the fiction range is no number
		phoneBody("cs", "GB", "call me", 1),
		phoneBody("cs", "XX", phoneNational, 1),
		phoneBody("cs", "", "12", 1),
	} {
		status, _, out := do(t, "POST", api(srv, "/register/msisdn/requestToken"), "", body)
		wantError(t, status, out, http.StatusBadRequest, "M_INVALID_PARAM")
	}

	status, _, out := do(t, "POST", api(srv, "/account/3pid/msisdn/requestToken"), "",
		phoneBody("cs", "", phoneNational, 1))
	wantStatus(t, status, out, http.StatusOK)
	g.Code(t, phoneMSISDN)

	sid := validatedPhone(t, srv, g, forThreePID, "cs-add", phoneNational)
	status, out = addThreePID(t, srv, alice, sid, "cs-add")
	wantStatus(t, status, out, http.StatusOK)
	for _, purpose := range []string{forRegister, forThreePID} {
		status, _, out := do(t, "POST", api(srv, purpose+"/msisdn/requestToken"), "",
			phoneBody("cs2", "GB", phoneNational, 1))
		wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_IN_USE")
	}
	g.ExpectNone(t)
}

// TestPasswordResetByPhone checks the m.login.msisdn stage: without an access token the
// password flows offer it, and a session validated for a reset changes the password of
// the number's account.
func TestPasswordResetByPhone(t *testing.T) {
	t.Parallel()
	g := smstest.Start(t)
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(g.Configure))
	alice := newAccount(t, srv, "alice")
	sid := validatedPhone(t, srv, g, forThreePID, "cs-add", phoneNational)
	status, out := addThreePID(t, srv, alice, sid, "cs-add")
	wantStatus(t, status, out, http.StatusOK)

	sid = validatedPhone(t, srv, g, forPassword, "cs-reset", phoneNational)
	body := map[string]any{"new_password": secret + "-new"}
	status, _, challenge := do(t, "POST", api(srv, "/account/password"), "", body)
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	want := [][]string{{"m.login.password"}, {stageMSISDN}}
	if got := stagesOf(t, challenge); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("tokenless flows %v, want %v", got, want)
	}
	auth := map[string]any{"type": stageMSISDN, "session": str(t, challenge, "session"),
		"threepid_creds": map[string]any{"sid": sid, "client_secret": "cs-reset"}}
	status, _, out = do(t, "POST", api(srv, "/account/password"), "",
		with(body, map[string]any{"auth": auth}))
	wantStatus(t, status, out, http.StatusOK)

	if notice := g.Next(t, phoneMSISDN); !strings.Contains(notice, "password") {
		t.Errorf("after the reset the number got %q, want a password notice", notice)
	}
	status, out = phoneLogin(t, srv, map[string]any{"type": "m.id.phone", "country": "GB",
		"phone": phoneNational}, secret+"-new")
	wantStatus(t, status, out, http.StatusOK)
}

// TestRegisterWithPhone registers where a phone number is required: every flow ends
// with the msisdn stage, a registration without it is refused, the validated number
// joins the new account and logs it in.
func TestRegisterWithPhone(t *testing.T) {
	t.Parallel()
	g := smstest.Start(t)
	srv := testserver.Start(t, testserver.WithConfig(g.Configure),
		testserver.WithConfig(func(c *config.Config) { c.SMS.RequireForRegistration = true }))
	body := map[string]any{"username": "texter", "password": secret}

	session := startSession(t, srv, body)
	status, _, challenge := do(t, "POST", api(srv, "/register"), "", body)
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	want := [][]string{{stageToken, stageMSISDN}}
	if got := stagesOf(t, challenge); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("registration flows %v, want %v", got, want)
	}
	auth := map[string]any{"type": stageToken, "session": session,
		"token": srv.RegistrationToken(t)}
	status, _, out := do(t, "POST", api(srv, "/register"), "",
		with(body, map[string]any{"auth": auth}))
	wantStatus(t, status, out, http.StatusUnauthorized)
	wantAvailable(t, srv, "texter")

	sid := validatedPhone(t, srv, g, forRegister, "cs-reg", phoneNational)
	auth = map[string]any{"type": stageMSISDN, "session": session,
		"threepid_creds": map[string]any{"sid": sid, "client_secret": "cs-reg"}}
	status, _, out = do(t, "POST", api(srv, "/register"), "",
		with(body, map[string]any{"auth": auth}))
	wantStatus(t, status, out, http.StatusOK)
	user := account{userID: str(t, out, "user_id"), token: str(t, out, "access_token"),
		password: secret}
	list := threePIDs(t, srv, user)
	if len(list) != 1 || list[0]["medium"] != "msisdn" || list[0]["address"] != phoneMSISDN {
		t.Errorf("the new account lists %v, want its number alone", list)
	}
	status, out = phoneLogin(t, srv, map[string]any{"type": "m.id.phone", "country": "GB",
		"phone": phoneNational}, secret)
	wantStatus(t, status, out, http.StatusOK)
}
