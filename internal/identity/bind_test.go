package identity

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/identity/identitytest"
	"github.com/mxaccounts/mxaccounts/internal/signing"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

func TestBindUnbindRoundTrip(t *testing.T) {
	hs := newHomeserver(t)
	fake := newFake(t, hs)
	client := newClient(t, hs)
	ctx := context.Background()

	fake.AddSession(identitytest.Session{SID: "s1", ClientSecret: "secret",
		Medium: "email", Address: "alice@example.org", Validated: true})

	assoc, err := client.Bind(ctx, BindRequest{IDServer: fake.Name(),
		IDAccessToken: identitytest.DefaultAccessToken, SID: "s1", ClientSecret: "secret",
		UserID: "@alice:hs.example"})
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	if assoc.Medium != "email" || assoc.Address != "alice@example.org" ||
		assoc.UserID != "@alice:hs.example" || assoc.TS == 0 {
		t.Errorf("association %+v", assoc)
	}

	// The association carries the fake's signature over the rest of it.
	keyID, pub := fake.PublicKey()
	if _, ok := assoc.Signatures[fake.Name()][keyID]; !ok {
		t.Errorf("association signatures %v lack %s", assoc.Signatures, keyID)
	}
	signed, _ := signing.CanonicalJSON(assoc)
	if err := signing.VerifyJSON(signed, fake.Name(), keyID, pub); err != nil {
		t.Errorf("association signature: %v", err)
	}
	if u, ok := fake.Binding("email", "alice@example.org"); !ok || u != "@alice:hs.example" {
		t.Fatalf("fake holds binding %q, %v after Bind", u, ok)
	}

	result, err := client.Unbind(ctx, UnbindRequest{IDServer: fake.Name(),
		UserID: "@alice:hs.example", Medium: "email", Address: "alice@example.org"})
	if err != nil || result != UnbindSuccess {
		t.Fatalf("Unbind = %q, %v; want success", result, err)
	}
	if _, ok := fake.Binding("email", "alice@example.org"); ok {
		t.Error("the binding survived the unbind")
	}
}

// TestBindErrorsForwarded checks that the identity server's errors come back as
// *mxerr.Error with its status and errcode, for the homeserver to pass on.
func TestBindErrorsForwarded(t *testing.T) {
	hs := newHomeserver(t)
	fake := newFake(t, hs)
	client := newClient(t, hs)
	fake.AddSession(identitytest.Session{SID: "open", ClientSecret: "secret",
		Medium: "msisdn", Address: "447400123456"})

	tests := []struct {
		name       string
		token, sid string
		wantStatus int
		wantCode   mxerr.Code
	}{
		{"wrong identity access token", "nope", "open", 401, "M_UNAUTHORIZED"},
		{"unknown session", identitytest.DefaultAccessToken, "other", 404,
			"M_NO_VALID_SESSION"},
		{"session not validated", identitytest.DefaultAccessToken, "open", 400,
			"M_SESSION_NOT_VALIDATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.Bind(context.Background(), BindRequest{IDServer: fake.Name(),
				IDAccessToken: tt.token, SID: tt.sid, ClientSecret: "secret",
				UserID: "@bob:hs.example"})
			wantMatrixError(t, err, tt.wantStatus, tt.wantCode)
		})
	}
}

func TestBindRefusesBadAnswers(t *testing.T) {
	hs := newHomeserver(t)
	client := newClient(t, hs)

	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"another user bound", 200, `{"medium":"email","address":"a@b.example",` +
			`"mxid":"@mallory:hs.example","ts":1,"not_before":1,"not_after":2}`},
		{"no medium", 200, `{"address":"a@b.example","mxid":"@bob:hs.example"}`},
		{"not JSON", 200, `<html>`},
		{"error without errcode", 502, `<html>Bad Gateway</html>`},
		{"too large", 400, `{"errcode":"M_UNKNOWN","error":"` +
			strings.Repeat("x", DefaultMaxResponseBytes) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
				_ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)

			_, err := client.Bind(context.Background(), BindRequest{
				IDServer: strings.TrimPrefix(srv.URL, "http://"), IDAccessToken: "t",
				SID: "s", ClientSecret: "c", UserID: "@bob:hs.example"})
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("Bind = %v, want ErrUnavailable", err)
			}
		})
	}
}

// TestBindWireFormat checks the request the identity server receives.
func TestBindWireFormat(t *testing.T) {
	hs := newHomeserver(t)
	client := newClient(t, hs)

	type seen struct{ path, auth, contentType, body string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"),
			string(body)}
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"errcode":"M_TERMS_NOT_SIGNED","error":"accept terms"}`)
	}))
	t.Cleanup(srv.Close)

	_, err := client.Bind(context.Background(), BindRequest{
		IDServer: strings.TrimPrefix(srv.URL, "http://"), IDAccessToken: "tok",
		SID: "sid1", ClientSecret: "cs", UserID: "@bob:hs.example"})
	wantMatrixError(t, err, 403, "M_TERMS_NOT_SIGNED")

	req := <-got
	if req.path != "/_matrix/identity/v2/3pid/bind" || req.auth != "Bearer tok" ||
		req.contentType != "application/json" {
		t.Errorf("request %+v", req)
	}
	if want := `{"sid":"sid1","client_secret":"cs","mxid":"@bob:hs.example"}`; req.body != want {
		t.Errorf("body %s, want %s", req.body, want)
	}
}

// TestBindOverHTTPS runs a bind against the fake serving TLS, with the default https
// scheme and the fake listed as trusted.
func TestBindOverHTTPS(t *testing.T) {
	hs := newHomeserver(t)
	fake := identitytest.New(t, identitytest.Options{Homeserver: hsName, KeyURL: hs.keyURL,
		TLS: true})
	client := newClient(t, hs, func(o *Options) {
		o.PlainHTTP = false
		o.TrustedServers = []string{fake.Name()}
		o.TLSConfig = fake.TLSConfig()
	})
	fake.AddSession(identitytest.Session{SID: "s", ClientSecret: "c", Medium: "email",
		Address: "carol@example.org", Validated: true})

	if _, err := client.Bind(context.Background(), BindRequest{IDServer: fake.Name(),
		IDAccessToken: identitytest.DefaultAccessToken, SID: "s", ClientSecret: "c",
		UserID: "@carol:hs.example"}); err != nil {
		t.Fatalf("Bind over https: %v", err)
	}
	result, err := client.Unbind(context.Background(), UnbindRequest{IDServer: fake.Name(),
		UserID: "@carol:hs.example", Medium: "email", Address: "carol@example.org"})
	if err != nil || result != UnbindSuccess {
		t.Fatalf("Unbind over https = %q, %v", result, err)
	}
}
