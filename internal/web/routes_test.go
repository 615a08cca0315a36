package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestServerRoutesFallbackPages checks the wiring in the real server: the pages answer
// under v3 and r0 without an access token, and an auth type without a page gets the
// JSON 404 of the API.
func TestServerRoutesFallbackPages(t *testing.T) {
	srv := testserver.Start(t)
	status, body := postJSON(t, srv.URL+"/_matrix/client/v3/register",
		`{"username": "bob", "password": "Tq7-lantern-quokka-89!"}`)
	session, _ := body["session"].(string)
	if status != http.StatusUnauthorized || session == "" {
		t.Fatalf("start registration: %d %v, want 401 with a session", status, body)
	}

	tests := []struct {
		name, path  string
		status      int
		contentType string
		want        string
	}{
		{"v3", "/_matrix/client/v3/auth/m.login.registration_token/fallback/web",
			http.StatusOK, "text/html; charset=utf-8", "Enter your registration token"},
		{"r0", "/_matrix/client/r0/auth/m.login.registration_token/fallback/web",
			http.StatusOK, "text/html; charset=utf-8", "Enter your registration token"},
		{"encoded auth type", "/_matrix/client/v3/auth/m%2Elogin%2Eterms/fallback/web",
			http.StatusOK, "text/html; charset=utf-8", "Accept the terms of service"},
		{"no page for the auth type", "/_matrix/client/v3/auth/m.login.sso/fallback/web",
			http.StatusNotFound, "application/json", `"M_UNRECOGNIZED"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fetch(t, "GET", srv.URL+tt.path+"?session="+session, nil, nil)
			if p.status != tt.status || p.header.Get("Content-Type") != tt.contentType ||
				!strings.Contains(p.body, tt.want) {
				t.Errorf("got %d %q, want %d %q with %q\n%s", p.status,
					p.header.Get("Content-Type"), tt.status, tt.contentType, tt.want, p.body)
			}
			if p.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
}
