package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// grammarUserID matches a user ID whose localpart keeps to the spec's grammar for new
// accounts, on the test server.
var grammarUserID = regexp.MustCompile(`^@[a-z0-9._=/+-]+:` + serverName + `$`)

// tryRegister walks POST /register for body through UIA: the first request without
// auth, then the dummy stage when a flow of it alone is on offer, else the registration
// token stage with regToken. It returns the last answer; a first answer other than a
// 401 challenge is returned as it is.
func tryRegister(srv *testserver.Server, body map[string]any, regToken string) (
	int, map[string]any, error,
) {
	status, _, first, err := send("POST", api(srv, "/register"), "", body)
	if err != nil || status != http.StatusUnauthorized {
		return status, first, err
	}
	session, _ := first["session"].(string)
	flows, _ := first["flows"].([]any)

	auth := map[string]any{"session": session}
	switch {
	case hasFlow(flows, stageDummy):
		auth["type"] = stageDummy
	case hasFlow(flows, stageToken) && regToken != "":
		auth["type"], auth["token"] = stageToken, regToken
	default:
		return 0, nil, fmt.Errorf("no flow this helper can complete in %v", first)
	}

	status, _, final, err := send("POST", api(srv, "/register"), "",
		with(body, map[string]any{"auth": auth}))
	return status, final, err
}

// hasFlow reports whether flows holds a flow made of stage alone.
func hasFlow(flows []any, stage string) bool {
	for _, f := range flows {
		obj, _ := f.(map[string]any)
		stages, _ := obj["stages"].([]any)
		if len(stages) == 1 && stages[0] == stage {
			return true
		}
	}
	return false
}

// register walks the registration of body, with a fresh registration token when the
// server is not open, and returns the final answer.
func register(t *testing.T, srv *testserver.Server, body map[string]any) (
	int, map[string]any,
) {
	t.Helper()

	regToken := ""
	if !srv.Config.Registration.Open {
		regToken = srv.RegistrationToken(t)
	}
	status, out, err := tryRegister(srv, body, regToken)
	if err != nil {
		t.Fatalf("register %v: %v", body, err)
	}
	return status, out
}

// account is a registered user with one logged-in device.
type account struct {
	userID, password, token, deviceID string
}

// newAccount registers username with the shared password and returns the account.
func newAccount(t *testing.T, srv *testserver.Server, username string) account {
	t.Helper()

	status, body := register(t, srv, map[string]any{"username": username, "password": secret})
	wantStatus(t, status, body, http.StatusOK)
	return account{userID: str(t, body, "user_id"), password: secret,
		token: str(t, body, "access_token"), deviceID: str(t, body, "device_id")}
}

// countAccounts returns how many accounts srv holds.
func countAccounts(t *testing.T, srv *testserver.Server) int64 {
	t.Helper()

	n, err := srv.Store.CountAccounts(t.Context())
	if err != nil {
		t.Fatalf("count accounts: %v", err)
	}
	return n
}

// wantAvailable fails the test unless GET /register/available calls username free.
func wantAvailable(t *testing.T, srv *testserver.Server, username string) {
	t.Helper()

	status, _, body := do(t, "GET", api(srv, "/register/available?username="+
		url.QueryEscape(username)), "", nil)
	wantStatus(t, status, body, http.StatusOK)
	if body["available"] != true {
		t.Errorf("available is %v, want true", body["available"])
	}
}

