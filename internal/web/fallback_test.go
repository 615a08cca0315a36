package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/password"
	"github.com/mxaccounts/mxaccounts/internal/ratelimit"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/internal/web"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// Values shared by the unit tests.
const (
	serverName = "localhost"
	siteKey    = "test-site-key"
	alice      = mxid.UserID("@alice:localhost")
	// alicePassword is alice's password; solved is the captcha answer the fake
	// verifier accepts.
	alicePassword = "Tq7-lantern-quokka-89!"
	solved        = "solved-captcha"

	stageToken     = uia.TypeRegistrationToken
	stageTerms     = uia.TypeTerms
	stageRecaptcha = uia.TypeRecaptcha
	stagePassword  = account.TypePassword
)

// env is the fallback pages over a real UIA engine on SQLite, served by httptest.
type env struct {
	url    string
	store  *sqlstore.Store
	engine *uia.Engine
	// token is a valid registration token.
	token string
}

// newEnv starts the pages. Registration offers two flows, token then terms, or the
// captcha alone; other operations need the password. The captcha verifier is a fake
// on loopback that accepts only the answer solved.
func newEnv(t *testing.T, opts web.Options) *env {
	t.Helper()
	ctx := context.Background()

	st, err := sqlstore.Open(ctx, sqlstore.Options{DataDir: t.TempDir(), Migrate: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })

	verifier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.PostFormValue("response") == solved {
			io.WriteString(w, `{"success": true}`)
			return
		}
		io.WriteString(w, `{"success": false}`)
	}))
	t.Cleanup(verifier.Close)

	flows := func(op uia.Operation) [][]string {
		if op == uia.OpRegister {
			return [][]string{{stageToken, stageTerms}, {stageRecaptcha}}
		}
		return [][]string{{stagePassword}}
	}
	engine := uia.New(st, flows, 30*time.Minute, uia.RegistrationToken{},
		uia.Terms{Policies: testPolicies},
		uia.Recaptcha{SiteKey: siteKey, Secret: "secret", VerifyURL: verifier.URL})
	hasher := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1,
		Parallelism: 1})
	accounts := account.New(account.Config{ServerName: serverName}, st, hasher,
		device.New(st, device.Config{}), engine)
	engine.AddStages(accounts.PasswordStage())

	err = st.CreateAccount(ctx, &store.Account{UserID: alice, Localpart: alice.Localpart(),
		PasswordHash: hasher.Hash(alicePassword), Kind: store.KindUser,
		CreatedMS: time.Now().UnixMilli()})
	if err != nil {
		t.Fatalf("create alice: %v", err)
	}
	tok := &store.RegistrationToken{Token: "valid-token", CreatedMS: time.Now().UnixMilli()}
	if err := st.CreateRegistrationToken(ctx, tok); err != nil {
		t.Fatalf("create registration token: %v", err)
	}

	opts.ServerName = serverName
	mux := http.NewServeMux()
	mux.Handle("/_matrix/client/v3/auth/{authType}/fallback/web", web.NewFallback(engine, opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, store: st, engine: engine, token: tok.Token}
}

// testPolicies are two policies: one in English and French, one in German only.
var testPolicies = []uia.Policy{
	{ID: "privacy", Version: "1.0", Languages: map[string]uia.PolicyText{
		"en": {Name: "Privacy policy", URL: "https://example.org/privacy-en"},
		"fr": {Name: "Politique de confidentialité", URL: "https://example.org/privacy-fr"},
	}},
	{ID: "tos", Version: "2", Languages: map[string]uia.PolicyText{
		"de": {Name: "Nutzungsbedingungen", URL: "https://example.org/agb"},
	}},
}

// register starts a registration and returns its UIA session ID.
func (e *env) register(t *testing.T) string {
	t.Helper()
	return e.start(t, &uia.Request{Operation: uia.OpRegister, Method: "POST",
		Path: "/register"})
}

