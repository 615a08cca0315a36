package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// serverName is the server name of every test server (the configuration default).
const serverName = "localhost"

// authTypeRegistrationToken is the UIA stage of spec v1.2 that mautrix has no constant
// for.
const authTypeRegistrationToken mautrix.AuthType = "m.login.registration_token"

// mGuestAccessForbidden is the errcode for a guest calling an endpoint that guests may
// not use; mautrix has no value for it, and its errors.Is compares errcodes only.
var mGuestAccessForbidden = mautrix.RespError{ErrCode: "M_GUEST_ACCESS_FORBIDDEN"}

// registrationTokenAuth is the auth dict of the m.login.registration_token stage.
type registrationTokenAuth struct {
	mautrix.BaseAuthData
	Token string `json:"token"`
}

// whoamiResponse is the body of GET /account/whoami with is_guest, which mautrix's
// RespWhoami lacks.
type whoamiResponse struct {
	UserID   id.UserID   `json:"user_id"`
	DeviceID id.DeviceID `json:"device_id"`
	IsGuest  bool        `json:"is_guest"`
}

// startFunc starts a test server with opts on the database of the (sub)test it is
// given to; every server gets a fresh database of its own. The URL of the server it
// returns is that of its specproxy when envSpecProxy is set; Store, Config and
// RegistrationToken still reach the server itself.
type startFunc func(t *testing.T, opts ...testserver.Option) *testserver.Server

// onEachDatabase runs test in parallel subtests "sqlite" and "postgres", handing each a
// startFunc for its database. The postgres subtest is skipped, loudly, unless
// storetest.EnvPostgres is set.
func onEachDatabase(t *testing.T, test func(t *testing.T, start startFunc)) {
	t.Helper()

	t.Run(storetest.SQLite, func(t *testing.T) {
		t.Parallel()
		test(t, startSQLite)
	})
	t.Run(storetest.Postgres, func(t *testing.T) {
		t.Parallel()
		skipWithoutPostgres(t)
		test(t, startPostgres)
	})
}

// startSQLite starts a server on SQLite in a fresh temporary directory, behind
// specproxy when envSpecProxy is set (see behindSpecProxy).
func startSQLite(t *testing.T, opts ...testserver.Option) *testserver.Server {
	t.Helper()
	return behindSpecProxy(t, testserver.Start(t, opts...))
}

// startPostgres starts a server on a fresh PostgreSQL database, dropped when t ends,
// behind specproxy when envSpecProxy is set (see behindSpecProxy).
func startPostgres(t *testing.T, opts ...testserver.Option) *testserver.Server {
	t.Helper()

	db := testserver.WithDatabase(postgresURL(t))
	srv := testserver.Start(t, slices.Concat(opts, []testserver.Option{db})...)
	return behindSpecProxy(t, srv)
}

// postgresURL returns the URL of a fresh PostgreSQL database that is dropped when t
// ends. storetest creates it with a random name through the role storetest.EnvPostgres
// names.
func postgresURL(t *testing.T) string {
	t.Helper()
	return storetest.PostgresURL(t)
}

// skipWithoutPostgres skips t with a message naming storetest.EnvPostgres when it is
// not set; it fails t instead when storetest.EnvRequirePostgres is set too.
func skipWithoutPostgres(t *testing.T) {
	t.Helper()

	if os.Getenv(storetest.EnvPostgres) != "" {
		return
	}
	msg := fmt.Sprintf("*** PostgreSQL end-to-end tests SKIPPED: set %s to a "+
		"postgres:// URL of a role with CREATEDB to run them ***", storetest.EnvPostgres)
	if os.Getenv(storetest.EnvRequirePostgres) != "" {
		t.Fatalf("%s is set, but %s", storetest.EnvRequirePostgres, msg)
	}
	t.Skip(msg)
}

// newClient returns a mautrix client of srv without credentials.
func newClient(t *testing.T, srv *testserver.Server) *mautrix.Client {
	t.Helper()
	return clientAs(t, srv, "", "")
}

// clientAs returns a mautrix client of srv that sends accessToken as userID.
func clientAs(
	t *testing.T, srv *testserver.Server, userID id.UserID, accessToken string,
) *mautrix.Client {
	t.Helper()

	cli, err := mautrix.NewClient(srv.URL, userID, accessToken)
	if err != nil {
		t.Fatalf("mautrix.NewClient(%q): %v", srv.URL, err)
	}
	return cli
}

