package threepid

import (
	"errors"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

func TestCanonicalEmail(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in, want string // want "" for a refused address
	}{
		{"alice@example.org", "alice@example.org"},
		{"Strauß@Example.com", "strauss@example.com"},
		{"STRASSE@EXAMPLE.COM", "strasse@example.com"},
		{"ΣΊΣΥΦΟΣ@example.gr", "σίσυφοσ@example.gr"},
		{"o.brien+tag@sub.example.org", "o.brien+tag@sub.example.org"},
		{"user@localhost", "user@localhost"},
		// NFC first: e + combining acute is é.
		{"Jose\u0301@example.org", "josé@example.org"},
		{"", ""},
		{"alice", ""},
		{"alice@", ""},
		{"@example.org", ""},
		{"Alice <alice@example.org>", ""},
		{"<alice@example.org>", ""},
		{" alice@example.org", ""},
		{"alice@example.org ", ""},
		{`"alice smith"@example.org`, ""},
		{"alice@example.org (comment)", ""},
		{"alice@[127.0.0.1]", ""},
		{"a@example.org, b@example.org", ""},
		{strings.Repeat("a", 250) + "@example.org", ""},
	}
	for _, tt := range tests {
		got, err := CanonicalEmail(tt.in)
		switch {
		case tt.want == "" && !errors.Is(err, mxerr.ErrInvalidParam):
			t.Errorf("CanonicalEmail(%q) = %q, %v; want M_INVALID_PARAM", tt.in, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("CanonicalEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCanonicalMSISDN(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"+44 7700 900123", "447700900123", true},
		{"447700900123", "447700900123", true},
		{"1-555-0100", "15550100", true},
		{"", "", false},
		{"+44 7700 9OO123", "", false},
		{"1234567890123456", "", false},
	}
	for _, tt := range tests {
		got, ok := Canonical(MediumMSISDN, tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("Canonical(msisdn, %q) = %q, %v; want %q, %v", tt.in, got, ok,
				tt.want, tt.ok)
		}
	}
	if _, ok := Canonical("fax", "123"); ok {
		t.Errorf("an unknown medium gave a canonical address")
	}
}

func TestCheckSecret(t *testing.T) {
	t.Parallel()

	for _, ok := range []string{"a", "monkeys_are_GREAT", "a.b=c_d-e",
		strings.Repeat("Z", 255)} {
		if err := checkSecret("client_secret", ok); err != nil {
			t.Errorf("checkSecret(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a~b", "a b", "a/b", "ü", strings.Repeat("Z", 256)} {
		if err := checkSecret("client_secret", bad); !errors.Is(err, mxerr.ErrInvalidParam) {
			t.Errorf("checkSecret(%q) = %v, want M_INVALID_PARAM", bad, err)
		}
	}
}

func TestEmailPolicy(t *testing.T) {
	t.Parallel()

	open := EmailPolicy(nil, []string{"spam.example"})
	listed := EmailPolicy([]string{"example.org", "Corp.Example."}, []string{"x.example.org"})
	tests := []struct {
		policy  func(string) bool
		address string
		want    bool
	}{
		{open, "a@anything.example", true},
		{open, "a@spam.example", false},
		{open, "a@mail.spam.example", false},
		{open, "a@notspam.example", true},
		{listed, "a@example.org", true},
		{listed, "a@mail.example.org", true},
		{listed, "a@x.example.org", false},
		{listed, "a@corp.example", true},
		{listed, "a@example.org.evil", false},
		{listed, "a@badexample.org", false},
	}
	for _, tt := range tests {
		if got := tt.policy(tt.address); got != tt.want {
			t.Errorf("policy(%q) = %v, want %v", tt.address, got, tt.want)
		}
	}
}

func TestCheckNextLink(t *testing.T) {
	t.Parallel()

	tests := []struct {
		link    string
		domains []string
		ok      bool
	}{
		{"https://client.example/done", nil, true},
		{"http://127.0.0.1:8080/x?y=1#z", nil, true},
		{"HTTPS://Client.Example/", nil, true},
		{"file:///etc/passwd", nil, false},
		{"javascript:alert(1)", nil, false},
		{"data:text/html,hi", nil, false},
		{"//client.example/done", nil, false},
		{"/done", nil, false},
		{"https:///nohost", nil, false},
		{"https://client.example/" + strings.Repeat("a", 2048), nil, false},
		{"https://app.client.example/", []string{"client.example"}, true},
		{"https://client.example.evil/", []string{"client.example"}, false},
	}
	for _, tt := range tests {
		err := checkNextLink(tt.link, tt.domains)
		if tt.ok != (err == nil) {
			t.Errorf("checkNextLink(%.60q, %v) = %v, want ok %v", tt.link, tt.domains, err,
				tt.ok)
		}
	}
}

func TestCanonicalEmailLengthLimits(t *testing.T) {
	long64, long65 := strings.Repeat("a", 64), strings.Repeat("a", 65)
	for addr, ok := range map[string]bool{
		long64 + "@example.org":                         true,
		long65 + "@example.org":                         false,
		"a@" + strings.Repeat("b", 63) + ".org":         true,
		"a@" + strings.Repeat("b", 64) + ".org":         false,
		"a@sub." + strings.Repeat("c", 64) + ".example": false,
	} {
		if _, err := CanonicalEmail(addr); (err == nil) != ok {
			t.Errorf("CanonicalEmail(%.30q...) error = %v, want ok=%v", addr, err, ok)
		}
	}
}
