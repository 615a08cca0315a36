package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// Values of the phone-number tests: a number of libphonenumber's examples, as typed in
// the United Kingdom and as its MSISDN.
const (
	stageMSISDN     = "m.login.msisdn"
	phoneNational   = "07400 123456"
	phoneMSISDN     = "447400123456"
	smsSecretHeader = "X-Gateway-Secret"
	smsSecret       = "gateway-secret"
)

// text is one message the fake SMS gateway received.
type text struct{ to, body string }

// smsGateway is a fake of the operator's webhook gateway on loopback: it checks the
// secret header and keeps the texts it is asked to send.
type smsGateway struct {
	texts chan text
	url   string
}

// startSMSGateway starts the fake gateway and stops it when the test ends.
func startSMSGateway(t *testing.T) *smsGateway {
	t.Helper()

	g := &smsGateway{texts: make(chan text, 64)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(smsSecretHeader) != smsSecret {
			http.Error(w, "wrong secret", http.StatusUnauthorized)
			return
		}
		var m struct{ To, Text string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.texts <- text{to: m.To, body: m.Text}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	g.url = srv.URL
	return g
}

// withSMS configures the webhook sender pointed at g, with GB as default country.
func (g *smsGateway) withSMS() testserver.Option {
	return testserver.WithConfig(func(c *config.Config) {
		c.SMS.Sender = "webhook"
		c.SMS.DefaultCountry = "GB"
		c.SMS.Webhook = config.SMSWebhook{URL: g.url, SecretHeader: smsSecretHeader,
			Secret: smsSecret}
	})
}

// smsCodePattern finds the code in a validation text.
var smsCodePattern = regexp.MustCompile(`\b(\d{6})\b`)

// next waits for the next text to msisdn and returns its body; texts to other numbers
// fail the test.
func (g *smsGateway) next(t *testing.T, msisdn string) string {
	t.Helper()

	select {
	case m := <-g.texts:
		if m.to != "+"+msisdn {
			t.Fatalf("a text went to %s, want +%s: %q", m.to, msisdn, m.body)
		}
		return m.body
	case <-time.After(10 * time.Second):
		t.Fatalf("no text to +%s within 10s", msisdn)
	}
	return ""
}

// code waits for the next text to msisdn and returns the code it carries.
func (g *smsGateway) code(t *testing.T, msisdn string) string {
	t.Helper()

	body := g.next(t, msisdn)
	c := smsCodePattern.FindStringSubmatch(body)
	if c == nil {
		t.Fatalf("the text to +%s has no code: %q", msisdn, body)
	}
	return c[1]
}

// phoneBody is a msisdn requestToken body.
func phoneBody(cs, country, phone string, attempt int) map[string]any {
	return map[string]any{"client_secret": cs, "country": country, "phone_number": phone,
		"send_attempt": attempt}
}

// validatedPhone requests a token for phone for purpose, submits the texted code and
// returns the sid.
func validatedPhone(t *testing.T, srv *testserver.Server, g *smsGateway,
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

	code := g.code(t, phoneMSISDN)
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
	g := startSMSGateway(t)
	srv := testserver.Start(t, testserver.WithOpenRegistration(), g.withSMS())
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
	if notice := g.next(t, phoneMSISDN); !strings.Contains(notice, "removed from") {
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
	g := startSMSGateway(t)
	srv := testserver.Start(t, testserver.WithOpenRegistration(), g.withSMS())
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
	g.code(t, phoneMSISDN)

	sid := validatedPhone(t, srv, g, forThreePID, "cs-add", phoneNational)
	status, out = addThreePID(t, srv, alice, sid, "cs-add")
	wantStatus(t, status, out, http.StatusOK)
	for _, purpose := range []string{forRegister, forThreePID} {
		status, _, out := do(t, "POST", api(srv, purpose+"/msisdn/requestToken"), "",
			phoneBody("cs2", "GB", phoneNational, 1))
		wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_IN_USE")
	}
	select {
	case m := <-g.texts:
		t.Errorf("a refused request sent a text: %+v", m)
	default:
	}
}

// TestPasswordResetByPhone checks the m.login.msisdn stage: without an access token the
// password flows offer it, and a session validated for a reset changes the password of
// the number's account.
func TestPasswordResetByPhone(t *testing.T) {
	t.Parallel()
	g := startSMSGateway(t)
	srv := testserver.Start(t, testserver.WithOpenRegistration(), g.withSMS())
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

	if notice := g.next(t, phoneMSISDN); !strings.Contains(notice, "password") {
		t.Errorf("after the reset the number got %q, want a password notice", notice)
	}
	status, out = phoneLogin(t, srv, map[string]any{"type": "m.id.phone", "country": "GB",
		"phone": phoneNational}, secret+"-new")
	wantStatus(t, status, out, http.StatusOK)
}
