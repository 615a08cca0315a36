package httpapi_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestRequestTokenRefusesBadRequests checks the spec's rules on the requestToken body
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3registeremailrequesttoken):
// client_secret grammar, a bare email address, an integer send_attempt, an http(s)
// next_link, and the JSON errors, on each of the three endpoints. Nothing is mailed.
func TestRequestTokenRefusesBadRequests(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t)
	ok := tokenBody("cs", "bad@example.org", 1)

	tests := []struct {
		name string
		body any
		code string
	}{
		{"no client_secret", map[string]any{"email": "bad@example.org", "send_attempt": 1},
			"M_MISSING_PARAM"},
		{"client_secret with ~", with(ok, map[string]any{"client_secret": "a~b"}),
			"M_INVALID_PARAM"},
		{"empty client_secret", with(ok, map[string]any{"client_secret": ""}),
			"M_INVALID_PARAM"},
		{"client_secret of 256 characters", with(ok, map[string]any{
			"client_secret": strings.Repeat("a", 256)}), "M_INVALID_PARAM"},
		{"client_secret not a string", with(ok, map[string]any{"client_secret": 7}),
			"M_BAD_JSON"},
		{"no email", map[string]any{"client_secret": "cs", "send_attempt": 1},
			"M_MISSING_PARAM"},
		{"not an address", with(ok, map[string]any{"email": "bad.example.org"}),
			"M_INVALID_PARAM"},
		{"a display name", with(ok, map[string]any{"email": "Bad <bad@example.org>"}),
			"M_INVALID_PARAM"},
		{"angle brackets", with(ok, map[string]any{"email": "<bad@example.org>"}),
			"M_INVALID_PARAM"},
		{"a domain literal", with(ok, map[string]any{"email": "bad@[127.0.0.1]"}),
			"M_INVALID_PARAM"},
		{"two addresses", with(ok, map[string]any{"email": "a@example.org, b@example.org"}),
			"M_INVALID_PARAM"},
		{"no send_attempt", map[string]any{"client_secret": "cs", "email": "bad@example.org"},
			"M_MISSING_PARAM"},
		{"send_attempt as a string", with(ok, map[string]any{"send_attempt": "1"}),
			"M_INVALID_PARAM"},
		{"send_attempt as a fraction", with(ok, map[string]any{"send_attempt": 1.5}),
			"M_INVALID_PARAM"},
		{"a file: next_link", with(ok, map[string]any{"next_link": "file:///etc/passwd"}),
			"M_INVALID_PARAM"},
		{"a javascript: next_link", with(ok, map[string]any{
			"next_link": "javascript:alert(1)"}), "M_INVALID_PARAM"},
		{"a relative next_link", with(ok, map[string]any{"next_link": "/done"}),
			"M_INVALID_PARAM"},
		{"not JSON", rawBody(`{"client_secret":`), "M_NOT_JSON"},
		{"not an object", rawBody(`["cs"]`), "M_BAD_JSON"},
	}
	for _, purpose := range []string{forRegister, forPassword, forThreePID} {
		for _, tt := range tests {
			t.Run(purpose+"/"+tt.name, func(t *testing.T) {
				status, _, body := do(t, "POST", api(srv, purpose+"/email/requestToken"), "",
					tt.body)
				wantError(t, status, body, http.StatusBadRequest, tt.code)
			})
		}
	}
	mp.NoMessage(t, "bad@example.org", 300*time.Millisecond)
}

// TestRequestTokenAcceptsGrammar checks the edges of what is allowed: a client_secret
// of 255 characters with every character of the grammar, a negative send_attempt, an
// address with a quoted-free unusual local part, and an id_server, which is ignored.
func TestRequestTokenAcceptsGrammar(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t)

	secret := strings.Repeat("aZ09.=_-", 31) + "abcdefg"
	body := with(tokenBody(secret, "o.brien+tag@example.org", -3), map[string]any{
		"next_link": "HTTPS://client.example/done?x=1", "id_server": "id.example.org",
		"id_access_token": "ignored"})
	mustRequestToken(t, srv, forThreePID, body)
	readMail(t, mp, "o.brien+tag@example.org")
}

