package identity

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/identity/identitytest"
)

func TestServerNames(t *testing.T) {
	hs := newHomeserver(t)
	client := newClient(t, hs)

	bad := []string{"", "https://is.example", "is.example/path", "is.example?x=1",
		"user@is.example", "is example", "is.example:0", "is.example:70000",
		"is.example:", "[::1", "[nothost]:80", "is_ex.example", "a..b", "-\x00"}
	for _, name := range bad {
		_, err := client.Bind(context.Background(), BindRequest{IDServer: name,
			IDAccessToken: "t", SID: "s", ClientSecret: "c", UserID: "@a:hs.example"})
		wantMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
	}

	for _, name := range []string{"is.example", "is.example:8090", "192.0.2.1",
		"[2001:db8::1]:443", "Vector.IM"} {
		if err := checkServerName(name); err != nil {
			t.Errorf("checkServerName(%q): %v", name, err)
		}
	}
}

func TestTrustedServers(t *testing.T) {
	hs := newHomeserver(t)
	fake := newFake(t, hs)
	client := newClient(t, hs, func(o *Options) { o.TrustedServers = []string{"is.example"} })

	_, err := client.Bind(context.Background(), BindRequest{IDServer: fake.Name(),
		IDAccessToken: identitytest.DefaultAccessToken, SID: "s", ClientSecret: "c",
		UserID: "@a:hs.example"})
	wantMatrixError(t, err, http.StatusBadRequest, "M_SERVER_NOT_TRUSTED")

	result, err := client.Unbind(context.Background(), UnbindRequest{IDServer: fake.Name(),
		UserID: "@a:hs.example", Medium: "email", Address: "a@example.org"})
	if result != UnbindNoSupport {
		t.Errorf("result %q, want no-support", result)
	}
	wantMatrixError(t, err, http.StatusBadRequest, "M_SERVER_NOT_TRUSTED")
	if n := fake.UnbindCount(); n != 0 {
		t.Errorf("%d requests reached an untrusted server", n)
	}
}

// TestPrivateAddressesRefused: without a trusted list, the https client refuses to
// connect to the loopback fake, before any byte is sent.
func TestPrivateAddressesRefused(t *testing.T) {
	hs := newHomeserver(t)
	fake := newFake(t, hs)
	client := newClient(t, hs, func(o *Options) { o.PlainHTTP = false })

	_, err := client.Bind(context.Background(), BindRequest{IDServer: fake.Name(),
		IDAccessToken: identitytest.DefaultAccessToken, SID: "s", ClientSecret: "c",
		UserID: "@a:hs.example"})
	wantMatrixError(t, err, http.StatusBadRequest, "M_SERVER_NOT_TRUSTED")
	if !errors.Is(err, errBlockedAddress) {
		t.Errorf("error %v does not name the blocked address", err)
	}
}

// TestCheckAddress calls the dialer's check directly, so no connection is attempted.
func TestCheckAddress(t *testing.T) {
	hs := newHomeserver(t)
	open := newClient(t, hs, func(o *Options) { o.PlainHTTP = false })
	plain := newClient(t, hs)
	trusted := newClient(t, hs, func(o *Options) {
		o.PlainHTTP, o.TrustedServers = false, []string{"is.internal"}
	})

	tests := []struct {
		client  *Client
		address string
		allowed bool
	}{
		{open, "8.8.8.8:443", true},
		{open, "[2606:4700::1111]:443", true},
		{open, "127.0.0.1:443", false},
		{open, "10.1.2.3:443", false},
		{open, "192.168.0.1:443", false},
		{open, "169.254.169.254:80", false},
		{open, "100.64.0.1:443", false},
		{open, "[::1]:443", false},
		{open, "[fd00::1]:443", false},
		{open, "[fe80::1]:443", false},
		{open, "[::ffff:10.0.0.1]:443", false},
		{open, "0.0.0.0:443", false},
		{plain, "127.0.0.1:8090", true},
		{plain, "[::1]:8090", true},
		{plain, "8.8.8.8:80", false},
		{trusted, "10.1.2.3:443", true},
	}
	for _, tt := range tests {
		err := tt.client.checkAddress("tcp", tt.address, nil)
		if (err == nil) != tt.allowed {
			t.Errorf("checkAddress(%s) with %+v = %v, want allowed=%v", tt.address,
				tt.client.opts.TrustedServers, err, tt.allowed)
		}
	}

	if isPublic(netip.MustParseAddr("203.0.113.9")) {
		t.Error("a documentation address counts as public")
	}
}

func TestNewRequiresIdentity(t *testing.T) {
	hs := newHomeserver(t)
	if _, err := New(Options{Key: hs.key}); err == nil {
		t.Error("New without a server name succeeded")
	}
	if _, err := New(Options{ServerName: hsName}); err == nil {
		t.Error("New without a key succeeded")
	}
}
