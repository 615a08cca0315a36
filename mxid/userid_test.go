package mxid

import (
	"errors"
	"strings"
	"testing"
)

func TestParseUserID(t *testing.T) {
	tests := []struct {
		in, localpart, server string
		ok                    bool
	}{
		{"@alice:example.org", "alice", "example.org", true},
		{"@alice:example.org:8448", "alice", "example.org:8448", true},
		{"@Historic Name!:hs", "Historic Name!", "hs", true}, // v1.14 historical grammar
		{"@:hs", "", "hs", true},
		{"alice:example.org", "", "", false},
		{"@alice", "", "", false},
		{"@alice:", "", "", false},
		{"@a\x00b:hs", "", "", false},
		{"@" + strings.Repeat("a", 252) + ":hs", "", "", false},
	}
	for _, tt := range tests {
		lp, sn, err := ParseUserID(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseUserID(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidUserID) {
			t.Errorf("ParseUserID(%q) error %v does not wrap ErrInvalidUserID", tt.in, err)
		}
		if lp != tt.localpart || sn != tt.server {
			t.Errorf("ParseUserID(%q) = %q, %q; want %q, %q", tt.in, lp, sn, tt.localpart,
				tt.server)
		}
	}

	u := NewUserID("bob", "hs.example")
	if u.Localpart() != "bob" || u.ServerName() != "hs.example" || u.String() != "@bob:hs.example" {
		t.Errorf("UserID methods disagree with NewUserID: %q", u)
	}
}

func TestValidateLocalpart(t *testing.T) {
	valid := []string{"alice", "a.b_c=d-e/f+g", "q3", "0x"}
	for _, lp := range valid {
		if err := ValidateLocalpart(lp, "hs"); err != nil {
			t.Errorf("ValidateLocalpart(%q) = %v, want nil", lp, err)
		}
	}

	invalid := []string{"", "Alice", "a b", "a:b", "a@b", "é", "a!", `a"`, "a?", `a\`, "a[",
		"a]", "a{", "a|", "a}", "£", "a\n", "a'",
		strings.Repeat("a", 255-len("@:hs")+1)}
	for _, lp := range invalid {
		if err := ValidateLocalpart(lp, "hs"); err == nil {
			t.Errorf("ValidateLocalpart(%q) = nil, want an error", lp)
		}
	}

	if err := ValidateLocalpart(strings.Repeat("a", 255-len("@:hs")), "hs"); err != nil {
		t.Errorf("a user ID of exactly 255 bytes is refused: %v", err)
	}
}

func TestValidateDeviceID(t *testing.T) {
	for _, ok := range []string{"ABCDEFGHIJ", "phone/1", "émoji-📱", "a.b"} {
		if err := ValidateDeviceID(ok); err != nil {
			t.Errorf("ValidateDeviceID(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a b", "a\x00b", "a\nb", "\x7f",
		strings.Repeat("D", 256), "a\u0085b"} {
		if err := ValidateDeviceID(bad); err == nil {
			t.Errorf("ValidateDeviceID(%q) = nil", bad)
		}
	}
}