// TestRequestTokenSendAttempt checks send_attempt: a repeat that is not higher mails
// nothing and answers the same sid; a higher one mails a new token (the old code then
// fails) under the same sid; another client secret is another session.
func TestRequestTokenSendAttempt(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t)
	const address = "attempts@example.org"

	sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 1))
	first := readMail(t, mp, address)
	if first.sid != sid {
		t.Errorf("the link names sid %s, want %s", first.sid, sid)
	}

	if again := mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 1)); again != sid {
		t.Errorf("a repeat answered sid %s, want %s", again, sid)
	}
	mp.NoMessage(t, address, 500*time.Millisecond)

	if higher := mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 2)); higher != sid {
		t.Errorf("send_attempt 2 answered sid %s, want %s", higher, sid)
	}
	second := readMail(t, mp, address)
	if second.code == first.code && second.token == first.token {
		t.Errorf("the second mail repeats the first's token and code")
	}

	if lower := mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 1)); lower != sid {
		t.Errorf("send_attempt 1 after 2 answered sid %s, want %s", lower, sid)
	}
	mp.NoMessage(t, address, 500*time.Millisecond)

	status, body := submit(t, srv, sid, "cs", first.token)
	wantError(t, status, body, http.StatusBadRequest, "M_TOKEN_INCORRECT")
	status, body = submit(t, srv, sid, "cs", second.code)
	wantStatus(t, status, body, http.StatusOK)

	// Validated: even a higher attempt sends nothing more.
	mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 3))
	mp.NoMessage(t, address, 500*time.Millisecond)

	other := mustRequestToken(t, srv, forRegister, tokenBody("other", address, 1))
	if other == sid {
		t.Errorf("another client_secret got the same sid %s", sid)
	}
	readMail(t, mp, address)
}

// TestRequestTokenPreconditions checks that registration and adding need an address
// no account holds (M_THREEPID_IN_USE), a password reset one an account holds
// (M_THREEPID_NOT_FOUND), in case-folded comparison, and that an unused address passes
// registration and adding.
func TestRequestTokenPreconditions(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")
	addEmail(t, srv, mp, alice, "strauss@example.com")

	tests := []struct {
		name, purpose, address string
		code                   string
	}{
		{"register an address in use", forRegister, "strauss@example.com",
			"M_THREEPID_IN_USE"},
		{"register a case variant", forRegister, "Strauß@Example.COM", "M_THREEPID_IN_USE"},
		{"add an address in use", forThreePID, "STRAUSS@example.com", "M_THREEPID_IN_USE"},
		{"reset for an unknown address", forPassword, "nobody@example.com",
			"M_THREEPID_NOT_FOUND"},
		{"register a free address", forRegister, "free@example.com", ""},
		{"add a free address", forThreePID, "free2@example.com", ""},
		{"reset for a case variant", forPassword, "STRAUß@example.com", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := requestToken(t, srv, tt.purpose,
				tokenBody("cs-"+strconv.Itoa(i), tt.address, 1))
			if tt.code != "" {
				wantError(t, status, body, http.StatusBadRequest, tt.code)
				return
			}
			wantStatus(t, status, body, http.StatusOK)
		})
	}
	readMail(t, mp, "free@example.com")
	readMail(t, mp, "free2@example.com")
	reset := readMail(t, mp, "strauss@example.com")
	if !strings.Contains(reset.subject, "password") {
		t.Errorf("the reset mail's subject is %q", reset.subject)
	}
}

// TestRequestTokenPolicy checks the domain lists (403 M_THREEPID_DENIED, subdomains
// included), the next_link allow-list, and M_THREEPID_MEDIUM_NOT_SUPPORTED for phone
// numbers and for email on a server without it.
func TestRequestTokenPolicy(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithConfig(func(c *config.Config) {
		c.Email.AllowedDomains = []string{"example.org", "Corp.Example"}
		c.Email.DeniedDomains = []string{"spam.example.org"}
		c.Email.NextLinkDomains = []string{"client.example"}
	}))

	tests := []struct {
		name, address, nextLink string
		status                  int
		code                    string
	}{
		{"an allowed domain", "a@example.org", "", 200, ""},
		{"a subdomain of one", "a@mail.corp.example", "", 200, ""},
		{"a domain not allowed", "a@example.com", "", 403, "M_THREEPID_DENIED"},
		{"a denied subdomain", "a@spam.example.org", "", 403, "M_THREEPID_DENIED"},
		{"next_link on the list", "b@example.org", "https://app.client.example/x", 200, ""},
		{"next_link off the list", "c@example.org", "https://evil.example/x", 400,
			"M_INVALID_PARAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tokenBody("cs", tt.address, 1)
			if tt.nextLink != "" {
				body["next_link"] = tt.nextLink
			}
			status, out := requestToken(t, srv, forThreePID, body)
			if tt.code != "" {
				wantError(t, status, out, tt.status, tt.code)
				return
			}
			wantStatus(t, status, out, tt.status)
		})
	}
	readMail(t, mp, "a@example.org")

	plain := testserver.Start(t)
	for _, purpose := range []string{forRegister, forPassword, forThreePID} {
		status, _, body := do(t, "POST", api(srv, purpose+"/msisdn/requestToken"), "",
			map[string]any{"client_secret": "cs", "country": "GB",
				"phone_number": "07700900123", "send_attempt": 1})
		wantError(t, status, body, http.StatusBadRequest, "M_THREEPID_MEDIUM_NOT_SUPPORTED")

		status, body2 := requestToken(t, plain, purpose, tokenBody("cs", "a@example.org", 1))
		wantError(t, status, body2, http.StatusBadRequest, "M_THREEPID_MEDIUM_NOT_SUPPORTED")
	}
}