// TestRegisterChallenge checks that a registration without auth never succeeds: the
// first request gets the 401 UIA challenge, whose flows include the one the
// configuration calls for.
func TestRegisterChallenge(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		opts     []testserver.Option
		body     map[string]any
		wantFlow []string
	}{
		{
			name:     "a token by default",
			body:     map[string]any{"username": "probe", "password": secret},
			wantFlow: []string{stageToken},
		},
		{
			name:     "open registration offers the dummy flow",
			opts:     []testserver.Option{testserver.WithOpenRegistration()},
			body:     map[string]any{"username": "probe", "password": secret},
			wantFlow: []string{stageDummy},
		},
		{
			name:     "an empty object is challenged too",
			opts:     []testserver.Option{testserver.WithOpenRegistration()},
			body:     map[string]any{},
			wantFlow: []string{stageDummy},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, tt.opts...)

			status, header, body := do(t, "POST", api(srv, "/register"), "", tt.body)

			wantStatus(t, status, body, http.StatusUnauthorized)
			wantJSON(t, header)
			flows := stagesOf(t, body)
			if !slices.ContainsFunc(flows, func(f []string) bool {
				return slices.Equal(f, tt.wantFlow)
			}) {
				t.Errorf("flows %v, want %v among them", flows, tt.wantFlow)
			}
			for _, f := range flows {
				if len(f) == 0 {
					t.Errorf("flows %v hold an empty flow", flows)
				}
			}
			str(t, body, "session")
			if got := completed(t, body); len(got) != 0 {
				t.Errorf("completed %v, want none", got)
			}
			if _, ok := body["params"].(map[string]any); !ok {
				t.Errorf("params is %#v, want an object", body["params"])
			}
			wantAbsent(t, body, "errcode", "user_id", "access_token")
			if n := countAccounts(t, srv); n != 0 {
				t.Errorf("%d accounts after a challenge, want 0", n)
			}
		})
	}
}

// TestRegisterThenWhoami registers through each flow and checks the answer and the
// access token it carries.
func TestRegisterThenWhoami(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts []testserver.Option
	}{
		{name: "registration token flow"},
		{name: "dummy flow", opts: []testserver.Option{testserver.WithOpenRegistration()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, tt.opts...)

			status, body := register(t, srv, map[string]any{"username": "alice",
				"password": secret})

			wantStatus(t, status, body, http.StatusOK)
			if body["user_id"] != "@alice:"+serverName {
				t.Errorf("user_id %v, want @alice:%s", body["user_id"], serverName)
			}
			if body["home_server"] != serverName {
				t.Errorf("home_server %v, want %s", body["home_server"], serverName)
			}
			token, device := str(t, body, "access_token"), str(t, body, "device_id")

			status, me := whoami(t, srv, token)
			wantStatus(t, status, me, http.StatusOK)
			if me["user_id"] != "@alice:"+serverName || me["device_id"] != device {
				t.Errorf("whoami %v, want @alice:%s on device %s", me, serverName, device)
			}
			if g, ok := me["is_guest"]; ok && g != false {
				t.Errorf("is_guest %v for a user, want absent or false", g)
			}
		})
	}
}

