package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/mailpittest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// requireEmail makes registration need a validated email address.
func requireEmail() testserver.Option {
	return testserver.WithConfig(func(c *config.Config) { c.Email.RequireForRegistration = true })
}

// emailStage is the auth dict of the email stage in session, with the credentials
// under key (threepid_creds, or the legacy threepidCreds).
func emailStage(session, key, sid, cs string) map[string]any {
	return map[string]any{"auth": map[string]any{"type": stageEmail, "session": session,
		key: map[string]any{"sid": sid, "client_secret": cs}}}
}

// TestRegisterFlowsWithEmail checks the registration flows when an email address is
// required: the email stage alone with open registration, after the token otherwise;
// and that nothing changes when it is not required.
func TestRegisterFlowsWithEmail(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts []testserver.Option
		want [][]string
	}{
		{"open", []testserver.Option{testserver.WithOpenRegistration(), requireEmail()},
			[][]string{{stageEmail}}},
		{"by token", []testserver.Option{requireEmail()},
			[][]string{{stageToken, stageEmail}}},
		{"email not required", []testserver.Option{testserver.WithOpenRegistration()},
			[][]string{{stageDummy}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := emailServer(t, tt.opts...)
			status, _, body := do(t, "POST", api(srv, "/register"), "",
				map[string]any{"username": "probe", "password": secret})
			wantStatus(t, status, body, http.StatusUnauthorized)
			if got := stagesOf(t, body); !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("flows %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRegisterWithEmail registers through the email stage on each database: an
// unvalidated session fails the stage with the challenge, the legacy threepidCreds key
// works, the address joins the new account, a replay of the finished request is the
// challenge with the stage completed, and the spent session registers nothing more.
func TestRegisterWithEmail(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, db testserver.Option) {
		srv, mp := emailServer(t, db, testserver.WithOpenRegistration(), requireEmail())
		const address = "Newcomer@Example.org"
		body := map[string]any{"username": "newcomer", "password": secret}

		sid := mustRequestToken(t, srv, forRegister, tokenBody("cs", address, 1))
		session := startSession(t, srv, body)
		status, _, out := do(t, "POST", api(srv, "/register"), "",
			with(body, emailStage(session, "threepid_creds", sid, "cs")))
		wantError(t, status, out, http.StatusUnauthorized, "M_THREEPID_AUTH_FAILED")
		if slices.Contains(completed(t, out), stageEmail) {
			t.Fatalf("an unvalidated session completed the stage: %v", out)
		}

		m := readMail(t, mp, "newcomer@example.org")
		if status, _ := submit(t, srv, sid, "cs", m.token); status != http.StatusOK {
			t.Fatalf("submit the link's token: %d", status)
		}
		finish := with(body, emailStage(session, "threepidCreds", sid, "cs"))
		status, _, out = do(t, "POST", api(srv, "/register"), "", finish)
		wantStatus(t, status, out, http.StatusOK)
		user := account{userID: str(t, out, "user_id"), token: str(t, out, "access_token"),
			password: secret}
		if list := threePIDs(t, srv, user); !hasAddress(list, "newcomer@example.org") {
			t.Errorf("the new account lists %v, want its address", list)
		}

		status, _, out = do(t, "POST", api(srv, "/register"), "", finish)
		wantStatus(t, status, out, http.StatusUnauthorized)
		if !slices.Contains(completed(t, out), stageEmail) {
			t.Errorf("the replay answered %v, want the stage listed as completed", out)
		}

		second := map[string]any{"username": "second", "password": secret}
		session2 := startSession(t, srv, second)
		status, _, out = do(t, "POST", api(srv, "/register"), "",
			with(second, emailStage(session2, "threepid_creds", sid, "cs")))
		wantError(t, status, out, http.StatusUnauthorized, "M_THREEPID_AUTH_FAILED")
		wantAvailable(t, srv, "second")
	})
}

// TestRegisterEmailStageRefusals checks the other sessions the email stage refuses: one
// validated for another purpose, a wrong client_secret, missing credentials, and an
// address that an account took after it was validated.
func TestRegisterEmailStageRefusals(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration(), requireEmail())
	body := map[string]any{"username": "hopeful", "password": secret}

	forAdding := validated(t, srv, mp, forThreePID, "cs", "adding@example.org")
	fresh := validated(t, srv, mp, forRegister, "cs", "fresh@example.org")
	taken := validated(t, srv, mp, forRegister, "cs", "raced@example.org")
	owner := validated(t, srv, mp, forRegister, "cs2", "raced@example.org")
	session := startSession(t, srv, map[string]any{"username": "owner", "password": secret})
	status, _, out := do(t, "POST", api(srv, "/register"), "", with(map[string]any{
		"username": "owner", "password": secret},
		emailStage(session, "threepid_creds", owner, "cs2")))
	wantStatus(t, status, out, http.StatusOK)

	creds := func(sid, cs string) map[string]any {
		return map[string]any{"sid": sid, "client_secret": cs}
	}
	tests := []struct {
		name  string
		creds map[string]any
		code  string
	}{
		{"a session for adding", creds(forAdding, "cs"), "M_THREEPID_AUTH_FAILED"},
		{"a wrong client_secret", creds(fresh, "wrong"), "M_THREEPID_AUTH_FAILED"},
		{"no credentials", nil, "M_MISSING_PARAM"},
		{"an address taken since", creds(taken, "cs"), "M_THREEPID_IN_USE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := map[string]any{"type": stageEmail, "session": startSession(t, srv, body)}
			if tt.creds != nil {
				auth["threepid_creds"] = tt.creds
			}
			status, _, out := do(t, "POST", api(srv, "/register"), "",
				with(body, map[string]any{"auth": auth}))
			wantError(t, status, out, http.StatusUnauthorized, tt.code)
			wantAvailable(t, srv, "hopeful")
		})
	}
}