// start sends the first request of a UIA session and returns the session ID.
func (e *env) start(t *testing.T, req *uia.Request) string {
	t.Helper()
	if req.Body == nil {
		req.Body = map[string]json.RawMessage{}
	}
	_, err := e.engine.Authenticate(context.Background(), req)
	var ch *mxerr.Challenge
	if !errors.As(err, &ch) {
		t.Fatalf("start UIA session: got %v, want a challenge", err)
	}
	return ch.Session
}

// completed returns the stages the session has completed.
func (e *env) completed(t *testing.T, session string) []string {
	t.Helper()
	sess, err := e.store.UIASession(context.Background(), session)
	if err != nil {
		t.Fatalf("read UIA session: %v", err)
	}
	return sess.Completed
}

// pageURL is the fallback page of stage for session.
func (e *env) pageURL(stage, session string) string {
	return e.url + "/_matrix/client/v3/auth/" + stage + "/fallback/web?session=" +
		url.QueryEscape(session)
}

// page is one answer of the pages.
type page struct {
	status int
	header http.Header
	body   string
	// cookie is the CSRF cookie it set, csrf its form token.
	cookie *http.Cookie
	csrf   string
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// fetch sends one request; header may be nil.
func fetch(t *testing.T, method, target string, form url.Values, header http.Header) page {
	t.Helper()

	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer of %s %s: %v", method, target, err)
	}

	p := page{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	if cs := resp.Cookies(); len(cs) > 0 {
		p.cookie = cs[0]
	}
	if m := csrfInput.FindStringSubmatch(p.body); m != nil {
		p.csrf = m[1]
	}
	return p
}

// open loads the stage's form and fails the test unless it is one.
func (e *env) open(t *testing.T, stage, session string) page {
	t.Helper()
	p := fetch(t, "GET", e.pageURL(stage, session), nil, nil)
	if p.status != http.StatusOK || p.cookie == nil || p.csrf == "" {
		t.Fatalf("GET %s page: status %d, cookie %v, csrf %q; want 200 with both\n%s",
			stage, p.status, p.cookie, p.csrf, p.body)
	}
	return p
}

// submit posts form from the page `from` as a browser on the same origin would.
func (e *env) submit(t *testing.T, stage, session string, from page, form url.Values) page {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", from.csrf)
	h := http.Header{"Origin": {e.url}, "Cookie": {from.cookie.String()}}
	return fetch(t, "POST", e.pageURL(stage, session), form, h)
}

// wantAlert fails the test unless p has the status and shows message in its alert.
func wantAlert(t *testing.T, p page, status int, message string) {
	t.Helper()
	if p.status != status {
		t.Errorf("status %d, want %d\n%s", p.status, status, p.body)
	}
	alert := regexp.MustCompile(`(?s)<div id="error" class="error" role="alert"><p>(.*?)</p>`)
	m := alert.FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(m[1], message) {
		t.Errorf("want an alert saying %q; page:\n%s", message, p.body)
	}
}

func TestFormsShowEachStage(t *testing.T) {
	e := newEnv(t, web.Options{})
	pwSession := e.start(t, &uia.Request{Operation: uia.OpPassword, Method: "POST",
		Path: "/account/password", Requester: alice})

	tests := []struct {
		name     string
		stage    string
		session  string
		language string
		want     []string
		wantCSP  []string
	}{
		{
			name: "token", stage: stageToken, session: e.register(t),
			want: []string{"<h1>Enter your registration token</h1>",
				`<label for="token">Registration token</label>`,
				`<input id="token" name="token" type="text" required`},
		},
		{
			name: "terms in the browser's language", stage: stageTerms,
			session: e.register(t), language: "fr-CA, fr;q=0.9, en;q=0.5",
			want: []string{"<h1>Accept the terms of service</h1>",
				`<a href="https://example.org/privacy-fr" lang="fr" hreflang="fr"`,
				"Politique de confidentialité", "version 1.0",
				// Only in German, so German whatever the browser asks for.
				`<a href="https://example.org/agb" lang="de"`, "Nutzungsbedingungen",
				`<button type="submit">I accept</button>`},
		},
		{
			name: "terms fall back to English", stage: stageTerms, session: e.register(t),
			language: "ja",
			want: []string{`<a href="https://example.org/privacy-en" lang="en"`,
				"Privacy policy"},
		},
		{
			name: "captcha", stage: stageRecaptcha, session: e.register(t),
			want: []string{`<div class="g-recaptcha" data-sitekey="test-site-key"></div>`,
				`<script src="https://www.google.com/recaptcha/api.js" async defer>`},
			wantCSP: []string{"script-src https://www.google.com/recaptcha/ " +
				"https://www.gstatic.com/recaptcha/;",
				"frame-src https://www.google.com/recaptcha/ " +
					"https://recaptcha.google.com/recaptcha/;"},
		},
		{
			name: "password of the session's user", stage: stagePassword, session: pwSession,
			want: []string{"<h1>Confirm your password</h1>",
				`<strong class="user">@alice:localhost</strong>`,
				`<label for="password">Password</label>`,
				`autocomplete="current-password"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fetch(t, "GET", e.pageURL(tt.stage, tt.session), nil,
				http.Header{"Accept-Language": {tt.language}})
			if p.status != http.StatusOK {
				t.Fatalf("status %d, want 200\n%s", p.status, p.body)
			}
			wantPageBasics(t, p)
			for _, w := range tt.want {
				if !strings.Contains(p.body, w) {
					t.Errorf("page lacks %q\n%s", w, p.body)
				}
			}
			csp := p.header.Get("Content-Security-Policy")
			for _, w := range tt.wantCSP {
				if !strings.Contains(csp, w) {
					t.Errorf("CSP %q lacks %q", csp, w)
				}
			}
			if tt.stage != stageRecaptcha && strings.Contains(csp, "script-src") {
				t.Errorf("a form without scripts allows some: %q", csp)
			}
		})
	}
}

// wantPageBasics checks what every form page has: the document's language, one main,
// the CSRF token and cookie, and the security headers.
func wantPageBasics(t *testing.T, p page) {
	t.Helper()

	for _, w := range []string{`<html lang="en">`, `<meta charset="utf-8">`,
		`name="csrf_token"`} {
		if !strings.Contains(p.body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if n := strings.Count(p.body, "<main"); n != 1 {
		t.Errorf("page has %d <main> elements, want 1", n)
	}
	wantSecurityHeaders(t, p.header)

	c := p.cookie
	switch {
	case c == nil:
		t.Fatal("no CSRF cookie set")
	case !c.HttpOnly || c.SameSite != http.SameSiteStrictMode:
		t.Errorf("CSRF cookie %q is not HttpOnly with SameSite=Strict", c.String())
	case !strings.HasPrefix(c.Path, "/_matrix/client/v3/auth/") ||
		!strings.HasSuffix(c.Path, "/fallback/web"):
		t.Errorf("CSRF cookie path %q is not the page's", c.Path)
	}
}

// wantSecurityHeaders checks the headers of every answer of the pages.
func wantSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()

	for k, v := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
		"Content-Type":           "text/html; charset=utf-8",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, w := range []string{"default-src 'none'", "style-src 'sha256-",
		"form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, w) {
			t.Errorf("CSP %q lacks %q", csp, w)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
	if h.Get("Cross-Origin-Opener-Policy") != "" {
		t.Error("a Cross-Origin-Opener-Policy would break window.opener.postMessage")
	}
}

func TestTokenStage(t *testing.T) {
	e := newEnv(t, web.Options{})
	session := e.register(t)
	form := e.open(t, stageToken, session)

	p := e.submit(t, stageToken, session, form, url.Values{"token": {"wrong-token"}})
	wantAlert(t, p, http.StatusUnauthorized,
		"This registration token is unknown, expired or used up.")
	if !strings.Contains(p.body, `aria-invalid="true" aria-describedby="error"`) {
		t.Error("the token field is not marked invalid")
	}

	p = e.submit(t, stageToken, session, form, url.Values{"token": {"  "}})
	wantAlert(t, p, http.StatusBadRequest, "Enter a registration token.")
	if got := e.completed(t, session); len(got) != 0 {
		t.Fatalf("completed %v after failures, want none", got)
	}

	p = e.submit(t, stageToken, session, form, url.Values{"token": {" " + e.token + " "}})
	wantDone(t, p)
	if got := e.completed(t, session); !slices.Equal(got, []string{stageToken}) {
		t.Errorf("completed %v, want [%s]", got, stageToken)
	}

	// A reload shows the done page again, so the client still hears of it.
	wantDone(t, fetch(t, "GET", e.pageURL(stageToken, session), nil, nil))
}

// wantDone checks the done page and that its CSP allows exactly its inline script and
// stylesheet, by hash.
func wantDone(t *testing.T, p page) {
	t.Helper()

	if p.status != http.StatusOK || !strings.Contains(p.body, "<h1>Step complete</h1>") {
		t.Fatalf("want the done page, got status %d\n%s", p.status, p.body)
	}
	wantSecurityHeaders(t, p.header)
	for _, w := range []string{"window.onAuthDone()",
		`window.opener.postMessage("authDone", "*")`} {
		if !strings.Contains(p.body, w) {
			t.Errorf("done page lacks %q", w)
		}
	}

	csp := p.header.Get("Content-Security-Policy")
	for _, tag := range []string{"script", "style"} {
		m := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`).FindStringSubmatch(p.body)
		if m == nil {
			t.Errorf("done page has no inline <%s>", tag)
			continue
		}
		sum := sha256.Sum256([]byte(m[1]))
		want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q does not allow the inline %s (%s)", csp, tag, want)
		}
	}
}

func TestTermsStage(t *testing.T) {
	e := newEnv(t, web.Options{})
	session := e.register(t)

	// The flow asks for the token first.
	form := e.open(t, stageTerms, session)
	p := e.submit(t, stageTerms, session, form, nil)
	wantAlert(t, p, http.StatusUnauthorized, "is not the next stage")

	tokenForm := e.open(t, stageToken, session)
	wantDone(t, e.submit(t, stageToken, session, tokenForm, url.Values{"token": {e.token}}))
	form = e.open(t, stageTerms, session)
	wantDone(t, e.submit(t, stageTerms, session, form, nil))
	if got := e.completed(t, session); !slices.Equal(got, []string{stageToken, stageTerms}) {
		t.Errorf("completed %v, want token and terms", got)
	}
}

func TestCaptchaStage(t *testing.T) {
	e := newEnv(t, web.Options{})
	session := e.register(t)
	form := e.open(t, stageRecaptcha, session)

	p := e.submit(t, stageRecaptcha, session, form, nil)
	wantAlert(t, p, http.StatusBadRequest, "Complete the check above")

	p = e.submit(t, stageRecaptcha, session, form,
		url.Values{"g-recaptcha-response": {"robot"}})
	wantAlert(t, p, http.StatusUnauthorized, "The captcha was not solved.")

	p = e.submit(t, stageRecaptcha, session, form,
		url.Values{"g-recaptcha-response": {solved}})
	wantDone(t, p)
}

func TestPasswordStage(t *testing.T) {
	e := newEnv(t, web.Options{})
	session := e.start(t, &uia.Request{Operation: uia.OpDeactivate, Method: "POST",
		Path: "/account/deactivate", Requester: alice})
	form := e.open(t, stagePassword, session)

	// The session's user is the one checked, whatever the form says.
	p := e.submit(t, stagePassword, session, form,
		url.Values{"user": {"@mallory:localhost"}, "password": {"not it"}})
	wantAlert(t, p, http.StatusUnauthorized, "")
	p = e.submit(t, stagePassword, session, form, url.Values{"password": {""}})
	wantAlert(t, p, http.StatusBadRequest, "Enter your password.")

	wantDone(t, e.submit(t, stagePassword, session, form,
		url.Values{"password": {alicePassword}}))
	if got := e.completed(t, session); !slices.Equal(got, []string{stagePassword}) {
		t.Errorf("completed %v, want the password stage", got)
	}
}

// TestPasswordStageRefusesSessionsWithoutAUser checks that the password page serves no
// session started without an access token: whoever started it chose what it does (a
// new password, a deactivation), so confirming it with someone else's password by a
// link would hand that account over.
func TestPasswordStageRefusesSessionsWithoutAUser(t *testing.T) {
	e := newEnv(t, web.Options{})
	for _, op := range []uia.Operation{uia.OpDeactivate, uia.OpPassword} {
		session := e.start(t, &uia.Request{Operation: op, Method: "POST",
			Path: "/account/" + string(op)})

		p := fetch(t, "GET", e.pageURL(stagePassword, session), nil, nil)
		if p.status != http.StatusForbidden || strings.Contains(p.body, "<form") {
			t.Errorf("%s: GET answered %d with a form; want 403 without one\n%s", op,
				p.status, p.body)
		}
		form := e.open(t, stageToken, e.register(t)) // a cookie and token of this site
		p = e.submit(t, stagePassword, session, form,
			url.Values{"user": {"alice"}, "password": {alicePassword}})
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "without signing in") {
			t.Errorf("%s: POST answered %d; want 403 saying why\n%s", op, p.status, p.body)
		}
		if got := e.completed(t, session); len(got) != 0 {
			t.Errorf("%s: completed %v; want nothing", op, got)
		}
	}
}

