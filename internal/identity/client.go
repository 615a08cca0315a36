// Package identity is the homeserver's client for the v2 API of identity servers
// (https://spec.matrix.org/v1.13/identity-service-api/). It publishes a binding by
// proxying POST /account/3pid/bind to the server's /3pid/bind with the user's identity
// access token, and removes one with a /3pid/unbind request that the homeserver signs
// with its own key, so that deactivation and 3PID deletion need no token of the user's.
//
// Identity servers are named by host and optional port and reached over https only.
// Unless the configuration lists trusted servers, requests go only to public addresses,
// so a client cannot make the homeserver call into its own network.
package identity

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/signing"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// The paths of the two calls, below the identity server's base URL.
const (
	bindPath   = "/_matrix/identity/v2/3pid/bind"
	unbindPath = "/_matrix/identity/v2/3pid/unbind"
)

// Defaults for the zero values of Options.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 10
)

// ErrUnavailable is wrapped by the errors of Bind and Unbind when the identity server
// gave no usable answer: it could not be reached, timed out, failed TLS, answered with
// a status and body that are neither success nor a Matrix error, or sent more than the
// response limit. The HTTP layer answers such a bind with 500 and logs the cause.
var ErrUnavailable = errors.New("the identity server gave no usable answer")

// errBlockedAddress is returned by the dialer for an address the client may not reach.
var errBlockedAddress = errors.New("address not allowed for identity servers")

// Service is what the 3PID endpoints need from identity servers. *Client implements it;
// tests of the endpoints use a Client pointed at identitytest's fake server.
type Service interface {
	// Bind publishes the binding of a validated identity-server session to a user.
	Bind(ctx context.Context, req BindRequest) (*Association, error)
	// Unbind removes a binding, signed by the homeserver.
	Unbind(ctx context.Context, req UnbindRequest) (UnbindResult, error)
}

// Options configures a Client.
type Options struct {
	// ServerName is the homeserver's server name: the origin of signed requests, whose
	// published keys identity servers check the signatures against.
	ServerName string
	// Key is the homeserver's signing key, the one published at /_matrix/key/v2/server.
	Key signing.Key
	// TrustedServers lists the identity servers (host or host:port, any case) the client
	// may contact; others are refused with M_SERVER_NOT_TRUSTED. When it is empty any
	// server may be contacted, but only at a public address.
	TrustedServers []string
	// Timeout bounds one request, connection and answer included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds the answer body that is read; zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// PlainHTTP reaches identity servers over http instead of https, and then only at
	// loopback addresses. It exists for tests against identitytest; never set it in
	// production.
	PlainHTTP bool
	// TLSConfig replaces the default TLS settings, for tests that trust a loopback
	// server's certificate; nil uses the system roots.
	TLSConfig *tls.Config
}

// Client talks to identity servers for the homeserver. It is safe for concurrent use.
type Client struct {
	opts    Options
	trusted map[string]bool
	http    *http.Client
}

// New returns a Client. It fails when the server name or the key is missing.
func New(opts Options) (*Client, error) {
	if opts.ServerName == "" {
		return nil, errors.New("identity client: the homeserver's server name is needed")
	}
	if opts.Key.ID == "" || len(opts.Key.Private) == 0 {
		return nil, errors.New("identity client: the homeserver's signing key is needed")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}

	c := &Client{opts: opts, trusted: map[string]bool{}}
	for _, s := range opts.TrustedServers {
		c.trusted[strings.ToLower(s)] = true
	}
	c.http = c.newHTTPClient()
	return c, nil
}

