package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// TestDeviceLastSeen checks that an authenticated request records when and from where
// its device was seen, and that requests within the same minute write nothing more.
func TestDeviceLastSeen(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	status, _, body := do(t, "POST", api(srv, "/register"), "", map[string]any{
		"username": "seen", "password": secret, "device_id": "PHONE",
		"auth": map[string]any{"type": "m.login.dummy"}})
	wantStatus(t, status, body, http.StatusOK)
	tok := str(t, body, "access_token")

	status, _, body = do(t, "GET", api(srv, "/devices/PHONE"), tok, nil)
	wantStatus(t, status, body, http.StatusOK)
	first, _ := body["last_seen_ts"].(float64)
	if first == 0 || body["last_seen_ip"] != "127.0.0.1" {
		t.Fatalf("device after its first request: %v, want last_seen_ts and 127.0.0.1", body)
	}

	do(t, "GET", api(srv, "/account/whoami"), tok, nil)
	d, err := srv.Store.Device(context.Background(), mxid.UserID("@seen:localhost"), "PHONE")
	if err != nil {
		t.Fatal(err)
	}
	if float64(d.LastSeenMS) != first {
		t.Errorf("last seen moved from %v to %d within a minute", first, d.LastSeenMS)
	}
}