// TestPasswordStageNamesTheAction checks that the password page says what the user
// confirms, for each operation it serves.
func TestPasswordStageNamesTheAction(t *testing.T) {
	e := newEnv(t, web.Options{})
	for op, want := range map[uia.Operation]string{
		uia.OpDeactivate:   "deactivate this account for good",
		uia.OpPassword:     "change the password of this account",
		uia.OpDeleteDevice: "sign out and delete devices of this account",
	} {
		session := e.start(t, &uia.Request{Operation: op, Method: "POST",
			Path: "/op/" + string(op), Requester: alice})
		if p := fetch(t, "GET", e.pageURL(stagePassword, session), nil, nil); !strings.Contains(p.body, want) {
			t.Errorf("%s: the page does not say %q\n%s", op, want, p.body)
		}
	}
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t, web.Options{})
	session, other := e.register(t), e.register(t)
	form := e.open(t, stageToken, session)
	otherForm := e.open(t, stageToken, other)
	forged := &http.Cookie{Name: form.cookie.Name,
		Value: base64.RawURLEncoding.EncodeToString(make([]byte, 32))}

	tests := []struct {
		name   string
		cookie *http.Cookie
		csrf   string
	}{
		{"no cookie", nil, form.csrf},
		{"another cookie", forged, form.csrf},
		{"no form token", form.cookie, ""},
		{"the token of another session", otherForm.cookie, otherForm.csrf},
		{"a malformed token", form.cookie, "%%%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Origin": {e.url}}
			if tt.cookie != nil {
				h.Set("Cookie", tt.cookie.String())
			}
			p := fetch(t, "POST", e.pageURL(stageToken, session),
				url.Values{"csrf_token": {tt.csrf}, "token": {e.token}}, h)
			wantAlert(t, p, http.StatusForbidden, "This form has expired or did not come "+
				"from this page.")
			if got := e.completed(t, session); len(got) != 0 {
				t.Errorf("the stage completed: %v", got)
			}
			if p.csrf == "" || p.cookie == nil {
				t.Error("the form is not shown again with a new token")
			}
		})
	}
}

