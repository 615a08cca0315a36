package client_test

import (
	"net/http"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TestVersionsAndWellKnown reads the real server's versions and discovery information,
// without and with an access token.
func TestVersionsAndWellKnown(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	for name, c := range map[string]*client.Client{
		"anonymous": newClient(t, srv.URL, client.Tokens{}),
		"logged in": loggedIn(t, srv, "nora"),
	} {
		v, err := c.Versions(t.Context())
		if err != nil {
			t.Fatalf("%s: versions: %v", name, err)
		}
		if !v.Supports("v1.13") {
			t.Errorf("%s: versions %v do not include v1.13", name, v.Versions)
		}

		wk, err := c.WellKnown(t.Context())
		if err != nil {
			t.Fatalf("%s: well-known: %v", name, err)
		}
		if wk.Homeserver.BaseURL != srv.Config.PublicBaseURL {
			t.Errorf("%s: base_url %q, want %q", name, wk.Homeserver.BaseURL,
				srv.Config.PublicBaseURL)
		}
	}
}

// TestWellKnownAnswers checks discovery answers the real server never gives: extra
// keys, an identity server, no discovery information, and no base URL.
func TestWellKnownAnswers(t *testing.T) {
	t.Parallel()
	const path = "GET /.well-known/matrix/client"

	t.Run("full", func(t *testing.T) {
		t.Parallel()
		fs := newFakeServer(t, map[string]http.HandlerFunc{path: answer(http.StatusOK,
			`{"m.homeserver":{"base_url":"https://hs.example/"},`+
				`"m.identity_server":{"base_url":"https://is.example"},`+
				`"org.example.flag":true}`)})

		wk, err := fs.client(t, client.Tokens{AccessToken: "at"}).WellKnown(t.Context())
		if err != nil {
			t.Fatalf("well-known: %v", err)
		}
		if wk.Homeserver.BaseURL != "https://hs.example/" || wk.IdentityServer == nil ||
			wk.IdentityServer.BaseURL != "https://is.example" ||
			string(wk.Extra["org.example.flag"]) != "true" {
			t.Errorf("discovery %+v", wk)
		}
		if got := fs.last(t).Authorization; got != "" {
			t.Errorf("Authorization %q sent to .well-known, want none", got)
		}
	})

	t.Run("none", func(t *testing.T) {
		t.Parallel()
		fs := newFakeServer(t, map[string]http.HandlerFunc{
			path: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "404 page not found", http.StatusNotFound)
			}})

		_, err := fs.client(t, client.Tokens{}).WellKnown(t.Context())
		e := wantMatrixError(t, err, mxerr.ErrUnknown, http.StatusNotFound)
		if e.Message == "" {
			t.Error("the error message does not say what came back")
		}
	})

	t.Run("no base URL", func(t *testing.T) {
		t.Parallel()
		fs := newFakeServer(t, map[string]http.HandlerFunc{
			path: answer(http.StatusOK, `{"m.identity_server":{"base_url":"https://is"}}`)})

		if _, err := fs.client(t, client.Tokens{}).WellKnown(t.Context()); err == nil {
			t.Error("no error for discovery information without m.homeserver")
		}
	})
}

// TestCapabilities checks the request and the defaults of absent capabilities against
// a fake server; mxaccounts does not serve /capabilities yet.
func TestCapabilities(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name                          string
		body                          string
		password, threePIDs, loginTok bool
	}{
		{"all absent", `{"capabilities":{}}`, true, true, false},
		{"all set", `{"capabilities":{"m.change_password":{"enabled":false},` +
			`"m.3pid_changes":{"enabled":false},"m.get_login_token":{"enabled":true},` +
			`"m.room_versions":{"default":"10","available":{"10":"stable"}},` +
			`"org.example.cap":{"x":1}}}`, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeServer(t, map[string]http.HandlerFunc{
				"GET /_matrix/client/v3/capabilities": answer(http.StatusOK, tt.body)})

			resp, err := fs.client(t, client.Tokens{AccessToken: "at"}).
				Capabilities(t.Context())
			if err != nil {
				t.Fatalf("capabilities: %v", err)
			}
			caps := &resp.Capabilities
			if caps.CanChangePassword() != tt.password ||
				caps.CanChangeThreePIDs() != tt.threePIDs ||
				caps.CanGetLoginToken() != tt.loginTok {
				t.Errorf("password %v, 3PIDs %v, login token %v; want %v, %v, %v",
					caps.CanChangePassword(), caps.CanChangeThreePIDs(),
					caps.CanGetLoginToken(), tt.password, tt.threePIDs, tt.loginTok)
			}
			if got := fs.last(t).Authorization; got != "Bearer at" {
				t.Errorf("Authorization %q, want Bearer at", got)
			}
		})
	}

	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"GET /_matrix/client/v3/capabilities": answer(http.StatusOK,
			`{"capabilities":{"m.room_versions":{"default":"10","available":{"10":"stable"}},`+
				`"org.example.cap":{"x":1}}}`)})
	resp, err := fs.client(t, client.Tokens{}).Capabilities(t.Context())
	if err != nil {
		t.Fatalf("capabilities: %v", err)
	}
	rv := resp.Capabilities.RoomVersions
	if rv == nil || rv.Default != "10" || rv.Available["10"] != "stable" ||
		string(resp.Capabilities.Extra["org.example.cap"]) != `{"x":1}` {
		t.Errorf("capabilities %+v, want room versions and the extra key", resp.Capabilities)
	}
}

// TestCapabilitiesRealServer reads the real server's capabilities.
func TestCapabilitiesRealServer(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := loggedIn(t, srv, "rose")

	resp, err := c.Capabilities(t.Context())
	if err != nil {
		t.Fatalf("capabilities: %v", err)
	}
	if !resp.Capabilities.CanChangePassword() {
		t.Error("the server says passwords cannot be changed, yet it serves /account/password")
	}

	_, err = newClient(t, srv.URL, client.Tokens{}).Capabilities(t.Context())
	wantMatrixError(t, err, mxerr.ErrMissingToken, http.StatusUnauthorized)
}