// TestRequestTokenHideExistence checks email.hide_existence: the three endpoints answer
// 200 with a sid and a submit_url whatever the address, a repeat keeps the sid, and an
// address that cannot be validated for the purpose gets a notice without a token,
// whose session no token validates.
func TestRequestTokenHideExistence(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration(),
		testserver.WithConfig(func(c *config.Config) { c.Email.HideExistence = true }))
	alice := newAccount(t, srv, "alice")
	addEmail(t, srv, mp, alice, "taken@example.org")

	tests := []struct {
		name, purpose, address string
		// notice is a phrase of the notice sent instead of a validation; "" when a
		// validation goes out.
		notice string
	}{
		{"register an address in use", forRegister, "taken@example.org",
			"already belongs to an account"},
		{"add an address in use", forThreePID, "Taken@Example.org",
			"already belongs to an account"},
		{"reset for an unknown address", forPassword, "nobody@example.org",
			"no account there has it"},
		{"register a free address", forRegister, "free@example.org", ""},
		{"reset for a known address", forPassword, "taken@example.org", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sid := mustRequestToken(t, srv, tt.purpose, tokenBody("cs", tt.address, 1))
			if again := mustRequestToken(t, srv, tt.purpose,
				tokenBody("cs", tt.address, 1)); again != sid {
				t.Errorf("a repeat answered sid %s, want %s", again, sid)
			}

			to := strings.ToLower(tt.address)
			if tt.notice == "" {
				readMail(t, mp, to)
				return
			}
			msg := mp.Wait(t, to)
			if !strings.Contains(msg.Text, tt.notice) || strings.Contains(msg.Text, "token=") {
				t.Errorf("the notice to %s reads:\n%s", to, msg.Text)
			}
			status, body := submit(t, srv, sid, "cs", "000000")
			wantError(t, status, body, http.StatusBadRequest, "M_TOKEN_INCORRECT")
		})
	}
}

// TestSubmitToken checks the submit URL: no access token, the link's token and the
// code (spaces allowed) both validate, and the spec's errors (v1.18) for everything
// else, including the cap on wrong tokens, which a new message lifts.
func TestSubmitToken(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithConfig(func(c *config.Config) {
		c.Email.MaxTokenAttempts = 3
	}))

	t.Run("link token", func(t *testing.T) {
		sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", "link@example.org", 1))
		m := readMail(t, mp, "link@example.org")
		status, header, body := do(t, "POST", submitURL(srv), "",
			map[string]any{"sid": sid, "client_secret": "cs", "token": m.token})
		wantStatus(t, status, body, http.StatusOK)
		if body["success"] != true || header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("answer %v with CORS origin %q", body,
				header.Get("Access-Control-Allow-Origin"))
		}
		// Submitting again is still a success.
		status, body = submit(t, srv, sid, "cs", m.token)
		wantStatus(t, status, body, http.StatusOK)
	})

	t.Run("code with spaces", func(t *testing.T) {
		sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", "code@example.org", 1))
		m := readMail(t, mp, "code@example.org")
		status, body := submit(t, srv, sid, "cs", " "+m.code[:3]+" "+m.code[3:])
		wantStatus(t, status, body, http.StatusOK)
	})

	t.Run("errors", func(t *testing.T) {
		sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", "err@example.org", 1))
		m := readMail(t, mp, "err@example.org")
		tests := []struct {
			name string
			body any
			code string
		}{
			{"no token", map[string]any{"sid": sid, "client_secret": "cs"},
				"M_MISSING_PARAM"},
			{"no sid", map[string]any{"client_secret": "cs", "token": m.code},
				"M_MISSING_PARAM"},
			{"a bad sid", map[string]any{"sid": "a b", "client_secret": "cs",
				"token": m.code}, "M_INVALID_PARAM"},
			{"an unknown sid", map[string]any{"sid": "NOSUCHSID", "client_secret": "cs",
				"token": m.code}, "M_INVALID_PARAM"},
			{"another client secret", map[string]any{"sid": sid, "client_secret": "other",
				"token": m.code}, "M_INVALID_PARAM"},
			{"a token too long", map[string]any{"sid": sid, "client_secret": "cs",
				"token": strings.Repeat("1", 256)}, "M_INVALID_PARAM"},
			{"a token not a string", map[string]any{"sid": sid, "client_secret": "cs",
				"token": 123456}, "M_BAD_JSON"},
		}
		for _, tt := range tests {
			status, _, body := do(t, "POST", submitURL(srv), "", tt.body)
			if status != http.StatusBadRequest || body["errcode"] != tt.code {
				t.Errorf("%s: %d %v, want 400 %s", tt.name, status, body, tt.code)
			}
		}
		status, _, body := do(t, "POST", srv.URL+"/_mxaccounts/validate/fax/submitToken",
			"", map[string]any{"sid": sid, "client_secret": "cs", "token": m.code})
		wantError(t, status, body, http.StatusNotFound, "M_UNRECOGNIZED")
	})

	t.Run("wrong tokens lock the message", func(t *testing.T) {
		const address = "guess@example.org"
		sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 1))
		m := readMail(t, mp, address)
		for _, guess := range []string{"000000", "111111", "222222"} {
			if guess == m.code {
				continue
			}
			status, body := submit(t, srv, sid, "cs", guess)
			wantError(t, status, body, http.StatusBadRequest, "M_TOKEN_INCORRECT")
		}
		status, body := submit(t, srv, sid, "cs", m.code)
		wantError(t, status, body, http.StatusBadRequest, "M_SESSION_EXPIRED")

		mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 2))
		m = readMail(t, mp, address)
		status, body = submit(t, srv, sid, "cs", m.code)
		wantStatus(t, status, body, http.StatusOK)
	})
}