// registerWithToken registers username through UIA with a fresh registration token of
// srv: the first request must get the 401 challenge offering the token stage, the
// second completes it. It returns a client logged in as the new user.
func registerWithToken(
	t *testing.T, srv *testserver.Server, username, password string,
) (*mautrix.Client, *mautrix.RespRegister) {
	t.Helper()

	cli := newClient(t, srv)
	req := &mautrix.ReqRegister[any]{Username: username, Password: password}
	resp, uia, err := cli.Register(t.Context(), req)
	if err != nil || resp != nil || uia == nil {
		t.Fatalf("register %q without auth: got (%v, %v, %v), want a UIA challenge",
			username, resp, uia, err)
	}
	if !hasFlow(uia, authTypeRegistrationToken) {
		t.Fatalf("register %q: flows %v offer no [%s]", username, uia.Flows,
			authTypeRegistrationToken)
	}

	req.Auth = registrationTokenAuth{
		BaseAuthData: mautrix.BaseAuthData{Type: authTypeRegistrationToken,
			Session: uia.Session},
		Token: srv.RegistrationToken(t),
	}
	resp, uia, err = cli.Register(t.Context(), req)
	if err != nil || resp == nil {
		t.Fatalf("register %q with the token stage: got (%v, %+v, %v), want success",
			username, resp, uia, err)
	}

	return clientAs(t, srv, resp.UserID, resp.AccessToken), resp
}

// hasFlow reports whether uia offers a flow of exactly stages.
func hasFlow(uia *mautrix.RespUserInteractive, stages ...mautrix.AuthType) bool {
	for _, f := range uia.Flows {
		if slices.Equal(f.Stages, stages) {
			return true
		}
	}
	return false
}

// passwordLogin is the mautrix request of an m.login.password login with an m.id.user
// identifier.
func passwordLogin(user, password string) *mautrix.ReqLogin {
	return &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: user},
		Password:   password,
	}
}

// login logs user in with password and returns a client with the new access token.
func login(t *testing.T, srv *testserver.Server, user, password string) *mautrix.Client {
	t.Helper()

	resp, err := newClient(t, srv).Login(t.Context(), passwordLogin(user, password))
	if err != nil {
		t.Fatalf("log in as %q: %v", user, err)
	}
	cli := clientAs(t, srv, resp.UserID, resp.AccessToken)
	cli.DeviceID = resp.DeviceID
	return cli
}

// whoami calls GET /account/whoami through cli and decodes is_guest too.
func whoami(t *testing.T, cli *mautrix.Client) (*whoamiResponse, error) {
	t.Helper()

	var out whoamiResponse
	u := cli.BuildClientURL("v3", "account", "whoami")
	if _, err := cli.MakeRequest(t.Context(), http.MethodGet, u, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// checkMatrixError fails t unless err is mautrix's error for an HTTP answer with
// status and the errcode of want, and returns that answer.
func checkMatrixError(
	t *testing.T, err error, status int, want mautrix.RespError,
) mautrix.HTTPError {
	t.Helper()

	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Response == nil {
		t.Fatalf("got error %v (%T), want an HTTP %d %s answer", err, err, status,
			want.ErrCode)
	}
	if !errors.Is(err, want) {
		t.Errorf("got %v, want errcode %s", err, want.ErrCode)
	}
	if got := httpErr.Response.StatusCode; got != status {
		t.Errorf("got HTTP %d (%v), want %d", got, err, status)
	}
	return httpErr
}

// rawResponse is an answer read with net/http.
type rawResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// rawRequest sends a request with net/http, for what mautrix cannot send, and decodes
// the JSON object it gets back.
func rawRequest(t *testing.T, method, url string, header http.Header) *rawResponse {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, url, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the answer to %s %s: %v", method, url, err)
	}
	out := &rawResponse{Status: resp.StatusCode, Header: resp.Header}
	if err := json.Unmarshal(data, &out.Body); err != nil {
		t.Fatalf("%s %s: HTTP %d with a body that is no JSON object: %q (%v)", method,
			url, resp.StatusCode, data, err)
	}
	return out
}
