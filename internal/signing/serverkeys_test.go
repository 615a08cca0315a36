package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"testing"
	"time"
)

func TestServerKeys(t *testing.T) {
	key := specKey(t)
	until := time.UnixMilli(1_700_000_000_000)

	body, err := ServerKeys("domain", key, until)
	if err != nil {
		t.Fatal(err)
	}

	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	unsigned := `{"old_verify_keys":{},"server_name":"domain","valid_until_ts":1700000000000,` +
		`"verify_keys":{"ed25519:1":{"key":"` + encodeBase64(key.Public()) + `"}}}`
	want := `{"old_verify_keys":{},"server_name":"domain","signatures":{"domain":` +
		`{"ed25519:1":"` + sigOf(t, key, unsigned) + `"}},"valid_until_ts":1700000000000,` +
		`"verify_keys":{"ed25519:1":{"key":"` + encodeBase64(key.Public()) + `"}}}`
	if string(body) != want {
		t.Errorf("key document\n got %s\nwant %s", body, want)
	}

	keys, err := VerifyServerKeys(body, "domain", until.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keys["ed25519:1"], key.Public()) {
		t.Errorf("VerifyServerKeys returned %v", keys)
	}
}

func TestVerifyServerKeysRejects(t *testing.T) {
	key := specKey(t)
	now := time.Now()
	good, err := ServerKeys("hs.example", key, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := ServerKeys("hs.example", key, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		body   []byte
		server string
	}{
		{"other server", good, "evil.example"},
		{"expired", expired, "hs.example"},
		{"tampered", bytes.Replace(good, []byte(`"server_name":"hs.example"`),
			[]byte(`"server_name":"hs.example","x":1`), 1), "hs.example"},
		{"not JSON", []byte("<html>"), "hs.example"},
		{"no keys", []byte(`{"server_name":"hs.example","valid_until_ts":9999999999999,` +
			`"verify_keys":{}}`), "hs.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := VerifyServerKeys(tt.body, tt.server, now); !errors.Is(err,
				ErrBadServerKeys) {
				t.Errorf("VerifyServerKeys = %v, want ErrBadServerKeys", err)
			}
		})
	}
}

func TestKeyHandler(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	h := KeyHandler("hs.example", key, 24*time.Hour)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/_matrix/key/v2/server", nil))

	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body, _ := io.ReadAll(rec.Body)
	keys, err := VerifyServerKeys(body, "hs.example", time.Now().Add(23*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keys[key.ID], key.Public()) {
		t.Errorf("published keys %v, want %s", keys, key.ID)
	}
}