func TestOriginChecked(t *testing.T) {
	e := newEnv(t, web.Options{PublicBaseURL: "https://matrix.example.org/"})

	tests := []struct {
		name   string
		header http.Header
		ok     bool
	}{
		{"another site", http.Header{"Origin": {"http://evil.example"}}, false},
		{"an opaque origin", http.Header{"Origin": {"null"}}, false},
		{"an opaque origin from another site", http.Header{"Origin": {"null"},
			"Sec-Fetch-Site": {"cross-site"}}, false},
		// What browsers send for the page's own form under Referrer-Policy no-referrer.
		{"an opaque origin from this page", http.Header{"Origin": {"null"},
			"Sec-Fetch-Site": {"same-origin"}}, true},
		{"a malformed origin", http.Header{"Origin": {"127.0.0.1"}}, false},
		{"same host, other port", http.Header{"Origin": {"http://127.0.0.1:1"}}, false},
		{"a cross-site fetch", http.Header{"Sec-Fetch-Site": {"cross-site"}}, false},
		{"a same-site fetch", http.Header{"Sec-Fetch-Site": {"same-site"}}, false},
		{"the page's own origin", http.Header{"Origin": {e.url},
			"Sec-Fetch-Site": {"same-origin"}}, true},
		{"the public origin", http.Header{"Origin": {"https://matrix.example.org"}}, true},
		{"no Origin, as old clients send", http.Header{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			session := e.register(t)
			form := e.open(t, stageTerms, session)
			h := tt.header.Clone()
			h.Set("Cookie", form.cookie.String())
			p := fetch(t, "POST", e.pageURL(stageTerms, session),
				url.Values{"csrf_token": {form.csrf}}, h)

			if !tt.ok {
				wantAlert(t, p, http.StatusForbidden, "sent from another site")
				return
			}
			// Accepted: the terms stage then fails only for coming before the token.
			wantAlert(t, p, http.StatusUnauthorized, "is not the next stage")
		})
	}
}

