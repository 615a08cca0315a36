package appservice

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/mxid"
)

const bridge = `id: bridge
url: http://127.0.0.1:29318
as_token: as-secret
hs_token: hs-secret
sender_localpart: bridgebot
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: '@_bridge_.*:localhost'
    - exclusive: false
      regex: '@shared_.*:localhost'
  aliases: []
  rooms: []
`

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadAndMatch(t *testing.T) {
	r, err := Load("localhost", []string{write(t, "bridge.yaml", bridge)})
	if err != nil {
		t.Fatal(err)
	}

	svc := r.ByToken("as-secret")
	if svc == nil || svc.ID != "bridge" || svc.Sender != "@bridgebot:localhost" {
		t.Fatalf("ByToken = %+v", svc)
	}
	if r.ByToken("as-secre") != nil || r.ByToken("") != nil {
		t.Error("ByToken matched a wrong token")
	}

	tests := []struct {
		user              mxid.UserID
		exclusive, claims bool
	}{
		{"@_bridge_alice:localhost", true, true},
		{"@shared_bob:localhost", false, true},
		{"@bridgebot:localhost", false, true},
		{"@carol:localhost", false, false},
		{"@_bridge_alice:localhost.evil", false, false}, // the regex is anchored
	}
	for _, tt := range tests {
		if got := r.ExclusiveOwner(tt.user) != nil; got != tt.exclusive {
			t.Errorf("ExclusiveOwner(%s) = %v, want %v", tt.user, got, tt.exclusive)
		}
		if got := svc.Claims(tt.user); got != tt.claims {
			t.Errorf("Claims(%s) = %v, want %v", tt.user, got, tt.claims)
		}
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	dup := write(t, "dup.yaml", strings.Replace(bridge, "sender_localpart: bridgebot",
		"sender_localpart: other", 1))
	bad := write(t, "bad.yaml", "id: x\nas_token: t\nnamespaces:\n  users:\n"+
		"    - {exclusive: true, regex: '(['}\n")

	_, err := Load("localhost", []string{write(t, "bridge.yaml", bridge), dup, bad,
		filepath.Join(t.TempDir(), "missing.yaml")})
	if err == nil {
		t.Fatal("Load accepted broken registrations")
	}
	for _, want := range []string{"id \"bridge\" is also used", "as_token is also used",
		"sender_localpart are required", "regex", "missing.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
