package token

import (
	"bytes"
	"regexp"
	"testing"
)

func TestNewIsWellFormed(t *testing.T) {
	for _, kind := range []Kind{Access, Refresh, Login} {
		s := New(kind)
		if !WellFormed(kind, s) {
			t.Errorf("WellFormed(%q, New) = false for %q", kind, s)
		}
		if New(kind) == s {
			t.Errorf("New(%q) returned the same secret twice", kind)
		}
	}
}

func TestWellFormedRefuses(t *testing.T) {
	good := New(Access)
	flipped := []byte(good)
	flipped[10] ^= 1 // a typo in the body breaks the checksum

	tests := map[string]string{
		"empty":          "",
		"other kind":     New(Refresh),
		"typo in body":   string(flipped),
		"cut short":      good[:len(good)-1],
		"extra at end":   good + "a",
		"foreign format": "syt_YWxpY2U_HVcdVPXezgpDCZaQNVmb_0EwqbQ",
	}
	for name, s := range tests {
		if WellFormed(Access, s) {
			t.Errorf("%s: WellFormed(Access, %q) = true", name, s)
		}
	}
}

func TestDigest(t *testing.T) {
	a, b := Digest("x"), Digest("x")
	if len(a) != 32 || !bytes.Equal(a, b) || bytes.Equal(a, Digest("y")) {
		t.Errorf("Digest is not a stable 32-byte SHA-256: %x", a)
	}
}

func TestIDs(t *testing.T) {
	if !regexp.MustCompile(`^[A-Z]{10}$`).MatchString(DeviceID()) {
		t.Error("DeviceID is not ten upper-case letters")
	}
	opaque := regexp.MustCompile(`^[0-9A-Za-z._~-]{1,64}$`)
	for _, id := range []string{SessionID(), RegistrationToken()} {
		if !opaque.MatchString(id) {
			t.Errorf("%q does not fit the opaque-ID grammar", id)
		}
	}
}