// TestRegisterUsernames checks which usernames register and as which user ID. A name
// outside the grammar is refused on the first request, before any UIA round; the spec
// would also let the server map it, but this server lower-cases capitals and refuses
// everything else.
func TestRegisterUsernames(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	// "@" + localpart + ":localhost" is 255 bytes, the most a user ID may have.
	longest := strings.Repeat("l", 255-len("@:"+serverName))

	tests := []usernameCase{
		{name: "plain", username: "plain", wantUserID: "@plain:localhost"},
		{name: "q", username: "xqy", wantUserID: "@xqy:localhost"},
		{name: "digit", username: "x3y", wantUserID: "@x3y:localhost"},
		{name: "dot", username: "x.y", wantUserID: "@x.y:localhost"},
		{name: "equals", username: "x=y", wantUserID: "@x=y:localhost"},
		{name: "dash", username: "x-y", wantUserID: "@x-y:localhost"},
		{name: "slash", username: "x/y", wantUserID: "@x/y:localhost"},
		{name: "plus", username: "x+y", wantUserID: "@x+y:localhost"},
		{name: "inner underscore", username: "x_y", wantUserID: "@x_y:localhost"},
		{name: "capitals lower-cased", username: "Bug01Mixed-Name",
			wantUserID: "@bug01mixed-name:localhost"},
		{name: "full user ID on this server", username: "@full:localhost",
			wantUserID: "@full:localhost"},
		{name: "longest user ID", username: longest,
			wantUserID: "@" + longest + ":localhost"},

		{name: "one byte too long", username: longest + "x", wantCode: "M_INVALID_USERNAME"},
		{name: "300 characters", username: strings.Repeat("a", 300),
			wantCode: "M_INVALID_USERNAME"},
		{name: "space and colon", username: "Mxc Bad:name", wantCode: "M_INVALID_USERNAME"},
		{name: "empty", username: "", wantCode: "M_INVALID_USERNAME"},
		{name: "full user ID on another server", username: "@evil:other.example",
			wantCode: "M_INVALID_USERNAME"},
		{name: "leading underscore", username: "_free", wantCode: "M_INVALID_USERNAME"},
		{name: "all digits", username: "123456789012345", wantCode: "M_INVALID_USERNAME"},
		{name: "reserved", username: "admin", wantCode: "M_USER_IN_USE"},
		{name: "reserved in capitals", username: "Admin", wantCode: "M_USER_IN_USE"},
	}
	for _, c := range "!\":?\\@[]{|}£é'#*, \n\t" {
		tests = append(tests, usernameCase{name: "illegal " + charName(c),
			username: "bad" + string(c) + "name", wantCode: "M_INVALID_USERNAME"})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"username": tt.username, "password": secret}

			status, _, first := do(t, "POST", api(srv, "/register"), "", body)
			if tt.wantCode != "" {
				wantError(t, status, first, http.StatusBadRequest, tt.wantCode)
				return
			}
			wantStatus(t, status, first, http.StatusUnauthorized)

			status, final := register(t, srv, body)
			wantStatus(t, status, final, http.StatusOK)
			if final["user_id"] != tt.wantUserID {
				t.Errorf("user_id %v, want %s", final["user_id"], tt.wantUserID)
			}
		})
	}
}

// usernameCase is one username given to POST /register.
type usernameCase struct {
	name     string
	username string
	// wantUserID is the user ID registered; empty when wantCode refuses the name.
	wantUserID string
	wantCode   string
}

// charName names a character for a subtest.
func charName(c rune) string {
	switch c {
	case ' ':
		return "space"
	case '\n':
		return "newline"
	case '\t':
		return "tab"
	}
	return string(c)
}

// TestRegisterWithoutUsername checks that the server picks a grammar-conforming
// localpart when no request of the session names one.
func TestRegisterWithoutUsername(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	status, body := register(t, srv, map[string]any{"password": secret})

	wantStatus(t, status, body, http.StatusOK)
	userID := str(t, body, "user_id")
	if !grammarUserID.MatchString(userID) {
		t.Errorf("generated user_id %q breaks the grammar", userID)
	}

	status, me := whoami(t, srv, str(t, body, "access_token"))
	wantStatus(t, status, me, http.StatusOK)
	if me["user_id"] != userID {
		t.Errorf("whoami user_id %v, want %s", me["user_id"], userID)
	}

	status, out := login(t, srv, userID, secret, nil)
	wantStatus(t, status, out, http.StatusOK)
}

// TestRegisterTakenName checks that a registered name, in any case, is taken for
// /register/available and refused by /register before UIA.
func TestRegisterTakenName(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	newAccount(t, srv, "Bug01Mixed-Taken")

	for _, name := range []string{"bug01mixed-taken", "BUG01MIXED-TAKEN", "Bug01Mixed-Taken",
		"@bug01mixed-taken:" + serverName} {
		t.Run(name, func(t *testing.T) {
			status, _, body := do(t, "GET", api(srv, "/register/available?username="+
				url.QueryEscape(name)), "", nil)
			wantError(t, status, body, http.StatusBadRequest, "M_USER_IN_USE")

			status, _, body = do(t, "POST", api(srv, "/register"), "",
				map[string]any{"username": name, "password": secret})
			wantError(t, status, body, http.StatusBadRequest, "M_USER_IN_USE")
		})
	}

	if n := countAccounts(t, srv); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
}

