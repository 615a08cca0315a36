package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}}}

	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client", "192.0.2.7:1234", nil, "192.0.2.7"},
		{"untrusted peer's header is ignored", "192.0.2.7:1234", []string{"198.51.100.1"},
			"192.0.2.7"},
		{"one trusted proxy", "127.0.0.1:5", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a forged left-most entry is skipped", "127.0.0.1:5",
			[]string{"203.0.113.9, 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies", "127.0.0.1:5",
			[]string{"203.0.113.9, 198.51.100.1, 10.1.2.3"}, "198.51.100.1"},
		{"several headers", "127.0.0.1:5", []string{"203.0.113.9", "198.51.100.1"},
			"198.51.100.1"},
		{"garbage stops at the last trusted hop", "127.0.0.1:5", []string{"nonsense"},
			"127.0.0.1"},
		{"trusted proxy without header", "127.0.0.1:5", nil, "127.0.0.1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		for _, h := range tt.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := s.clientAddr(r); got != tt.want {
			t.Errorf("%s: clientAddr = %s, want %s", tt.name, got, tt.want)
		}
	}
}
