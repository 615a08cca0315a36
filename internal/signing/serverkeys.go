package signing

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrBadServerKeys is wrapped by VerifyServerKeys's errors: the key document is
// malformed, names another server, has expired or is not signed by its own keys.
var ErrBadServerKeys = errors.New("unusable server key document")

// serverKeys is the body of GET /_matrix/key/v2/server
// (https://spec.matrix.org/v1.13/server-server-api/#get_matrixkeyv2server).
type serverKeys struct {
	ServerName    string                       `json:"server_name"`
	ValidUntilTS  int64                        `json:"valid_until_ts"`
	VerifyKeys    map[string]verifyKey         `json:"verify_keys"`
	OldVerifyKeys map[string]oldVerifyKey      `json:"old_verify_keys"`
	Signatures    map[string]map[string]string `json:"signatures,omitempty"`
}

type verifyKey struct {
	Key string `json:"key"`
}

type oldVerifyKey struct {
	ExpiredTS int64  `json:"expired_ts"`
	Key       string `json:"key"`
}

// ServerKeys returns the body of GET /_matrix/key/v2/server for serverName: key as the
// only verify key, no old keys, valid until validUntil, and signed by key. The spec asks
// for a validity of at least an hour; receivers cap it at seven days.
func ServerKeys(serverName string, key Key, validUntil time.Time) ([]byte, error) {
	doc := serverKeys{
		ServerName:    serverName,
		ValidUntilTS:  validUntil.UnixMilli(),
		VerifyKeys:    map[string]verifyKey{key.ID: {Key: encodeBase64(key.Public())}},
		OldVerifyKeys: map[string]oldVerifyKey{},
	}
	body, err := SignJSON(doc, serverName, key)
	if err != nil {
		return nil, fmt.Errorf("sign the key document of %s: %w", serverName, err)
	}
	return body, nil
}

// VerifyServerKeys checks a key document fetched for serverName and returns its verify
// keys by key ID. The document must name serverName, be valid at now, and carry a valid
// signature by every one of its ed25519 verify keys, as Synapse requires; keys of
// other algorithms are skipped. It fails, wrapping
// ErrBadServerKeys, when any of this does not hold.
func VerifyServerKeys(body []byte, serverName string, now time.Time) (
	map[string]ed25519.PublicKey, error,
) {
	var doc serverKeys
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadServerKeys, err)
	}
	if doc.ServerName != serverName {
		return nil, fmt.Errorf("%w: it is for %q, not %q", ErrBadServerKeys,
			doc.ServerName, serverName)
	}
	if doc.ValidUntilTS <= now.UnixMilli() {
		return nil, fmt.Errorf("%w: the keys of %s expired at %d", ErrBadServerKeys,
			serverName, doc.ValidUntilTS)
	}
	keys := make(map[string]ed25519.PublicKey, len(doc.VerifyKeys))
	for id, vk := range doc.VerifyKeys {
		if !strings.HasPrefix(id, algorithm+":") {
			continue // an algorithm this server cannot check
		}
		pub, err := decodeBase64(vk.Key)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: key %s of %s is not a base64 ed25519 key",
				ErrBadServerKeys, id, serverName)
		}
		if err := VerifyJSON(body, serverName, id, pub); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadServerKeys, err)
		}
		keys[id] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s lists no ed25519 key", ErrBadServerKeys, serverName)
	}
	return keys, nil
}

// KeyHandler serves GET /_matrix/key/v2/server for serverName with key, each answer
// valid for validity from the time of the request.
func KeyHandler(serverName string, key Key, validity time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := ServerKeys(serverName, key, time.Now().Add(validity))
		status := http.StatusOK
		if err != nil {
			status = http.StatusInternalServerError
			body = []byte(`{"errcode":"M_UNKNOWN","error":"internal server error"}`)
		}

		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}
