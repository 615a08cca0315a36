package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/mailpittest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// Paths and values of the 3PID tests.
const (
	stageEmail = "m.login.email.identity"
	// The requestToken families, by the path before /email/requestToken.
	forRegister = "/register"
	forPassword = "/account/password"
	forThreePID = "/account/3pid"
)

// mailed is what a validation mail carries.
type mailed struct {
	subject, link, token, code, sid string
	text                            string
}

var (
	linkPattern = regexp.MustCompile(`https?://\S+/confirm\?\S+`)
	codePattern = regexp.MustCompile(`(?m)^(\d{6})\r?$`)
)

// emailServer starts Mailpit and a test server that mails through it, with email
// configured as opts leave it.
func emailServer(t *testing.T, opts ...testserver.Option) (
	*testserver.Server, *mailpittest.Server,
) {
	t.Helper()

	mp := mailpittest.Start(t)
	all := append([]testserver.Option{testserver.WithConfig(func(c *config.Config) {
		c.Email.SMTPURL = mp.SMTPURL()
		c.Email.From = "Test Server <noreply@example.org>"
	})}, opts...)
	return testserver.Start(t, all...), mp
}

// requestToken posts body to the email requestToken endpoint of purpose (forRegister,
// forPassword or forThreePID) and returns the answer.
func requestToken(t *testing.T, srv *testserver.Server, purpose string,
	body map[string]any,
) (int, map[string]any) {
	t.Helper()

	status, _, out := do(t, "POST", api(srv, purpose+"/email/requestToken"), "", body)
	return status, out
}

// tokenBody is a requestToken body for address with client secret cs.
func tokenBody(cs, address string, attempt int) map[string]any {
	return map[string]any{"client_secret": cs, "email": address, "send_attempt": attempt}
}

// mustRequestToken requests a token and returns the sid, checking that the answer
// carries the submit URL.
func mustRequestToken(t *testing.T, srv *testserver.Server, purpose string,
	body map[string]any,
) string {
	t.Helper()

	status, out := requestToken(t, srv, purpose, body)
	wantStatus(t, status, out, http.StatusOK)
	if out["submit_url"] != submitURL(srv) {
		t.Errorf("submit_url %v, want %s", out["submit_url"], submitURL(srv))
	}
	return str(t, out, "sid")
}

// submitURL is the submit_url of the email sessions of srv.
func submitURL(srv *testserver.Server) string {
	return srv.URL + "/_mxaccounts/validate/email/submitToken"
}

// readMail waits for the next validation mail to address and reads its link, the
// link's token and sid, and the code.
func readMail(t *testing.T, mp *mailpittest.Server, address string) mailed {
	t.Helper()

	msg := mp.Wait(t, address)
	m := mailed{subject: msg.Subject, text: msg.Text}
	m.link = linkPattern.FindString(msg.Text)
	if m.link == "" {
		t.Fatalf("the mail to %s has no link:\n%s", address, msg.Text)
	}
	u, err := url.Parse(m.link)
	if err != nil {
		t.Fatalf("link %q: %v", m.link, err)
	}
	m.token, m.sid = u.Query().Get("token"), u.Query().Get("sid")
	if c := codePattern.FindStringSubmatch(msg.Text); c != nil {
		m.code = c[1]
	} else {
		t.Fatalf("the mail to %s has no code:\n%s", address, msg.Text)
	}
	return m
}

// submit posts sid, client secret and token to the submit URL.
func submit(t *testing.T, srv *testserver.Server, sid, cs, token string) (
	int, map[string]any,
) {
	t.Helper()

	status, _, out := do(t, "POST", submitURL(srv), "",
		map[string]any{"sid": sid, "client_secret": cs, "token": token})
	return status, out
}

// validated requests a token for address for purpose, reads the mail and submits its
// code, and returns the sid.
func validated(t *testing.T, srv *testserver.Server, mp *mailpittest.Server,
	purpose, cs, address string,
) string {
	t.Helper()

	sid := mustRequestToken(t, srv, purpose, tokenBody(cs, address, 1))
	m := readMail(t, mp, address)
	status, out := submit(t, srv, sid, cs, m.code)
	wantStatus(t, status, out, http.StatusOK)
	if out["success"] != true {
		t.Fatalf("submit answered %v, want success", out)
	}
	return sid
}

// addThreePID walks POST /account/3pid/add for a with the password stage and returns
// the final answer.
func addThreePID(t *testing.T, srv *testserver.Server, a account, sid, cs string) (
	int, map[string]any,
) {
	t.Helper()

	body := map[string]any{"sid": sid, "client_secret": cs}
	status, _, out := do(t, "POST", api(srv, "/account/3pid/add"), a.token, body)
	if status != http.StatusUnauthorized {
		return status, out
	}
	status, _, out = do(t, "POST", api(srv, "/account/3pid/add"), a.token,
		with(body, passwordStage(a, str(t, out, "session"), a.password)))
	return status, out
}

// addEmail validates address for a and adds it to a's account.
func addEmail(t *testing.T, srv *testserver.Server, mp *mailpittest.Server, a account,
	address string,
) {
	t.Helper()

	sid := validated(t, srv, mp, forThreePID, "cs-add", address)
	status, out := addThreePID(t, srv, a, sid, "cs-add")
	wantStatus(t, status, out, http.StatusOK)
}

// threePIDs returns the addresses GET /account/3pid lists for a, by medium and
// address.
func threePIDs(t *testing.T, srv *testserver.Server, a account) []map[string]any {
	t.Helper()

	status, _, out := do(t, "GET", api(srv, "/account/3pid"), a.token, nil)
	wantStatus(t, status, out, http.StatusOK)
	list, ok := out["threepids"].([]any)
	if !ok {
		t.Fatalf("threepids is %#v, want an array", out["threepids"])
	}
	var entries []map[string]any
	for _, e := range list {
		entries = append(entries, e.(map[string]any))
	}
	return entries
}

// hasAddress reports whether entries list the email address.
func hasAddress(entries []map[string]any, address string) bool {
	for _, e := range entries {
		if e["medium"] == "email" && e["address"] == address {
			return true
		}
	}
	return false
}

// pageClient fetches pages without following redirects, so that a test sees them.
var pageClient = &http.Client{Timeout: 60 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}

// doRaw sends a request with no body to target, with an Origin header when origin is
// not "", and returns the status, the headers and the body as text.
func doRaw(t *testing.T, method, target, origin string) (int, http.Header, string) {
	t.Helper()

	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := pageClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp.StatusCode, resp.Header, string(data)
}
