package identity

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/identity/identitytest"
	"github.com/mxaccounts/mxaccounts/internal/signing"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// hsName is the server name of the homeserver under test. Nothing resolves it: the
// fake identity server fetches its keys from the loopback key server that
// newHomeserver starts.
const hsName = "hs.example"

// homeserver is the signing side of a test: its key and the URL of its key document.
type homeserver struct {
	key    signing.Key
	keyURL string
}

// newHomeserver generates a key and serves its key document on 127.0.0.1.
func newHomeserver(t *testing.T) homeserver {
	t.Helper()

	key, err := signing.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(signing.KeyHandler(hsName, key, time.Hour))
	t.Cleanup(srv.Close)
	return homeserver{key: key, keyURL: srv.URL + "/_matrix/key/v2/server"}
}

// newFake starts a fake identity server that checks unbinds against hs's published
// keys.
func newFake(t *testing.T, hs homeserver) *identitytest.Server {
	t.Helper()
	return identitytest.New(t, identitytest.Options{Homeserver: hsName, KeyURL: hs.keyURL})
}

// newClient returns a client for loopback identity servers over plain http.
func newClient(t *testing.T, hs homeserver, edit ...func(*Options)) *Client {
	t.Helper()

	opts := Options{ServerName: hsName, Key: hs.key, PlainHTTP: true,
		Timeout: 5 * time.Second}
	for _, e := range edit {
		e(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantMatrixError fails the test unless err holds an *mxerr.Error with this status and
// errcode.
func wantMatrixError(t *testing.T, err error, status int, code mxerr.Code) {
	t.Helper()

	var merr *mxerr.Error
	if !errors.As(err, &merr) {
		t.Fatalf("error %v holds no *mxerr.Error; want %d %s", err, status, code)
	}
	if merr.Status != status || merr.Code != code {
		t.Errorf("got %d %s (%s), want %d %s", merr.Status, merr.Code, merr.Message, status,
			code)
	}
}
