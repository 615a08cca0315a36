package identitytest_test

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/identity/identitytest"
	"github.com/mxaccounts/mxaccounts/internal/signing"
)

const unbindBody = `{"mxid":"@a:hs.example","threepid":{"medium":"email",` +
	`"address":"a@example.org"}}`

// TestFakeRefusals checks the fake's answers to requests the homeserver should never
// send, so that tests relying on it fail loudly rather than pass by accident.
func TestFakeRefusals(t *testing.T) {
	key, err := signing.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	fake := identitytest.New(t, identitytest.Options{Homeserver: "hs.example",
		HomeserverKeys: map[string]ed25519.PublicKey{key.ID: key.Public()}})

	elsewhere, err := signing.AuthorizationHeader(signing.Request{Method: "POST",
		URI: "/_matrix/identity/v2/3pid/unbind", Origin: "hs.example",
		Destination: "is.other.example", ForIdentityServer: true,
		Content: []byte(unbindBody)}, key)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path, auth, body string
		wantStatus             int
		wantCode               string
	}{
		{"unbind without authorization", "/_matrix/identity/v2/3pid/unbind", "",
			unbindBody, 403, "M_UNAUTHORIZED"},
		{"unbind with a bearer token", "/_matrix/identity/v2/3pid/unbind",
			"Bearer " + identitytest.DefaultAccessToken, unbindBody, 403, "M_UNAUTHORIZED"},
		{"unbind addressed to another server", "/_matrix/identity/v2/3pid/unbind",
			elsewhere, unbindBody, 401, "M_UNAUTHORIZED"},
		{"unbind without threepid", "/_matrix/identity/v2/3pid/unbind", elsewhere,
			`{"mxid":"@a:hs.example"}`, 400, "M_MISSING_PARAM"},
		{"bind without token", "/_matrix/identity/v2/3pid/bind", "",
			`{"sid":"s","client_secret":"c","mxid":"@a:hs.example"}`, 401, "M_UNAUTHORIZED"},
		{"bind without sid", "/_matrix/identity/v2/3pid/bind",
			"Bearer " + identitytest.DefaultAccessToken,
			`{"client_secret":"c","mxid":"@a:hs.example"}`, 400, "M_MISSING_PARAM"},
		{"unknown endpoint", "/_matrix/identity/v2/3pid/frobnicate", "", `{}`, 404,
			"M_UNRECOGNIZED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", fake.URL()+tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()

			var e struct {
				Code string `json:"errcode"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tt.wantStatus || e.Code != tt.wantCode {
				t.Errorf("answer %d %s, want %d %s", resp.StatusCode, e.Code, tt.wantStatus,
					tt.wantCode)
			}
		})
	}
}