func TestUnusableSessions(t *testing.T) {
	e := newEnv(t, web.Options{})
	consumed := e.register(t)
	if err := e.store.ConsumeUIASession(context.Background(), consumed); err != nil {
		t.Fatalf("consume session: %v", err)
	}

	tests := []struct {
		name, method, query, want string
	}{
		{"unknown, GET", "GET", "?session=nosuchsession", "no longer valid"},
		{"unknown, POST", "POST", "?session=nosuchsession", "no longer valid"},
		{"used", "GET", "?session=" + consumed, "no longer valid"},
		{"missing", "GET", "", "no session parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := e.url + "/_matrix/client/v3/auth/" + stageToken + "/fallback/web" +
				tt.query
			p := fetch(t, tt.method, target, url.Values{"token": {e.token}}, nil)
			wantAlert(t, p, http.StatusBadRequest, tt.want)
			wantSecurityHeaders(t, p.header)
			if strings.Contains(p.body, "<form") {
				t.Error("an error page shows a form")
			}
		})
	}
}

func TestUnknownAuthType(t *testing.T) {
	e := newEnv(t, web.Options{})
	p := fetch(t, "GET", e.pageURL("m.login.sso", e.register(t)), nil, nil)
	if p.status != http.StatusNotFound || !strings.Contains(p.body, `"M_UNRECOGNIZED"`) ||
		p.header.Get("Content-Type") != "application/json" {
		t.Errorf("got %d %s %s, want 404 M_UNRECOGNIZED as JSON", p.status,
			p.header.Get("Content-Type"), p.body)
	}
}

func TestFailedStagesAreRateLimited(t *testing.T) {
	e := newEnv(t, web.Options{FailureLimiter: ratelimit.New(0.001, 1, true)})
	session := e.register(t)
	form := e.open(t, stageToken, session)

	p := e.submit(t, stageToken, session, form, url.Values{"token": {"wrong-1"}})
	wantAlert(t, p, http.StatusUnauthorized, "unknown, expired or used up")
	p = e.submit(t, stageToken, session, form, url.Values{"token": {e.token}})
	wantAlert(t, p, http.StatusTooManyRequests, "Too many failed attempts.")
	if p.header.Get("Retry-After") == "" {
		t.Error("no Retry-After header")
	}
}