// TestRegisterAvailable checks GET /register/available: 200 {available: true} for a free
// name and a 400 naming the reason otherwise, never available: false.
func TestRegisterAvailable(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration(), testserver.WithGuests())
	newAccount(t, srv, "taken")

	status, _, guest := do(t, "POST", api(srv, "/register?kind=guest"), "",
		map[string]any{})
	wantStatus(t, status, guest, http.StatusOK)
	guestLocalpart := strings.TrimPrefix(strings.Split(str(t, guest, "user_id"), ":")[0], "@")

	tests := []struct {
		name     string
		query    string
		wantCode string // empty: available
	}{
		{name: "free", query: "?username=free"},
		{name: "free in capitals", query: "?username=FREE"},
		{name: "taken", query: "?username=taken", wantCode: "M_USER_IN_USE"},
		{name: "taken in capitals", query: "?username=TaKeN", wantCode: "M_USER_IN_USE"},
		{name: "reserved", query: "?username=admin", wantCode: "M_USER_IN_USE"},
		{name: "a guest's localpart", query: "?username=" + guestLocalpart,
			wantCode: "M_INVALID_USERNAME"},
		{name: "all digits", query: "?username=123456789012345",
			wantCode: "M_INVALID_USERNAME"},
		{name: "comma", query: "?username=av%2Cbad", wantCode: "M_INVALID_USERNAME"},
		{name: "leading underscore", query: "?username=_x", wantCode: "M_INVALID_USERNAME"},
		{name: "300 characters", query: "?username=" + strings.Repeat("a", 300),
			wantCode: "M_INVALID_USERNAME"},
		{name: "empty", query: "?username=", wantCode: "M_INVALID_USERNAME"},
		{name: "no username parameter", query: "", wantCode: "M_MISSING_PARAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			status, header, body := do(t, "GET", api(srv, "/register/available"+tt.query),
				"", nil)

			wantJSON(t, header)
			if tt.wantCode != "" {
				wantError(t, status, body, http.StatusBadRequest, tt.wantCode)
				return
			}
			wantStatus(t, status, body, http.StatusOK)
			if body["available"] != true {
				t.Errorf("available %v, want true", body["available"])
			}
		})
	}
}

// TestRegisterInhibitLogin checks that inhibit_login registers the account without
// logging it in, and that it can log in afterwards.
func TestRegisterInhibitLogin(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	status, body := register(t, srv, map[string]any{"username": "carol", "password": secret,
		"inhibit_login": true, "refresh_token": true})

	wantStatus(t, status, body, http.StatusOK)
	if body["user_id"] != "@carol:"+serverName {
		t.Errorf("user_id %v, want @carol:%s", body["user_id"], serverName)
	}
	wantAbsent(t, body, "access_token", "device_id", "refresh_token", "expires_in_ms")

	carol := loginAs(t, srv, account{userID: "@carol:" + serverName, password: secret})
	status, me := whoami(t, srv, carol.token)
	wantStatus(t, status, me, http.StatusOK)
	if me["user_id"] != carol.userID {
		t.Errorf("whoami user_id %v, want %s", me["user_id"], carol.userID)
	}
}

// TestRegisterDeviceID checks that a requested device ID is the one the new session
// gets.
func TestRegisterDeviceID(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	status, body := register(t, srv, map[string]any{"username": "u", "password": secret,
		"device_id": "BUG12DEV"})

	wantStatus(t, status, body, http.StatusOK)
	if body["device_id"] != "BUG12DEV" {
		t.Errorf("device_id %v, want BUG12DEV", body["device_id"])
	}
	status, me := whoami(t, srv, str(t, body, "access_token"))
	wantStatus(t, status, me, http.StatusOK)
	if me["device_id"] != "BUG12DEV" || me["user_id"] != "@u:"+serverName {
		t.Errorf("whoami %v, want @u:%s on BUG12DEV", me, serverName)
	}
	wantAbsent(t, me, "is_guest")
}