// TestSubmitTokenExpired checks that a token past email.token_lifetime is
// M_SESSION_EXPIRED, and that a new requestToken then starts a new session.
func TestSubmitTokenExpired(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithConfig(func(c *config.Config) {
		c.Email.TokenLifetime = time.Second
	}))

	sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", "late@example.org", 1))
	m := readMail(t, mp, "late@example.org")
	time.Sleep(1100 * time.Millisecond)

	status, body := submit(t, srv, sid, "cs", m.code)
	wantError(t, status, body, http.StatusBadRequest, "M_SESSION_EXPIRED")
	status, _, page := doRaw(t, "GET", m.link, "")
	if status != http.StatusBadRequest || !strings.Contains(page, "expired") {
		t.Errorf("the expired link's page: %d\n%s", status, page)
	}

	if fresh := mustRequestToken(t, srv, forRegister,
		tokenBody("cs", "late@example.org", 1)); fresh == sid {
		t.Errorf("an expired session was given out again")
	}
	readMail(t, mp, "late@example.org")
}

// TestRequestTokenRateLimit checks that requestToken is limited per client address,
// with 429 M_LIMIT_EXCEEDED and Retry-After, before anything is mailed.
func TestRequestTokenRateLimit(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithRateLimits(),
		testserver.WithConfig(func(c *config.Config) {
			c.RateLimits.RequestToken = config.Rate{PerSecond: 0.01, Burst: 2}
		}))

	for i := range 2 {
		mustRequestToken(t, srv, forRegister, tokenBody("cs", "flood@example.org", i+1))
	}
	status, header, body := do(t, "POST", api(srv, forRegister+"/email/requestToken"), "",
		tokenBody("cs", "other@example.org", 1))
	wantError(t, status, body, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	if header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After header on the 429")
	}
	mp.NoMessage(t, "other@example.org", 300*time.Millisecond)
}

// TestRequestTokenSendFailure checks that a message the SMTP server does not take is a
// 500 that says so without its cause, and is not counted as sent: the same request
// tries again instead of answering 200 for a message that never went out.
func TestRequestTokenSendFailure(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	srv := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Email.SMTPURL, c.Email.From = "smtp+insecure://"+closed, "noreply@example.org"
		c.Email.SMTPTimeout = 2 * time.Second
	}))

	for range 2 {
		status, body := requestToken(t, srv, forRegister, tokenBody("cs", "a@example.org", 1))
		wantError(t, status, body, http.StatusInternalServerError, "M_UNKNOWN")
		if msg, _ := body["error"].(string); strings.Contains(msg, closed) {
			t.Errorf("the error names the SMTP server: %q", msg)
		}
	}
}
