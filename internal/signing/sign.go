package signing

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
)

var (
	// ErrNoSignature is wrapped by VerifyJSON's error when the object carries no
	// signature by the expected server and key.
	ErrNoSignature = errors.New("no signature by this key")
	// ErrBadSignature is wrapped by VerifyJSON's error when the signature does not
	// verify: the object was changed after signing or signed by another key.
	ErrBadSignature = errors.New("the signature does not verify")
)

// SignJSON signs the JSON object obj as serverName with key, following the appendix
// (https://spec.matrix.org/v1.13/appendices/#signing-details): the object without its
// signatures and unsigned members is encoded as Canonical JSON and signed, and the
// signature is added under signatures.<serverName>.<key ID>. Signatures already present
// and the unsigned member are kept. The result is the whole object in Canonical JSON.
//
// obj is either encoded JSON ([]byte or json.RawMessage) or a Go value that
// encoding/json turns into an object. SignJSON fails when obj is not an object, cannot
// be canonicalised (see Canonical) or has a malformed signatures member.
func SignJSON(obj any, serverName string, key Key) ([]byte, error) {
	tree, err := decodeObjectOf(obj)
	if err != nil {
		return nil, err
	}

	sigs, err := takeSignatures(tree)
	if err != nil {
		return nil, err
	}
	unsigned, hasUnsigned := tree["unsigned"]
	delete(tree, "unsigned")

	var payload bytes.Buffer
	if err := encodeObject(&payload, tree); err != nil {
		return nil, err
	}
	sig := ed25519.Sign(key.Private, payload.Bytes())

	mine, ok := sigs[serverName].(map[string]any)
	if !ok {
		mine = map[string]any{}
		sigs[serverName] = mine
	}
	mine[key.ID] = encodeBase64(sig)
	tree["signatures"] = sigs
	if hasUnsigned {
		tree["unsigned"] = unsigned
	}

	var out bytes.Buffer
	if err := encodeObject(&out, tree); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// VerifyJSON checks the signature that serverName made with the key keyID, whose public
// half is pub, on the JSON object obj (encoded, or a Go value, as for SignJSON),
// following the appendix's steps
// (https://spec.matrix.org/v1.13/appendices/#checking-for-a-signature). It returns nil
// when the signature verifies, an error wrapping ErrNoSignature when there is none,
// and one wrapping ErrBadSignature when it is wrong or not base64.
func VerifyJSON(obj any, serverName, keyID string, pub ed25519.PublicKey) error {
	tree, err := decodeObjectOf(obj)
	if err != nil {
		return err
	}

	sigs, err := takeSignatures(tree)
	if err != nil {
		return err
	}
	delete(tree, "unsigned")

	byServer, _ := sigs[serverName].(map[string]any)
	encoded, ok := byServer[keyID].(string)
	if !ok {
		return fmt.Errorf("verify JSON signed by %s with %s: %w", serverName, keyID,
			ErrNoSignature)
	}
	sig, err := decodeBase64(encoded)
	if err != nil {
		return fmt.Errorf("verify JSON signed by %s with %s: %w: %w", serverName, keyID,
			ErrBadSignature, err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("verify JSON signed by %s with %s: the public key has %d bytes",
			serverName, keyID, len(pub))
	}

	var payload bytes.Buffer
	if err := encodeObject(&payload, tree); err != nil {
		return err
	}
	if !ed25519.Verify(pub, payload.Bytes(), sig) {
		return fmt.Errorf("verify JSON signed by %s with %s: %w", serverName, keyID,
			ErrBadSignature)
	}
	return nil
}

// decodeObjectOf turns obj into a JSON tree whose top is an object.
func decodeObjectOf(obj any) (map[string]any, error) {
	var data []byte
	switch v := obj.(type) {
	case []byte:
		data = v
	case json.RawMessage:
		data = v
	default:
		var err error
		if data, err = json.Marshal(obj); err != nil {
			return nil, fmt.Errorf("encode %T as JSON: %w", obj, err)
		}
	}

	tree, err := decodeTree(data)
	if err != nil {
		return nil, err
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: only a JSON object can be signed, not %T",
			ErrNotCanonicalizable, tree)
	}
	return m, nil
}

// takeSignatures removes the signatures member from tree and returns it, or an empty
// map when there is none. A signatures member that is not an object of objects is an
// error.
func takeSignatures(tree map[string]any) (map[string]any, error) {
	raw, ok := tree["signatures"]
	delete(tree, "signatures")
	if !ok {
		return map[string]any{}, nil
	}

	sigs, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: signatures is not an object", ErrNotCanonicalizable)
	}
	for name, v := range sigs {
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("%w: signatures.%s is not an object",
				ErrNotCanonicalizable, name)
		}
	}
	return sigs, nil
}