// TestRegisterConcurrentSameName races ten registrations of one name, each through its
// own UIA session: exactly one gets the account and the others M_USER_IN_USE.
func TestRegisterConcurrentSameName(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	const racers = 10

	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		statuses [racers]int
		bodies   [racers]map[string]any
		errs     [racers]error
	)
	for i := range racers {
		wg.Go(func() {
			<-start
			statuses[i], bodies[i], errs[i] = tryRegister(srv,
				map[string]any{"username": "race", "password": secret}, "")
		})
	}
	close(start)
	wg.Wait()

	winner := ""
	for i := range racers {
		switch {
		case errs[i] != nil:
			t.Errorf("racer %d: %v", i, errs[i])
		case statuses[i] == http.StatusOK:
			if winner != "" {
				t.Errorf("racer %d also registered: %v", i, bodies[i])
			}
			winner = str(t, bodies[i], "user_id")
		case statuses[i] != http.StatusBadRequest || bodies[i]["errcode"] != "M_USER_IN_USE":
			t.Errorf("racer %d: %d %v, want 200 or 400 M_USER_IN_USE", i, statuses[i],
				bodies[i])
		}
	}
	if winner != "@race:"+serverName {
		t.Fatalf("winner %q, want @race:%s", winner, serverName)
	}
	if n := countAccounts(t, srv); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}

	race := loginAs(t, srv, account{userID: winner, password: secret})
	status, me := whoami(t, srv, race.token)
	wantStatus(t, status, me, http.StatusOK)
	if me["user_id"] != winner {
		t.Errorf("whoami user_id %v, want %s", me["user_id"], winner)
	}
}

// TestRegisterAppServiceType checks that the application-service login type needs a
// valid as_token, and that a refused attempt creates no account.
func TestRegisterAppServiceType(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	body := map[string]any{"type": "m.login.application_service", "username": "plain"}

	tests := []struct {
		name     string
		token    string
		wantCode string
	}{
		{name: "no token", wantCode: "M_MISSING_TOKEN"},
		{name: "unknown token", token: "not_an_as_token", wantCode: "M_UNKNOWN_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, out := do(t, "POST", api(srv, "/register"), tt.token, body)

			wantError(t, status, out, http.StatusUnauthorized, tt.wantCode)
			wantAbsent(t, out, "flows")
			wantAvailable(t, srv, "plain")
		})
	}
}

// TestRegisterGuest checks guest registration: no UIA, every field but the device
// display name ignored, and a token that whoami knows as a guest's.
func TestRegisterGuest(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithGuests())

	tests := []struct {
		name string
		body any
	}{
		{name: "fields it must ignore", body: map[string]any{"username": "guestname",
			"password": secret, "device_id": "BUG11DEV", "initial_device_display_name": "G",
			"inhibit_login": true, "auth": map[string]any{"type": stageDummy}}},
		{name: "empty object", body: map[string]any{}},
		{name: "ill-typed fields", body: map[string]any{"username": 12, "device_id": false,
			"type": 7, "inhibit_login": "yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, "POST", api(srv, "/register?kind=guest"), "", tt.body)

			wantStatus(t, status, body, http.StatusOK)
			userID, device := str(t, body, "user_id"), str(t, body, "device_id")
			token := str(t, body, "access_token")
			if !grammarUserID.MatchString(userID) || strings.HasPrefix(userID, "@guestname:") {
				t.Errorf("guest user_id %q: want a generated, grammar-conforming one", userID)
			}
			if device == "BUG11DEV" {
				t.Error("the guest got the device ID it asked for; the server must pick one")
			}
			wantAvailable(t, srv, "guestname")

			status, me := whoami(t, srv, token)
			wantStatus(t, status, me, http.StatusOK)
			if me["user_id"] != userID || me["device_id"] != device || me["is_guest"] != true {
				t.Errorf("whoami %v, want %s on %s with is_guest true", me, userID, device)
			}
		})
	}
}

