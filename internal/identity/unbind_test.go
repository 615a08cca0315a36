package identity

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/identity/identitytest"
	"github.com/mxaccounts/mxaccounts/internal/signing"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TestUnbindTamperedBodyFails sends the fake a signed unbind whose body was changed after
// signing: the fake refuses it with 403 M_UNAUTHORIZED and keeps the binding.
func TestUnbindTamperedBodyFails(t *testing.T) {
	hs := newHomeserver(t)
	fake := newFake(t, hs)
	fake.SetBinding("email", "alice@example.org", "@alice:hs.example")
	fake.SetBinding("email", "bob@example.org", "@bob:hs.example")

	signedBody := `{"mxid":"@alice:hs.example","threepid":{"address":"alice@example.org",` +
		`"medium":"email"}}`
	sentBody := strings.ReplaceAll(signedBody, "alice", "bob")
	auth, err := signing.AuthorizationHeader(signing.Request{Method: "POST",
		URI: unbindPath, Origin: hsName, Destination: fake.Name(), ForIdentityServer: true,
		Content: []byte(signedBody)}, hs.key)
	if err != nil {
		t.Fatal(err)
	}

	status, errcode := postUnbind(t, fake.URL(), auth, sentBody)
	if status != http.StatusForbidden || errcode != "M_UNAUTHORIZED" {
		t.Errorf("tampered unbind answered %d %s, want 403 M_UNAUTHORIZED", status, errcode)
	}
	if _, ok := fake.Binding("email", "bob@example.org"); !ok {
		t.Error("the tampered unbind removed bob's binding")
	}

	// The untampered request passes, which shows the refusal was for the change.
	status, _ = postUnbind(t, fake.URL(), auth, signedBody)
	if status != http.StatusOK {
		t.Errorf("the request as signed answered %d", status)
	}
}

