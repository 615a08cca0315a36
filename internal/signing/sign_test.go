package signing

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// specSeed is the seed of the appendix's test vectors
// (https://spec.matrix.org/v1.13/appendices/#cryptographic-test-vectors), used with the
// server name "domain" and the key ID "ed25519:1".
const specSeed = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"

func specKey(t *testing.T) Key {
	t.Helper()

	seed, err := decodeBase64(specSeed)
	if err != nil {
		t.Fatal(err)
	}
	key, err := KeyFromSeed("ed25519:1", seed)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestSignJSONSpecVectors checks the appendix's JSON signing vectors and the signature of
// its minimal event, whose signed form is plain JSON signing of the event with its
// hashes.
func TestSignJSONSpecVectors(t *testing.T) {
	tests := []struct {
		name, in, wantSig string
	}{
		{"empty object", `{}`,
			"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtT" +
				"dGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"},
		{"data values", `{"one": 1, "two": "Two"}`,
			"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL" +
				"53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"},
		{"minimal event", `{
			"auth_events": [], "content": {}, "depth": 3,
			"hashes": {"sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},
			"origin": "domain", "origin_server_ts": 1000000, "prev_events": [],
			"room_id": "!x:domain", "sender": "@a:domain", "signatures": {}, "type": "X",
			"unsigned": {"age_ts": 1000000}
		}`,
			"KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPT" +
				"Rl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"},
	}
	key := specKey(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed, err := SignJSON([]byte(tt.in), "domain", key)
			if err != nil {
				t.Fatal(err)
			}

			var got struct {
				Signatures map[string]map[string]string `json:"signatures"`
			}
			if err := json.Unmarshal(signed, &got); err != nil {
				t.Fatal(err)
			}
			if sig := got.Signatures["domain"]["ed25519:1"]; sig != tt.wantSig {
				t.Errorf("signature %s\nwant      %s", sig, tt.wantSig)
			}
			if err := VerifyJSON(signed, "domain", "ed25519:1", key.Public()); err != nil {
				t.Errorf("VerifyJSON of the signed object: %v", err)
			}
		})
	}
}

func TestSignJSONKeepsOtherSignaturesAndUnsigned(t *testing.T) {
	key := specKey(t)
	in := `{"a":1,"signatures":{"other.example":{"ed25519:x":"c2ln"}},"unsigned":{"age":5}}`

	signed, err := SignJSON([]byte(in), "domain", key)
	if err != nil {
		t.Fatal(err)
	}

	want := `{"a":1,"signatures":{"domain":{"ed25519:1":"` + sigOf(t, key, `{"a":1}`) +
		`"},"other.example":{"ed25519:x":"c2ln"}},"unsigned":{"age":5}}`
	if string(signed) != want {
		t.Errorf("signed object\n got %s\nwant %s", signed, want)
	}
}

func sigOf(t *testing.T, key Key, canonical string) string {
	t.Helper()
	return encodeBase64(ed25519.Sign(key.Private, []byte(canonical)))
}

// TestVerifyJSONRoundTrip signs with a generated key and checks the result with
// ed25519.Verify directly, then shows that VerifyJSON refuses changed objects.
func TestVerifyJSONRoundTrip(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{"mxid": "@a:hs.example", "n": 42, "list": []string{"x", "y"}}

	signed, err := SignJSON(obj, "hs.example", key)
	if err != nil {
		t.Fatal(err)
	}

	var parsed struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	if err := json.Unmarshal(signed, &parsed); err != nil {
		t.Fatal(err)
	}
	sig, err := decodeBase64(parsed.Signatures["hs.example"][key.ID])
	if err != nil {
		t.Fatal(err)
	}
	payload := `{"list":["x","y"],"mxid":"@a:hs.example","n":42}`
	if !ed25519.Verify(key.Public(), []byte(payload), sig) {
		t.Fatal("ed25519.Verify rejects the signature over the canonical payload")
	}

	tests := []struct {
		name      string
		obj       string
		server    string
		keyID     string
		wantError error
	}{
		{"as signed", string(signed), "hs.example", key.ID, nil},
		{"changed value", replaceOnce(t, string(signed), `"n":42`, `"n":43`),
			"hs.example", key.ID, ErrBadSignature},
		{"added key", replaceOnce(t, string(signed), `{"list"`, `{"extra":1,"list"`),
			"hs.example", key.ID, ErrBadSignature},
		{"other server", string(signed), "evil.example", key.ID, ErrNoSignature},
		{"other key ID", string(signed), "hs.example", "ed25519:zzz", ErrNoSignature},
		{"unsigned does not count", replaceOnce(t, string(signed), `{"list"`,
			`{"unsigned":{"x":1},"list"`), "hs.example", key.ID, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyJSON([]byte(tt.obj), tt.server, tt.keyID, key.Public())
			if tt.wantError == nil && err != nil {
				t.Errorf("VerifyJSON: %v", err)
			}
			if tt.wantError != nil && !errors.Is(err, tt.wantError) {
				t.Errorf("VerifyJSON = %v, want %v", err, tt.wantError)
			}
		})
	}
}

func TestSignJSONRejectsNonObjects(t *testing.T) {
	key := specKey(t)
	for _, in := range []string{`[]`, `"s"`, `{"signatures":[]}`, `{"signatures":{"a":1}}`} {
		if _, err := SignJSON([]byte(in), "domain", key); !errors.Is(err,
			ErrNotCanonicalizable) {
			t.Errorf("SignJSON(%s) = %v, want ErrNotCanonicalizable", in, err)
		}
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()

	if !strings.Contains(s, old) {
		t.Fatalf("%q not in %s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}
