package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/mailpittest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// codeClientPage plays a client that asks its user for the code of a validation mail
// and posts it to the submit_url, from its own origin; #result shows the answer.
const codeClientPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test client</title></head>
<body>
<label for="code">Code</label> <input id="code" autocomplete="one-time-code">
<button id="send" type="button">Send</button>
<p id="result"></p>
<script>
var q = new URLSearchParams(location.search);
document.getElementById("send").addEventListener("click", function () {
  fetch(q.get("submit"), {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({sid: q.get("sid"), client_secret: q.get("cs"),
      token: document.getElementById("code").value})})
    .then(function (r) { return r.json(); })
    .then(function (b) {
      document.getElementById("result").textContent = b.success ? "success" : b.errcode;
    });
});
</script></body></html>`

// TestBrowserValidatesEmail adds an email address to an account through a real mail
// read from Mailpit, in Chromium, both ways a user can: following the link in the
// mail and pressing the confirmation page's button, which redirects to next_link on
// the client's origin; and typing the code into a client page that posts it to the
// submit_url across origins.
func TestBrowserValidatesEmail(t *testing.T) {
	chromium := findChromium(t)
	mp := mailpittest.Start(t)
	client := httptest.NewServer(http.HandlerFunc(serveCodeClient))
	t.Cleanup(client.Close)
	srv := testserver.Start(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) {
			c.Email.SMTPURL = mp.SMTPURL()
			c.Email.From = "Test Server <noreply@example.org>"
		}))
	user := registerUser(t, srv, "alice")
	browser := startBrowser(t, chromium)

	t.Run("link", func(t *testing.T) {
		const address = "link@example.org"
		sid := requestEmailToken(t, srv, address, "cs-link", client.URL+"/welcome")
		link, _ := mailedLinkAndCode(t, mp, address)

		tab := newTab(t, browser)
		run(t, tab, "open the link", injectScript(cspRecorder, false),
			chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("confirm")))
		shown := evaluate[string](t, tab, `document.getElementById("address").textContent`)
		if shown != address {
			t.Errorf("the page shows %q, want %q", shown, address)
		}
		if v := evaluate[[]string](t, tab, `window.cspViolations`); len(v) > 0 {
			t.Errorf("the confirmation page broke its Content-Security-Policy: %q", v)
		}

		run(t, tab, "confirm and reach next_link", chromedp.Click(chromedp.ID("confirm")),
			chromedp.WaitVisible(chromedp.ID("welcome")))
		if got := evaluate[string](t, tab, `location.href`); got != client.URL+"/welcome" {
			t.Errorf("the confirmation led to %s, want next_link", got)
		}
		addEmail(t, srv, user, sid, "cs-link")
	})

	t.Run("code", func(t *testing.T) {
		const address = "code@example.org"
		sid := requestEmailToken(t, srv, address, "cs-code", "")
		_, code := mailedLinkAndCode(t, mp, address)

		q := url.Values{"sid": {sid}, "cs": {"cs-code"},
			"submit": {srv.URL + "/_mxaccounts/validate/email/submitToken"}}
		tab := newTab(t, browser)
		run(t, tab, "open the client", chromedp.Navigate(client.URL+"/code?"+q.Encode()),
			chromedp.WaitVisible(chromedp.ID("code")))
		run(t, tab, "type the code", chromedp.SendKeys(chromedp.ID("code"), code),
			chromedp.Click(chromedp.ID("send")))

		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
			`document.getElementById("result").textContent !== ""`)); err != nil {
			t.Fatalf("the client got no answer from the submit_url: %v", err)
		}
		result := evaluate[string](t, tab, `document.getElementById("result").textContent`)
		if result != "success" {
			t.Fatalf("the submit_url answered %q, want success", result)
		}
		addEmail(t, srv, user, sid, "cs-code")
	})
}

// serveCodeClient serves the code-entry client page and the client's welcome page.
func serveCodeClient(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.URL.Path == "/code" {
		io.WriteString(w, codeClientPage)
		return
	}
	io.WriteString(w, `<!DOCTYPE html><title>Welcome</title><p id="welcome">Welcome back.`)
}

// session is a registered user's access token and password.
type session struct {
	userID, token, password string
}

// registerUser registers username with the dummy flow of an open server.
func registerUser(t *testing.T, srv *testserver.Server, username string) session {
	t.Helper()

	body := map[string]any{"username": username, "password": "Tq7-lantern-quokka-89!"}
	status, out := call(t, "POST", srv.URL+"/_matrix/client/v3/register", "", body)
	if status != http.StatusUnauthorized {
		t.Fatalf("start registration: %d %v", status, out)
	}
	body["auth"] = map[string]any{"type": "m.login.dummy", "session": out["session"]}
	status, out = call(t, "POST", srv.URL+"/_matrix/client/v3/register", "", body)
	if status != http.StatusOK {
		t.Fatalf("register %s: %d %v", username, status, out)
	}
	return session{userID: out["user_id"].(string), token: out["access_token"].(string),
		password: "Tq7-lantern-quokka-89!"}
}

// requestEmailToken asks srv to mail a token for adding address and returns the sid.
func requestEmailToken(t *testing.T, srv *testserver.Server, address, cs, nextLink string,
) string {
	t.Helper()

	body := map[string]any{"client_secret": cs, "email": address, "send_attempt": 1}
	if nextLink != "" {
		body["next_link"] = nextLink
	}
	status, out := call(t, "POST",
		srv.URL+"/_matrix/client/v3/account/3pid/email/requestToken", "", body)
	if status != http.StatusOK {
		t.Fatalf("requestToken for %s: %d %v", address, status, out)
	}
	return out["sid"].(string)
}

var (
	hrefPattern = regexp.MustCompile(`href="([^"]+/confirm\?[^"]+)"`)
	codePattern = regexp.MustCompile(`(?m)^(\d{6})\r?$`)
)

// mailedLinkAndCode waits for the validation mail to address and returns the link of
// its HTML part, as a mail client would open it, and the code of its text part.
func mailedLinkAndCode(t *testing.T, mp *mailpittest.Server, address string) (string, string) {
	t.Helper()

	msg := mp.Wait(t, address)
	link := hrefPattern.FindStringSubmatch(msg.HTML)
	code := codePattern.FindStringSubmatch(msg.Text)
	if link == nil || code == nil {
		t.Fatalf("the mail to %s lacks a link or a code:\n%s\n%s", address, msg.Text,
			msg.HTML)
	}
	return html.UnescapeString(link[1]), code[1]
}

// addEmail adds the validated session to u's account through UIA with the password.
func addEmail(t *testing.T, srv *testserver.Server, u session, sid, cs string) {
	t.Helper()

	target := srv.URL + "/_matrix/client/v3/account/3pid/add"
	body := map[string]any{"sid": sid, "client_secret": cs}
	status, out := call(t, "POST", target, u.token, body)
	if status != http.StatusUnauthorized {
		t.Fatalf("start adding: %d %v", status, out)
	}
	body["auth"] = map[string]any{"type": "m.login.password", "session": out["session"],
		"identifier": map[string]any{"type": "m.id.user", "user": u.userID},
		"password":   u.password}
	if status, out = call(t, "POST", target, u.token, body); status != http.StatusOK {
		t.Fatalf("add the address of session %s: %d %v", sid, status, out)
	}
}

// call sends a JSON request with an optional access token and decodes the answer.
func call(t *testing.T, method, target, token string, body any) (int, map[string]any) {
	t.Helper()

	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil && !strings.Contains(
		err.Error(), "EOF") {
		t.Fatalf("%s %s: decode answer: %v", method, target, err)
	}
	return resp.StatusCode, out
}
