package signing

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrWrongDestination is wrapped by VerifyRequest's error when the Authorization header
// names another destination than the receiver; the spec says to answer 401.
var ErrWrongDestination = errors.New("the request is addressed to another server")

// ErrBadAuthorization is wrapped by ParseAuthorization's errors: the header is not a
// well-formed X-Matrix credential.
var ErrBadAuthorization = errors.New("malformed X-Matrix authorization")

// Request is what an X-Matrix signature covers: the request line, the two servers and
// the body (https://spec.matrix.org/v1.13/server-server-api/#request-authentication).
type Request struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// URI is the request target from /_matrix on, with the query string if there is
	// one, and without scheme and host.
	URI string
	// Origin is the server name of the sender.
	Origin string
	// Destination is the server name of the receiver.
	Destination string
	// ForIdentityServer names the destination under the key destination_is in the
	// signed object rather than destination. This is how homeservers sign the unbind
	// request to an identity server: the spec leaves it open, and Synapse sends and
	// Sydent checks this form. The header's destination parameter is the same either
	// way.
	ForIdentityServer bool
	// Content is the JSON request body exactly as sent, or nil when there is none.
	Content []byte
}

// signedObject returns the JSON object whose signature authenticates r, without
// signatures.
func (r Request) signedObject() (map[string]any, error) {
	obj := map[string]any{"method": r.Method, "uri": r.URI, "origin": r.Origin}
	if r.ForIdentityServer {
		obj["destination_is"] = r.Destination
	} else {
		obj["destination"] = r.Destination
	}

	if r.Content != nil {
		content, err := decodeTree(r.Content)
		if err != nil {
			return nil, fmt.Errorf("request body of %s %s: %w", r.Method, r.URI, err)
		}
		obj["content"] = content
	}
	return obj, nil
}

// AuthorizationHeader signs r as r.Origin with key and returns the value of the
// Authorization header that carries the signature:
//
//	X-Matrix origin="a.example",destination="b.example",key="ed25519:k",sig="…"
//
// It writes what the spec asks senders to write for old receivers: one space after the
// scheme, lower-case names, quoted values without backslashes and no spaces around the
// commas (Sydent splits the header on spaces and commas). It fails when a server name
// holds a quote, backslash, comma or space, or when r.Content is not canonical JSON.
func AuthorizationHeader(r Request, key Key) (string, error) {
	for _, v := range []string{r.Origin, r.Destination} {
		if v == "" || strings.ContainsAny(v, "\"\\, \t\r\n") {
			return "", fmt.Errorf("server name %q cannot go in an X-Matrix header", v)
		}
	}

	obj, err := r.signedObject()
	if err != nil {
		return "", err
	}
	signed, err := SignJSON(obj, r.Origin, key)
	if err != nil {
		return "", fmt.Errorf("sign %s %s for %s: %w", r.Method, r.URI, r.Destination, err)
	}

	var parsed struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	if err := json.Unmarshal(signed, &parsed); err != nil {
		return "", fmt.Errorf("read back the signed request object: %w", err)
	}
	sig := parsed.Signatures[r.Origin][key.ID]

	return fmt.Sprintf(`X-Matrix origin="%s",destination="%s",key="%s",sig="%s"`,
		r.Origin, r.Destination, key.ID, sig), nil
}

// XMatrix is the content of an X-Matrix Authorization header.
type XMatrix struct {
	// Origin is the server name of the sender.
	Origin string
	// Destination is the server name of the receiver; empty when an old sender left
	// the parameter out.
	Destination string
	// KeyID is the ID of the key that made the signature, such as "ed25519:abc".
	KeyID string
	// Signature is the unpadded base64 signature.
	Signature string
}

