package signing

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestCanonicalSpecExamples runs every example of the Canonical JSON section of the
// appendix (https://spec.matrix.org/v1.13/appendices/#examples).
func TestCanonicalSpecExamples(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty object", `{}`, `{}`},
		{"two keys", "{\n    \"one\": 1,\n    \"two\": \"Two\"\n}", `{"one":1,"two":"Two"}`},
		{"sorted", "{\n    \"b\": \"2\",\n    \"a\": \"1\"\n}", `{"a":"1","b":"2"}`},
		{"sorted compact", `{"b":"2","a":"1"}`, `{"a":"1","b":"2"}`},
		{
			"nested",
			`{
				"auth": {
					"success": true,
					"mxid": "@john.doe:example.com",
					"profile": {
						"display_name": "John Doe",
						"three_pids": [
							{"medium": "email", "address": "john.doe@example.org"},
							{"medium": "msisdn", "address": "123456789"}
						]
					}
				}
			}`,
			`{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe",` +
				`"three_pids":[{"address":"john.doe@example.org","medium":"email"},` +
				`{"address":"123456789","medium":"msisdn"}]},"success":true}}`,
		},
		{"raw UTF-8", `{"a": "日本語"}`, `{"a":"日本語"}`},
		{"keys by code point", `{"本": 2, "日": 1}`, `{"日":1,"本":2}`},
		{"unicode escape decoded", `{"a": "\u65E5"}`, `{"a":"日"}`},
		{"null", `{"a": null}`, `{"a":null}`},
		{"negative zero and exponent", `{"a": -0, "b": 1e10}`, `{"a":0,"b":10000000000}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical([]byte(tt.in))
			if err != nil {
				t.Fatalf("Canonical(%s): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestCanonicalEscapesAndNumbers covers the grammar's escapes and the number rules beyond
// the spec's examples.
func TestCanonicalEscapesAndNumbers(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short escapes", `["\b\t\n\f\r\"\\"]`, `["\b\t\n\f\r\"\\"]`},
		{"other controls as lowercase hex", `["\u0000\u001F\u000b"]`, `["\u0000\u001f\u000b"]`},
		{"slash and DEL stay raw", `["\/\u007f"]`, "[\"/\x7f\"]"},
		{"HTML characters stay raw", `["\u003c&\u003e"]`, `["<&>"]`},
		{"line separator stays raw", `["\u2028"]`, "[\"\u2028\"]"},
		{"astral plane from surrogates", `["\ud83d\ude00"]`, `["😀"]`},
		{"largest safe integer", `[9007199254740991]`, `[9007199254740991]`},
		{"smallest safe integer", `[-9007199254740991]`, `[-9007199254740991]`},
		{"integral fraction", `[1.0, 1.50e1, 1000e-3]`, `[1,15,1]`},
		{"zeros", `[0, -0.0, 0e99999999999]`, `[0,0,0]`},
		{"literals", `[true,false,null]`, `[true,false,null]`},
		{"whitespace everywhere", " { \"a\" : [ 1 , 2 ] } \n", `{"a":[1,2]}`},
		{"empty key sorts first", `{"a":1,"":2}`, `{"":2,"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical([]byte(tt.in))
			if err != nil {
				t.Fatalf("Canonical(%s): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical(%s)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalRejects(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"fraction", `[1.5]`},
		{"small fraction by exponent", `[15e-1]`},
		{"beyond 2**53-1", `[9007199254740992]`},
		{"below -(2**53)+1", `[-9007199254740992]`},
		{"huge exponent", `[1e400]`},
		{"absurd exponent", `[1e99999999999]`},
		{"duplicate key", `{"a":1,"a":2}`},
		{"not JSON", `{a:1}`},
		{"trailing data", `{} {}`},
		{"trailing brace", `{}}`},
		{"empty input", ``},
		{"invalid UTF-8", "[\"\xff\"]"},
		{"too deep", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical([]byte(tt.in))
			if !errors.Is(err, ErrNotCanonicalizable) {
				t.Fatalf("Canonical(%.40q) = %s, %v; want ErrNotCanonicalizable", tt.in, got,
					err)
			}
		})
	}
}

func TestCanonicalJSONOfGoValues(t *testing.T) {
	v := struct {
		B string `json:"b"`
		A int64  `json:"a"`
	}{B: "<x>", A: 7}
	got, err := CanonicalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":7,"b":"<x>"}`; string(got) != want {
		t.Errorf("CanonicalJSON = %s, want %s", got, want)
	}

	if _, err := CanonicalJSON(map[string]float64{"f": 0.5}); !errors.Is(err,
		ErrNotCanonicalizable) {
		t.Errorf("CanonicalJSON of a float with a fraction: %v", err)
	}
}

// TestCanonicalEventHash computes the content hash of the appendix's minimal event
// (https://spec.matrix.org/v1.13/appendices/#event-signing): SHA-256 over the Canonical
// JSON of the event without unsigned, signatures and hashes.
func TestCanonicalEventHash(t *testing.T) {
	event := `{
		"room_id": "!x:domain",
		"sender": "@a:domain",
		"origin": "domain",
		"origin_server_ts": 1000000,
		"type": "X",
		"content": {},
		"prev_events": [],
		"auth_events": [],
		"depth": 3
	}`
	canon, err := Canonical([]byte(event))
	if err != nil {
		t.Fatal(err)
	}

	sum := sha256.Sum256(canon)
	got := base64.RawStdEncoding.EncodeToString(sum[:])
	if want := "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"; got != want {
		t.Errorf("content hash %s, want %s (canonical form %s)", got, want, canon)
	}
}
