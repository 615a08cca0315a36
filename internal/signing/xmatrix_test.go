package signing

import (
	"errors"
	"strings"
	"testing"
)

func TestAuthorizationHeaderFederation(t *testing.T) {
	key := specKey(t)
	req := Request{
		Method:      "PUT",
		URI:         "/_matrix/federation/v1/send/1?x=y",
		Origin:      "origin.example",
		Destination: "dest.example:8448",
		Content:     []byte(`{"pdus": [], "edus": []}`),
	}

	header, err := AuthorizationHeader(req, key)
	if err != nil {
		t.Fatal(err)
	}

	// The signed object of the server-server spec, in Canonical JSON.
	payload := `{"content":{"edus":[],"pdus":[]},"destination":"dest.example:8448",` +
		`"method":"PUT","origin":"origin.example","uri":"/_matrix/federation/v1/send/1?x=y"}`
	want := `X-Matrix origin="origin.example",destination="dest.example:8448",` +
		`key="ed25519:1",sig="` + sigOf(t, key, payload) + `"`
	if header != want {
		t.Errorf("header\n got %s\nwant %s", header, want)
	}
}

// TestAuthorizationHeaderIdentityServer checks the unbind form: destination_is in the
// signed object, destination in the header.
func TestAuthorizationHeaderIdentityServer(t *testing.T) {
	key := specKey(t)
	body := `{"mxid":"@a:hs.example","threepid":{"address":"a@b.example","medium":"email"}}`
	req := Request{
		Method:            "POST",
		URI:               "/_matrix/identity/v2/3pid/unbind",
		Origin:            "hs.example",
		Destination:       "is.example",
		ForIdentityServer: true,
		Content:           []byte(body),
	}

	header, err := AuthorizationHeader(req, key)
	if err != nil {
		t.Fatal(err)
	}

	payload := `{"content":` + body + `,"destination_is":"is.example","method":"POST",` +
		`"origin":"hs.example","uri":"/_matrix/identity/v2/3pid/unbind"}`
	want := `X-Matrix origin="hs.example",destination="is.example",key="ed25519:1",sig="` +
		sigOf(t, key, payload) + `"`
	if header != want {
		t.Errorf("header\n got %s\nwant %s", header, want)
	}
	if strings.Count(header, " ") != 1 {
		t.Errorf("header %q has more than the one space after the scheme", header)
	}
}

func TestAuthorizationHeaderRejectsUnsafeNames(t *testing.T) {
	key := specKey(t)
	for _, name := range []string{"", `a"b`, "a b", `a\b`, "a,b"} {
		req := Request{Method: "GET", URI: "/x", Origin: name, Destination: "d.example"}
		if _, err := AuthorizationHeader(req, key); err == nil {
			t.Errorf("origin %q accepted", name)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	full := XMatrix{Origin: "o.example", Destination: "d.example:8448", KeyID: "ed25519:1",
		Signature: "c2ln/+"}
	tests := []struct {
		name   string
		header string
		want   XMatrix
	}{
		{"as sent", `X-Matrix origin="o.example",destination="d.example:8448",` +
			`key="ed25519:1",sig="c2ln/+"`, full},
		{"any order, case and spacing", `x-matrix  SIG="c2ln/+" , Key = "ed25519:1",` +
			"\tDestination=\"d.example:8448\",origin=o.example", full},
		{"unquoted with colons, unknown parameter", `X-Matrix origin=o.example,` +
			`destination=d.example:8448,key=ed25519:1,sig="c2ln/+",future="x"`, full},
		{"escapes in quoted values", `X-Matrix origin="o\.example",destination=` +
			`"d.example:8448",key="ed25519:1",sig="c2ln\/+"`, full},
		{"no destination (old sender)", `X-Matrix origin="o.example",key="ed25519:1",` +
			`sig="c2ln/+"`, XMatrix{Origin: "o.example", KeyID: "ed25519:1",
			Signature: "c2ln/+"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.header)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseAuthorization = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	for _, header := range []string{
		`Bearer abc`,
		`X-Matrix`,
		`X-Matrix origin="o",key="k"`,
		`X-Matrix origin="o",origin="p",key="k",sig="s"`,
		`X-Matrix origin="o,key="k",sig="s"`,
		`X-Matrix origin="o" key="k",sig="s"`,
		`X-Matrix origin,key="k",sig="s"`,
		"X-Matrix origin=\"o\x01\",key=\"k\",sig=\"s\"",
	} {
		if x, err := ParseAuthorization(header); !errors.Is(err, ErrBadAuthorization) {
			t.Errorf("ParseAuthorization(%q) = %+v, %v; want ErrBadAuthorization", header, x,
				err)
		}
	}
}

// TestVerifyRequestRoundTrip signs a request, parses the header it produced and verifies
// it as the receiver, then shows what the receiver refuses.
func TestVerifyRequestRoundTrip(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sent := Request{
		Method:            "POST",
		URI:               "/_matrix/identity/v2/3pid/unbind",
		Origin:            "hs.example",
		Destination:       "127.0.0.1:8090",
		ForIdentityServer: true,
		Content: []byte(`{"mxid":"@a:hs.example",` +
			`"threepid":{"medium":"msisdn","address":"4415550101"}}`),
	}
	header, err := AuthorizationHeader(sent, key)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ParseAuthorization(header)
	if err != nil {
		t.Fatal(err)
	}

	received := sent
	received.Origin = ""
	if err := VerifyRequest(received, auth, key.Public()); err != nil {
		t.Fatalf("VerifyRequest of the request as sent: %v", err)
	}

	tampered := received
	tampered.Content = []byte(`{"mxid":"@b:hs.example","threepid":{"medium":"msisdn",` +
		`"address":"4415550101"}}`)
	if err := VerifyRequest(tampered, auth, key.Public()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered body: %v, want ErrBadSignature", err)
	}

	asFederation := received
	asFederation.ForIdentityServer = false
	if err := VerifyRequest(asFederation, auth, key.Public()); !errors.Is(err,
		ErrBadSignature) {
		t.Errorf("destination instead of destination_is: %v, want ErrBadSignature", err)
	}

	elsewhere := received
	elsewhere.Destination = "other.example"
	if err := VerifyRequest(elsewhere, auth, key.Public()); !errors.Is(err,
		ErrWrongDestination) {
		t.Errorf("other receiver: %v, want ErrWrongDestination", err)
	}

	other, _ := GenerateKey()
	if err := VerifyRequest(received, auth, other.Public()); !errors.Is(err,
		ErrBadSignature) {
		t.Errorf("other key: %v, want ErrBadSignature", err)
	}
}