// newHTTPClient builds a client whose dialer checks every address it connects to and
// which follows no redirect. It uses no HTTP proxy, because the address check must see
// the identity server's own address.
func (c *Client) newHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: c.opts.Timeout, Control: c.checkAddress}

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.opts.TLSConfig != nil {
		tlsConfig = c.opts.TLSConfig.Clone()
	}

	return &http.Client{
		Timeout: c.opts.Timeout,
		Transport: &http.Transport{
			DialContext:            dialer.DialContext,
			TLSClientConfig:        tlsConfig,
			TLSHandshakeTimeout:    c.opts.Timeout,
			ResponseHeaderTimeout:  c.opts.Timeout,
			MaxResponseHeaderBytes: 16 << 10,
			ForceAttemptHTTP2:      true,
			IdleConnTimeout:        90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkAddress runs before each connection with the resolved address. In PlainHTTP
// mode only loopback addresses pass; with a trusted list every address of a listed
// server passes; otherwise only public unicast addresses do.
func (c *Client) checkAddress(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address and port", errBlockedAddress, address)
	}
	ip := ap.Addr().Unmap()

	switch {
	case c.opts.PlainHTTP:
		if !ip.IsLoopback() {
			return fmt.Errorf("%w: %s is not loopback (plain http is for tests)",
				errBlockedAddress, ip)
		}
	case len(c.trusted) > 0:
	case !isPublic(ip):
		return fmt.Errorf("%w: %s is not a public address", errBlockedAddress, ip)
	}
	return nil
}

// specialPrefixes are ranges that IsGlobalUnicast accepts but that no public identity
// server lives in.
var specialPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// isPublic reports whether ip is a global unicast address outside the private, shared
// and documentation ranges.
func isPublic(ip netip.Addr) bool {
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range specialPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// baseURL checks idServer and returns the URL its API lives under. A malformed name
// gives 400 M_INVALID_PARAM, an untrusted one 400 M_SERVER_NOT_TRUSTED.
func (c *Client) baseURL(idServer string) (string, error) {
	if err := checkServerName(idServer); err != nil {
		return "", mxerr.ErrInvalidParam.Msg("id_server %q is not a host name with an "+
			"optional port: %v", idServer, err)
	}
	if len(c.trusted) > 0 && !c.trusted[strings.ToLower(idServer)] {
		return "", errServerNotTrusted(idServer)
	}

	if c.opts.PlainHTTP {
		return "http://" + idServer, nil
	}
	return "https://" + idServer, nil
}

// errServerNotTrusted is the answer for an identity server this homeserver will not
// contact.
func errServerNotTrusted(idServer string) *mxerr.Error {
	return mxerr.New(http.StatusBadRequest, mxerr.CodeServerNotTrusted,
		fmt.Sprintf("this homeserver does not contact the identity server %s", idServer))
}

// checkServerName accepts "host" or "host:port", where host is a DNS name, an IPv4
// address or a bracketed IPv6 address, and the port is 1 to 65535.
func checkServerName(s string) error {
	u, err := url.Parse("https://" + s)
	if err != nil {
		return err
	}
	if u.Host != s || u.User != nil {
		return errors.New("only a host and a port are allowed")
	}

	if p := u.Port(); p != "" || strings.HasSuffix(s, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not 1 to 65535", p)
		}
	}

	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		return fmt.Errorf("%q is not an IPv6 address", host)
	}
	return checkDNSName(host)
}

// checkDNSName accepts dot-separated labels of letters, digits and hyphens.
func checkDNSName(host string) error {
	if host == "" || len(host) > 253 {
		return errors.New("the host name is empty or too long")
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("label %q of %q is empty or too long", label, host)
		}
		for _, r := range label {
			ok := r == '-' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') ||
				('0' <= r && r <= '9')
			if !ok {
				return fmt.Errorf("host %q contains %q", host, r)
			}
		}
	}
	return nil
}

// post sends body to url with the given Authorization header and returns the status
// and the answer body, read up to the response limit.
func (c *Client) post(ctx context.Context, url, authorization string, body []byte) (
	int, []byte, error,
) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url,
		bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("build request to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", authorization)

	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()

	answer, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponseBytes+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: read the answer from %s: %w", ErrUnavailable, url, err)
	}
	if int64(len(answer)) > c.opts.MaxResponseBytes {
		return 0, nil, fmt.Errorf("%w: the answer from %s is larger than %d bytes",
			ErrUnavailable, url, c.opts.MaxResponseBytes)
	}
	return resp.StatusCode, answer, nil
}

// transportError turns a failed request into the error Bind and Unbind return: an
// address the dialer refused becomes M_SERVER_NOT_TRUSTED, anything else wraps
// ErrUnavailable.
func transportError(idServer, call string, err error) error {
	if errors.Is(err, errBlockedAddress) {
		return fmt.Errorf("%s on %s: %w (%w)", call, idServer,
			errServerNotTrusted(idServer), err)
	}
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%s on %s: %w", call, idServer, err)
	}
	return fmt.Errorf("%s on %s: %w: %w", call, idServer, ErrUnavailable, err)
}

// matrixError returns the answer as an *mxerr.Error with the identity server's status
// when body is a standard error response (a JSON object with an errcode), else nil.
func matrixError(status int, body []byte) *mxerr.Error {
	var e mxerr.Error
	if err := e.UnmarshalJSON(body); err != nil || e.Code == "" {
		return nil
	}
	e.Status = status
	e.UIA = nil
	return &e
}