func postUnbind(t *testing.T, baseURL, auth, body string) (int, mxerr.Code) {
	t.Helper()

	req, _ := http.NewRequest("POST", baseURL+unbindPath, strings.NewReader(body))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	var e struct {
		Code mxerr.Code `json:"errcode"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Code
}

// TestUnbindSignatureChecks covers what the fake's verification refuses when the client
// itself sends the request.
func TestUnbindSignatureChecks(t *testing.T) {
	hs := newHomeserver(t)
	req := UnbindRequest{UserID: "@alice:hs.example", Medium: "email",
		Address: "alice@example.org"}

	t.Run("key the homeserver does not publish", func(t *testing.T) {
		fake := newFake(t, hs)
		other := newHomeserver(t)
		client := newClient(t, homeserver{key: other.key})
		req.IDServer = fake.Name()

		result, err := client.Unbind(context.Background(), req)
		if result != UnbindNoSupport {
			t.Errorf("result %q, want no-support", result)
		}
		wantMatrixError(t, err, http.StatusForbidden, "M_UNAUTHORIZED")
	})

	t.Run("same key ID, other key", func(t *testing.T) {
		fake := newFake(t, hs)
		impostor, _ := signing.GenerateKey()
		impostor.ID = hs.key.ID
		client := newClient(t, homeserver{key: impostor})
		req.IDServer = fake.Name()

		_, err := client.Unbind(context.Background(), req)
		wantMatrixError(t, err, http.StatusForbidden, "M_UNAUTHORIZED")
	})

	t.Run("user of another server", func(t *testing.T) {
		fake := newFake(t, hs)
		client := newClient(t, hs)
		other := req
		other.IDServer, other.UserID = fake.Name(), "@alice:elsewhere.example"

		_, err := client.Unbind(context.Background(), other)
		wantMatrixError(t, err, http.StatusForbidden, "M_FORBIDDEN")
	})

	t.Run("keys given directly", func(t *testing.T) {
		fake := identitytest.New(t, identitytest.Options{Homeserver: hsName,
			HomeserverKeys: map[string]ed25519.PublicKey{hs.key.ID: hs.key.Public()}})
		client := newClient(t, hs)
		req.IDServer = fake.Name()

		if result, err := client.Unbind(context.Background(), req); err != nil ||
			result != UnbindSuccess {
			t.Errorf("Unbind = %q, %v", result, err)
		}
	})
}

// TestUnbindNoSupport maps the identity server's answers to id_server_unbind_result.
func TestUnbindNoSupport(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantErr     error
		wantMatrix  mxerr.Code
	}{
		{"404 page", 404, "text/html", "<html><body>Not Found</body></html>", nil, ""},
		{"400 plain text", 400, "text/plain", "Bad Request", nil, ""},
		{"501 empty", 501, "", "", nil, ""},
		{"404 JSON without errcode", 404, "application/json", `{"error":"no"}`, nil, ""},
		{"400 Matrix error is forwarded", 400, "application/json",
			`{"errcode":"M_INVALID_PARAM","error":"bad medium"}`, nil, "M_INVALID_PARAM"},
		{"403 Matrix error is forwarded", 403, "application/json",
			`{"errcode":"M_TERMS_NOT_SIGNED","error":"terms"}`, nil, "M_TERMS_NOT_SIGNED"},
		{"500 page is no usable answer", 500, "text/html", "<html>oops</html>",
			ErrUnavailable, ""},
		{"302 is not followed", 302, "text/html", "", ErrUnavailable, ""},
	}

	hs := newHomeserver(t)
	fake := newFake(t, hs)
	client := newClient(t, hs)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.AnswerUnbind(tt.status, tt.contentType, tt.body)
			t.Cleanup(func() { fake.AnswerUnbind(0, "", "") })

			result, err := client.Unbind(context.Background(), UnbindRequest{
				IDServer: fake.Name(), UserID: "@a:hs.example", Medium: "email",
				Address: "a@example.org"})
			if result != UnbindNoSupport {
				t.Errorf("result %q, want no-support", result)
			}
			switch {
			case tt.wantMatrix != "":
				wantMatrixError(t, err, tt.status, tt.wantMatrix)
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("error %v, want none", err)
			}
		})
	}
}

func TestUnbindUnreachable(t *testing.T) {
	hs := newHomeserver(t)
	req := UnbindRequest{UserID: "@a:hs.example", Medium: "email", Address: "a@example.org"}

	t.Run("nothing listening", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		req.IDServer = strings.TrimPrefix(srv.URL, "http://")
		srv.Close()

		result, err := newClient(t, hs).Unbind(context.Background(), req)
		if result != UnbindNoSupport || !errors.Is(err, ErrUnavailable) {
			t.Errorf("Unbind = %q, %v; want no-support and ErrUnavailable", result, err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			<-release
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		req.IDServer = strings.TrimPrefix(srv.URL, "http://")
		client := newClient(t, hs, func(o *Options) { o.Timeout = 200 * time.Millisecond })

		start := time.Now()
		result, err := client.Unbind(context.Background(), req)
		if result != UnbindNoSupport || !errors.Is(err, ErrUnavailable) {
			t.Errorf("Unbind = %q, %v; want no-support and ErrUnavailable", result, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Unbind took %s despite a 200ms timeout", d)
		}
	})

	t.Run("no identity server known", func(t *testing.T) {
		req.IDServer = ""
		result, err := newClient(t, hs).Unbind(context.Background(), req)
		if result != UnbindNoSupport || err != nil {
			t.Errorf("Unbind = %q, %v; want no-support and no error", result, err)
		}
	})
}

// TestUnbindWireFormat checks the request the identity server receives: the body, and
// a header whose signature covers destination_is.
func TestUnbindWireFormat(t *testing.T) {
	hs := newHomeserver(t)
	client := newClient(t, hs)

	type seen struct {
		uri, auth string
		body      []byte
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		got <- seen{r.RequestURI, r.Header.Get("Authorization"), buf.Bytes()}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	name := strings.TrimPrefix(srv.URL, "http://")

	result, err := client.Unbind(context.Background(), UnbindRequest{IDServer: name,
		UserID: "@a:hs.example", Medium: "msisdn", Address: "447400123456"})
	if err != nil || result != UnbindSuccess {
		t.Fatalf("Unbind = %q, %v", result, err)
	}

	req := <-got
	wantBody := `{"mxid":"@a:hs.example","threepid":{"address":"447400123456",` +
		`"medium":"msisdn"}}`
	if string(req.body) != wantBody {
		t.Errorf("body %s, want %s", req.body, wantBody)
	}
	auth, err := signing.ParseAuthorization(req.auth)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Origin != hsName || auth.Destination != name || auth.KeyID != hs.key.ID {
		t.Errorf("header %+v", auth)
	}
	err = signing.VerifyRequest(signing.Request{Method: "POST", URI: req.uri,
		Destination: name, ForIdentityServer: true, Content: req.body}, auth, hs.key.Public())
	if err != nil {
		t.Errorf("signature: %v", err)
	}
}