// ParseAuthorization reads an Authorization header value with the X-Matrix scheme, as
// RFC 9110 section 11.4 describes it: parameter names in any case and order, values as
// tokens or quoted strings with backslash escapes, optional whitespace around commas,
// unknown parameters ignored. Unquoted values may contain colons, for old senders. It
// fails, wrapping ErrBadAuthorization, on another scheme, a syntax error, a repeated
// parameter or a missing origin, key or sig.
func ParseAuthorization(header string) (XMatrix, error) {
	scheme, rest, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "X-Matrix") {
		return XMatrix{}, fmt.Errorf("%w: scheme %q is not X-Matrix", ErrBadAuthorization,
			scheme)
	}

	params, err := parseAuthParams(rest)
	if err != nil {
		return XMatrix{}, err
	}

	x := XMatrix{
		Origin:      params["origin"],
		Destination: params["destination"],
		KeyID:       params["key"],
		Signature:   params["sig"],
	}
	if x.Origin == "" || x.KeyID == "" || x.Signature == "" {
		return XMatrix{}, fmt.Errorf("%w: origin, key and sig are all required",
			ErrBadAuthorization)
	}
	return x, nil
}

// parseAuthParams reads a comma-separated list of name=value pairs into a map keyed by
// the lower-cased names.
func parseAuthParams(s string) (map[string]string, error) {
	params := map[string]string{}
	p := &paramScanner{s: s}
	for {
		p.skipSpace()
		if p.done() {
			return params, nil
		}
		if p.peek() == ',' { // empty list elements are allowed
			p.i++
			continue
		}

		name, value, err := p.pair()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadAuthorization, err)
		}
		if _, dup := params[name]; dup {
			return nil, fmt.Errorf("%w: parameter %s appears twice", ErrBadAuthorization,
				name)
		}
		params[name] = value

		p.skipSpace()
		if !p.done() && p.peek() != ',' {
			return nil, fmt.Errorf("%w: expected a comma after %s", ErrBadAuthorization,
				name)
		}
	}
}

// paramScanner walks an auth-param list.
type paramScanner struct {
	s string
	i int
}

func (p *paramScanner) done() bool { return p.i >= len(p.s) }
func (p *paramScanner) peek() byte { return p.s[p.i] }

func (p *paramScanner) skipSpace() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

// pair reads name BWS "=" BWS value.
func (p *paramScanner) pair() (name, value string, err error) {
	start := p.i
	for !p.done() && isTokenChar(p.peek()) {
		p.i++
	}
	name = strings.ToLower(p.s[start:p.i])
	if name == "" {
		return "", "", fmt.Errorf("expected a parameter name at offset %d", start)
	}

	p.skipSpace()
	if p.done() || p.peek() != '=' {
		return "", "", fmt.Errorf("parameter %s has no value", name)
	}
	p.i++
	p.skipSpace()

	if !p.done() && p.peek() == '"' {
		value, err = p.quoted()
		return name, value, err
	}
	start = p.i
	for !p.done() && (isTokenChar(p.peek()) || p.peek() == ':') {
		p.i++
	}
	return name, p.s[start:p.i], nil
}

// quoted reads a quoted-string and returns it unescaped.
func (p *paramScanner) quoted() (string, error) {
	start := p.i
	p.i++ // the opening quote

	var b strings.Builder
	for !p.done() {
		c := p.peek()
		p.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\' && !p.done():
			b.WriteByte(p.peek())
			p.i++
		case c < 0x20 && c != '\t', c == 0x7f:
			return "", fmt.Errorf("control character in the value at offset %d", p.i-1)
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("the quoted value at offset %d is not closed", start)
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// VerifyRequest checks the X-Matrix credential auth on a received request. r describes
// the request as the receiver saw it, with Destination set to the receiver's own server
// name; its Origin is ignored in favour of auth.Origin. pub is the public key the origin
// publishes under auth.KeyID. It fails with an error wrapping ErrWrongDestination when
// the header names another destination, and as VerifyJSON does when the signature is
// wrong.
func VerifyRequest(r Request, auth XMatrix, pub ed25519.PublicKey) error {
	if auth.Destination != "" && auth.Destination != r.Destination {
		return fmt.Errorf("%w: header names %q, this server is %q", ErrWrongDestination,
			auth.Destination, r.Destination)
	}

	r.Origin = auth.Origin
	obj, err := r.signedObject()
	if err != nil {
		return err
	}
	obj["signatures"] = map[string]any{auth.Origin: map[string]any{auth.KeyID: auth.Signature}}

	if err := VerifyJSON(obj, auth.Origin, auth.KeyID, pub); err != nil {
		return fmt.Errorf("X-Matrix signature on %s %s: %w", r.Method, r.URI, err)
	}
	return nil
}