// TestRegisterRefused checks the 403 and 400 answers that come before any UIA: a kind
// the server does not allow or know, and registration switched off.
func TestRegisterRefused(t *testing.T) {
	t.Parallel()

	disabled := testserver.WithConfig(func(c *config.Config) {
		c.Registration.Enabled = false
	})
	tests := []struct {
		name       string
		opts       []testserver.Option
		query      string
		wantStatus int
		wantCode   string
	}{
		{name: "guests off", query: "?kind=guest", wantStatus: http.StatusForbidden,
			wantCode: "M_FORBIDDEN"},
		{name: "unknown kind", query: "?kind=admin", wantStatus: http.StatusBadRequest,
			wantCode: "M_INVALID_PARAM"},
		{name: "registration off", opts: []testserver.Option{disabled},
			wantStatus: http.StatusForbidden, wantCode: "M_FORBIDDEN"},
		{name: "registration off, dummy auth", opts: []testserver.Option{disabled,
			testserver.WithOpenRegistration()}, wantStatus: http.StatusForbidden,
			wantCode: "M_FORBIDDEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Start(t, tt.opts...)

			status, header, body := do(t, "POST", api(srv, "/register"+tt.query), "",
				map[string]any{"username": "u", "password": secret,
					"auth": map[string]any{"type": stageDummy}})

			wantJSON(t, header)
			wantError(t, status, body, tt.wantStatus, tt.wantCode)
			wantAbsent(t, body, "flows")
			if n := countAccounts(t, srv); n != 0 {
				t.Errorf("%d accounts, want 0", n)
			}
		})
	}
}

// TestRegisterFieldTypes checks that a field of the wrong JSON type is a 400 before UIA,
// never a challenge, and creates nothing.
func TestRegisterFieldTypes(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	tests := []struct {
		name  string
		field string
		value any
	}{
		{name: "number for username", field: "username", value: 123},
		{name: "string for refresh_token", field: "refresh_token", value: "yes"},
		{name: "string for inhibit_login", field: "inhibit_login", value: "yes"},
		{name: "number for device_id", field: "device_id", value: 5},
		{name: "object for display name", field: "initial_device_display_name",
			value: map[string]any{}},
		{name: "number for password", field: "password", value: 12345},
		{name: "string for auth", field: "auth", value: "m.login.dummy"},
		{name: "number for auth.type", field: "auth", value: map[string]any{"type": 1}},
		{name: "number for type", field: "type", value: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"username": "typed", "password": secret}
			body[tt.field] = tt.value

			status, _, out := do(t, "POST", api(srv, "/register"), "", body)

			wantError(t, status, out, http.StatusBadRequest, "M_BAD_JSON")
			wantAbsent(t, out, "flows", "session")
		})
	}
	if n := countAccounts(t, srv); n != 0 {
		t.Errorf("%d accounts, want 0", n)
	}
}

