package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestConfirmationPage checks the page the link in a validation mail opens: GET shows
// the address and a button under a strict Content-Security-Policy and validates
// nothing, so mail scanners cannot; a post from another site is refused; the post of
// the page validates and redirects to next_link, which the policy lets the form reach;
// a used link shows an error.
func TestConfirmationPage(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")
	const address = "page@example.org"

	sid := mustRequestToken(t, srv, forThreePID, with(tokenBody("cs", address, 1),
		map[string]any{"next_link": "https://client.example/done?x=1"}))
	m := readMail(t, mp, address)

	status, header, page := doRaw(t, "GET", m.link, "")
	if status != http.StatusOK || !strings.Contains(page, address) ||
		!strings.Contains(page, `<form method="post">`) {
		t.Fatalf("GET the link: %d\n%s", status, page)
	}
	csp := header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'",
		"form-action 'self' https://client.example"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	for name, want := range map[string]string{"Content-Type": "text/html; charset=utf-8",
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"Cache-Control": "no-store"} {
		if got := header.Get(name); got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
	status, _, _ = doRaw(t, "HEAD", m.link, "")
	wantStatus(t, status, nil, http.StatusOK)

	status, out := addThreePID(t, srv, alice, sid, "cs")
	wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_AUTH_FAILED")

	status, _, page = doRaw(t, "POST", m.link, "https://evil.example")
	if status != http.StatusForbidden || !strings.Contains(page, "another site") {
		t.Errorf("POST from another origin: %d\n%s", status, page)
	}
	status, out = addThreePID(t, srv, alice, sid, "cs")
	wantError(t, status, out, http.StatusBadRequest, "M_THREEPID_AUTH_FAILED")

	status, header, _ = doRaw(t, "POST", m.link, srv.URL)
	if status != http.StatusSeeOther ||
		header.Get("Location") != "https://client.example/done?x=1" {
		t.Fatalf("POST the link: %d to %q, want 303 to next_link", status,
			header.Get("Location"))
	}
	status, out = addThreePID(t, srv, alice, sid, "cs")
	wantStatus(t, status, out, http.StatusOK)

	status, _, page = doRaw(t, "GET", m.link, "")
	if status != http.StatusBadRequest || !strings.Contains(page, "already used") {
		t.Errorf("GET a used link: %d\n%s", status, page)
	}
}

// TestConfirmationPageWithoutNextLink checks that a confirmation without next_link
// shows that the address is confirmed, that a confirmed link shows so again, and that
// the session then works.
func TestConfirmationPageWithoutNextLink(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t)
	const address = "plain@example.org"
	sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 1))
	m := readMail(t, mp, address)

	for range 2 {
		status, header, page := doRaw(t, "POST", m.link, "")
		if status != http.StatusOK || !strings.Contains(page, "is confirmed") ||
			header.Get("Location") != "" {
			t.Fatalf("POST the link: %d\n%s", status, page)
		}
	}
	status, _, page := doRaw(t, "GET", m.link, "")
	if status != http.StatusOK || !strings.Contains(page, `id="confirmed"`) {
		t.Errorf("GET a confirmed link: %d\n%s", status, page)
	}
	status, body := submit(t, srv, sid, "cs", m.code)
	wantStatus(t, status, body, http.StatusOK)
}

// TestConfirmationPageRefusals checks links that open nothing: a wrong token, the code
// in place of the token (codes are for the submit URL, where they are counted), an
// unknown sid, missing parameters, another medium, and a method the page does not
// serve.
func TestConfirmationPageRefusals(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t)
	sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", "refuse@example.org", 1))
	m := readMail(t, mp, "refuse@example.org")
	page := srv.URL + "/_mxaccounts/validate/email/confirm"

	for name, query := range map[string]url.Values{
		"a wrong token":  {"sid": {sid}, "token": {"WRONGTOKEN"}},
		"the code":       {"sid": {sid}, "token": {m.code}},
		"an unknown sid": {"sid": {"NOSUCHSID"}, "token": {m.token}},
		"no token":       {"sid": {sid}},
		"no sid":         {"token": {m.token}},
	} {
		for _, method := range []string{"GET", "POST"} {
			status, header, body := doRaw(t, method, page+"?"+query.Encode(), "")
			if status != http.StatusBadRequest || header.Get("Location") != "" ||
				!strings.Contains(body, "cannot be used") {
				t.Errorf("%s %s: %d\n%s", method, name, status, body)
			}
		}
	}

	status, _, body := doRaw(t, "GET", strings.Replace(m.link, "/email/", "/fax/", 1), "")
	if status != http.StatusNotFound || !strings.Contains(body, "M_UNRECOGNIZED") {
		t.Errorf("another medium: %d %s", status, body)
	}
	status, header, _ := doRaw(t, "PUT", m.link, "")
	if status != http.StatusMethodNotAllowed || !strings.Contains(header.Get("Allow"), "POST") {
		t.Errorf("PUT: %d, Allow %q", status, header.Get("Allow"))
	}

	// None of that validated the session.
	status, out := submit(t, srv, sid, "cs", m.code)
	wantStatus(t, status, out, http.StatusOK)
}
