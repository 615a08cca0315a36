// Package signing holds the homeserver's ed25519 signing key and the Matrix algorithms
// built on it: Canonical JSON, signed JSON objects, X-Matrix request authorization and
// the key document served at GET /_matrix/key/v2/server.
//
// The algorithms follow the appendix on signing JSON
// (https://spec.matrix.org/v1.13/appendices/#signing-json) and the server-server
// section on request authentication
// (https://spec.matrix.org/v1.13/server-server-api/#request-authentication).
package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of arrays and objects that Canonical accepts, so a hostile
// document cannot exhaust the stack.
const maxDepth = 128

// maxSafeInteger is 2**53-1, the largest magnitude Canonical JSON allows for a number.
const maxSafeInteger = 1<<53 - 1

// ErrNotCanonicalizable is wrapped by every error of Canonical and CanonicalJSON: the
// input is not JSON, is not UTF-8, repeats a key, nests too deeply or holds a number
// that is not an integer in [-(2**53)+1, (2**53)-1].
var ErrNotCanonicalizable = errors.New("not representable as Canonical JSON")

// Canonical re-encodes the JSON document data as Canonical JSON
// (https://spec.matrix.org/v1.13/appendices/#canonical-json): object keys sorted by
// code point, no insignificant whitespace, strings as raw UTF-8 with only the escapes
// the spec's grammar allows, and numbers as plain integers. A number whose value is an
// integer is accepted in any JSON spelling (1e10 becomes 10000000000, -0 becomes 0);
// fractions and integers outside the safe range are errors.
func Canonical(data []byte) ([]byte, error) {
	v, err := decodeTree(data)
	if err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	if err := encodeValue(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeTree parses one JSON document into the tree that encodeValue writes.
func decodeTree(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: the input is not valid UTF-8", ErrNotCanonicalizable)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrNotCanonicalizable)
	}
	return v, nil
}

// CanonicalJSON encodes v with encoding/json and returns the result as Canonical JSON.
// It fails as Canonical does, for instance on a float field with a fraction.
func CanonicalJSON(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T as JSON: %w", v, err)
	}
	return Canonical(data)
}

// decodeValue reads one JSON value from dec as a tree of map[string]any, []any, string,
// json.Number, bool and nil.
func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCanonicalizable, err)
	}

	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d levels", ErrNotCanonicalizable,
			maxDepth)
	}
	if delim == '[' {
		return decodeArray(dec, depth)
	}
	return decodeObject(dec, depth)
}

func decodeArray(dec *json.Decoder, depth int) ([]any, error) {
	list := []any{}
	for dec.More() {
		v, err := decodeValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}

	// The closing bracket.
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCanonicalizable, err)
	}
	return list, nil
}

func decodeObject(dec *json.Decoder, depth int) (map[string]any, error) {
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotCanonicalizable, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: object key %v is not a string",
				ErrNotCanonicalizable, tok)
		}

		// Two values for one key would let signer and verifier see different objects.
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("%w: key %q appears twice", ErrNotCanonicalizable, key)
		}
		v, err := decodeValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}

	// The closing brace.
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCanonicalizable, err)
	}
	return obj, nil
}

// encodeValue writes a tree made by decodeValue (or built from the same types) in
// Canonical JSON.
func encodeValue(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case string:
		writeString(buf, v)
	case json.Number:
		n, err := canonicalNumber(string(v))
		if err != nil {
			return err
		}
		buf.WriteString(n)
	case []any:
		buf.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeValue(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		return encodeObject(buf, v)
	default:
		return fmt.Errorf("%w: unexpected %T in the JSON tree", ErrNotCanonicalizable, v)
	}
	return nil
}

func encodeObject(buf *bytes.Buffer, obj map[string]any) error {
	// Go compares strings byte by byte, which for UTF-8 is code point order.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, k)
		buf.WriteByte(':')
		if err := encodeValue(buf, obj[k]); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// writeString writes s quoted, escaping only '"', '\' and the ASCII control characters,
// the latter as \b \t \n \f \r or \u00xx with lowercase hex digits, as the grammar says.
func writeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"

	buf.WriteByte('"')
	for i := range len(s) {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		case c == '\b':
			buf.WriteString(`\b`)
		case c == '\t':
			buf.WriteString(`\t`)
		case c == '\n':
			buf.WriteString(`\n`)
		case c == '\f':
			buf.WriteString(`\f`)
		case c == '\r':
			buf.WriteString(`\r`)
		case c < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xf])
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte('"')
}

// canonicalNumber returns the JSON number s as a plain integer, or an error when its
// value is not an integer in the safe range. It works on the decimal digits, never on a
// float, so 9007199254740993 is rejected rather than rounded, and a huge exponent costs
// nothing.
func canonicalNumber(s string) (string, error) {
	orig := s
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")

	mantissa, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return "0", nil // 0, -0, 0.0 and 0e7 are all zero
	}

	exp := 0
	if hasExp {
		e, err := strconv.Atoi(expText)
		if err != nil || e > 1000 || e < -1000 {
			return "", fmt.Errorf("%w: number %s is out of range", ErrNotCanonicalizable, orig)
		}
		exp = e
	}
	exp -= len(frac)

	// Trailing zeros of the digits move into the exponent: 1.50e1 is 15.
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	if exp < 0 {
		return "", fmt.Errorf("%w: number %s is not an integer", ErrNotCanonicalizable, orig)
	}
	if len(digits)+exp > len(strconv.Itoa(maxSafeInteger)) {
		return "", fmt.Errorf("%w: number %s is out of range", ErrNotCanonicalizable, orig)
	}

	n, err := strconv.ParseInt(digits+strings.Repeat("0", exp), 10, 64)
	if err != nil || n > maxSafeInteger {
		return "", fmt.Errorf("%w: number %s is out of range", ErrNotCanonicalizable, orig)
	}
	if neg {
		n = -n
	}
	return strconv.FormatInt(n, 10), nil
}