// TestPasswordResetByEmail checks POST /account/password without an access token: the
// flows add the email stage to the password, a validated reset session changes the
// password of the address's account and logs out its devices (unless logout_devices is
// false), the account's addresses are told, and sessions that do not fit fail.
func TestPasswordResetByEmail(t *testing.T) {
	t.Parallel()
	srv, mp := emailServer(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")
	addEmail(t, srv, mp, alice, "alice@example.org")

	status, _, challenge := do(t, "POST", api(srv, "/account/password"), "",
		map[string]any{"new_password": secret + "-new"})
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	want := [][]string{{"m.login.password"}, {stageEmail}}
	if got := stagesOf(t, challenge); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("tokenless flows %v, want %v", got, want)
	}
	status, _, withToken := do(t, "POST", api(srv, "/account/password"), alice.token,
		map[string]any{"new_password": secret + "-new"})
	wantStatus(t, status, withToken, http.StatusUnauthorized)
	if got := stagesOf(t, withToken); !slices.EqualFunc(got, want[:1], slices.Equal) {
		t.Errorf("flows with a token %v, want %v", got, want[:1])
	}

	t.Run("refused sessions", func(t *testing.T) {
		forAdding := validated(t, srv, mp, forThreePID, "cs", "other@example.org")
		unvalidated := mustRequestToken(t, srv, forPassword,
			tokenBody("cs", "alice@example.org", 1))
		readMail(t, mp, "alice@example.org")
		for _, sid := range []string{forAdding, unvalidated} {
			session := str(t, challenge, "session")
			status, _, out := do(t, "POST", api(srv, "/account/password"), "",
				with(map[string]any{"new_password": secret + "-new"},
					emailStage(session, "threepid_creds", sid, "cs")))
			wantError(t, status, out, http.StatusUnauthorized, "M_THREEPID_AUTH_FAILED")
		}
	})

	t.Run("logout_devices false keeps the devices", func(t *testing.T) {
		other := loginAs(t, srv, alice)
		reset(t, srv, mp, "Alice@Example.org", secret+"-kept", false)
		if status, _ := whoami(t, srv, other.token); status != http.StatusOK {
			t.Errorf("a device was logged out with logout_devices false: %d", status)
		}
		alice.password = secret + "-kept"
		loginAs(t, srv, alice)
	})

	t.Run("by default every device goes", func(t *testing.T) {
		reset(t, srv, mp, "alice@example.org", secret+"-reset", true)
		if status, _ := whoami(t, srv, alice.token); status != http.StatusUnauthorized {
			t.Errorf("alice's device survived the reset: %d", status)
		}
		status, body := login(t, srv, alice.userID, secret+"-kept", nil)
		wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
		alice.password = secret + "-reset"
		loginAs(t, srv, alice)
	})
}

// reset resets the password of address's account by email to newPassword, asking to
// keep the other devices unless logout, and checks the notice that follows.
func reset(t *testing.T, srv *testserver.Server, mp *mailpittest.Server,
	address, newPassword string, logout bool,
) {
	t.Helper()

	sid := mustRequestToken(t, srv, forPassword, tokenBody("cs-reset", address, 1))
	canonical := strings.ToLower(address)
	m := readMail(t, mp, canonical)
	if status, out := submit(t, srv, sid, "cs-reset", m.code); status != http.StatusOK {
		t.Fatalf("submit the code: %d %v", status, out)
	}

	body := map[string]any{"new_password": newPassword}
	if !logout {
		body["logout_devices"] = false
	}
	status, _, challenge := do(t, "POST", api(srv, "/account/password"), "", body)
	wantStatus(t, status, challenge, http.StatusUnauthorized)
	status, _, out := do(t, "POST", api(srv, "/account/password"), "", with(body,
		emailStage(str(t, challenge, "session"), "threepid_creds", sid, "cs-reset")))
	wantStatus(t, status, out, http.StatusOK)

	notice := mp.Wait(t, canonical)
	if !strings.Contains(notice.Subject, "password was changed") {
		t.Errorf("after the reset %s got %q", canonical, notice.Subject)
	}
}