// TestRegistrationTokenValidity checks GET .../m.login.registration_token/validity.
func TestRegistrationTokenValidity(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	ctx := t.Context()
	now := time.Now().UnixMilli()

	one, past := int64(1), now-1000
	tokens := []*store.RegistrationToken{
		{Token: "unlimited", CreatedMS: now},
		{Token: "used-up", UsesAllowed: &one, CreatedMS: now},
		{Token: "expired", ExpiryMS: &past, CreatedMS: now},
	}
	for _, tok := range tokens {
		if err := srv.Store.CreateRegistrationToken(ctx, tok); err != nil {
			t.Fatalf("create token %s: %v", tok.Token, err)
		}
	}
	status, body := tryRegisterWith(t, srv, "spender", "used-up", "")
	wantStatus(t, status, body, http.StatusOK)

	tests := []struct {
		name      string
		query     string
		wantValid bool
		wantCode  string
	}{
		{name: "valid", query: "?token=unlimited", wantValid: true},
		{name: "never issued", query: "?token=nosuchtoken"},
		{name: "uses spent", query: "?token=used-up"},
		{name: "expired", query: "?token=expired"},
		{name: "outside the grammar", query: "?token=bad%21token"},
		{name: "65 characters", query: "?token=" + strings.Repeat("t", 65)},
		{name: "empty", query: "?token="},
		{name: "no token parameter", wantCode: "M_MISSING_PARAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, "GET", srv.URL+validityPath+tt.query, "", nil)

			wantJSON(t, header)
			if tt.wantCode != "" {
				wantError(t, status, body, http.StatusBadRequest, tt.wantCode)
				return
			}
			wantStatus(t, status, body, http.StatusOK)
			if body["valid"] != tt.wantValid {
				t.Errorf("valid %v, want %v", body["valid"], tt.wantValid)
			}
		})
	}
}

// TestRegistrationTokenValidityDisabled checks that the check is 403 M_FORBIDDEN when
// registration is off, since then no token is valid.
func TestRegistrationTokenValidityDisabled(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Registration.Enabled = false
	}))

	status, _, body := do(t, "GET", srv.URL+validityPath+"?token=abc", "", nil)

	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
}

// TestRegistrationTokenStage checks the failures of the m.login.registration_token
// stage: each is a 401 carrying the errcode and the whole challenge, without the stage
// in completed, and the session can still finish with a good token.
func TestRegistrationTokenStage(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	body := map[string]any{"username": "u", "password": secret}

	status, _, first := do(t, "POST", api(srv, "/register"), "", body)
	wantStatus(t, status, first, http.StatusUnauthorized)
	session := str(t, first, "session")

	tests := []struct {
		name     string
		auth     map[string]any
		wantCode string
	}{
		{name: "no token", auth: map[string]any{}, wantCode: "M_MISSING_PARAM"},
		{name: "number for a token", auth: map[string]any{"token": 1234},
			wantCode: "M_INVALID_PARAM"},
		{name: "65 characters", auth: map[string]any{"token": strings.Repeat("t", 65)},
			wantCode: "M_INVALID_PARAM"},
		{name: "outside the grammar", auth: map[string]any{"token": "bad token"},
			wantCode: "M_INVALID_PARAM"},
		{name: "never issued", auth: map[string]any{"token": "nosuchtoken"},
			wantCode: "M_FORBIDDEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := with(tt.auth, map[string]any{"type": stageToken, "session": session})

			status, _, out := do(t, "POST", api(srv, "/register"), "",
				with(body, map[string]any{"auth": auth}))

			wantError(t, status, out, http.StatusUnauthorized, tt.wantCode)
			if out["session"] != session {
				t.Errorf("session %v, want %s", out["session"], session)
			}
			if len(stagesOf(t, out)) == 0 {
				t.Error("the failed stage's answer has no flows")
			}
			if slices.Contains(completed(t, out), stageToken) {
				t.Errorf("completed %v lists the failed stage", out["completed"])
			}
		})
	}

	status, out := tryRegisterWith(t, srv, "u", srv.RegistrationToken(t), session)
	wantStatus(t, status, out, http.StatusOK)
	if out["user_id"] != "@u:"+serverName {
		t.Errorf("user_id %v, want @u:%s", out["user_id"], serverName)
	}
}

// tryRegisterWith registers username with the registration token tok through the token
// stage, in session, or in a new session when session is empty.
func tryRegisterWith(t *testing.T, srv *testserver.Server, username, tok, session string) (
	int, map[string]any,
) {
	t.Helper()

	body := map[string]any{"username": username, "password": secret}
	auth := map[string]any{"type": stageToken, "token": tok}
	if session != "" {
		auth["session"] = session
	}
	status, _, out := do(t, "POST", api(srv, "/register"), "",
		with(body, map[string]any{"auth": auth}))
	return status, out
}
