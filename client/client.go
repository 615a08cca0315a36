package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// Path prefixes of the Client-Server API. Every endpoint lives under v3 except the
// registration-token check (v1) and /versions (no version segment).
const (
	prefixV3 = "/_matrix/client/v3"
	prefixV1 = "/_matrix/client/v1"
)

// defaultTimeout bounds each request sent with the default HTTP client.
const defaultTimeout = 30 * time.Second

// maxAnswerBytes caps how much of an answer the client reads; account answers are small.
const maxAnswerBytes = 4 << 20

// Options configures a Client. Only BaseURL is required.
type Options struct {
	// BaseURL is the homeserver's client API base URL, such as "https://matrix.example.org":
	// the m.homeserver base_url of its discovery information. It may carry a path; a
	// trailing slash is ignored.
	BaseURL string
	// HTTPClient sends the requests. Nil means a client with a 30-second timeout.
	HTTPClient *http.Client
	// Tokens are the credentials of the session to start with. Leave them empty to log
	// in or register first, then call SetTokens.
	Tokens Tokens
	// OnRefresh, when set, is called with the new tokens after every automatic refresh,
	// so that the caller can store them. It runs while other refreshes wait: keep it short
	// and do not call the Client from it.
	OnRefresh func(Tokens)
	// Retry says how often and how long to wait when the server answers 429. The zero
	// value never retries.
	Retry RetryPolicy
	// UserAgent is sent with every request; "" sends "mxaccounts-client".
	UserAgent string
}

// Tokens are the credentials of one session, that is of one device.
type Tokens struct {
	// AccessToken authenticates requests; "" sends none.
	AccessToken string
	// RefreshToken, when set, lets the client get a new access token by itself.
	RefreshToken string
	// ExpiresAt is when the access token expires; the zero time means never.
	ExpiresAt time.Time
}

// expiresAt turns an expires_in_ms received at t into a time; 0 means never.
func expiresAt(t time.Time, expiresInMS int64) time.Time {
	if expiresInMS <= 0 {
		return time.Time{}
	}
	return t.Add(time.Duration(expiresInMS) * time.Millisecond)
}

// Client calls the account-management endpoints of one homeserver. It is safe for
// concurrent use; the methods that change the session (SetTokens, Logout, LogoutAll and
// automatic refreshes) take effect for every later request.
type Client struct {
	base      string
	http      *http.Client
	retry     RetryPolicy
	userAgent string
	onRefresh func(Tokens)

	mu     sync.Mutex // guards tokens
	tokens Tokens

	// refreshMu lets one automatic refresh run at a time, so that requests failing
	// together on the same expired token refresh it once.
	refreshMu sync.Mutex
}

// New returns a Client for the homeserver at opts.BaseURL. It fails when the base URL
// is not an absolute http or https URL.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse base URL %q: %w", opts.BaseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want an absolute http or https URL",
			opts.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: must not have a query or fragment", opts.BaseURL)
	}

	c := &Client{
		base:      strings.TrimSuffix(u.String(), "/"),
		http:      opts.HTTPClient,
		retry:     opts.Retry,
		userAgent: opts.UserAgent,
		onRefresh: opts.OnRefresh,
		tokens:    opts.Tokens,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: defaultTimeout}
	}
	if c.userAgent == "" {
		c.userAgent = "mxaccounts-client"
	}
	return c, nil
}

// BaseURL returns the base URL the client sends its requests to, without a trailing
// slash.
func (c *Client) BaseURL() string { return c.base }

// Tokens returns the client's current credentials.
func (c *Client) Tokens() Tokens {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens
}

// SetTokens replaces the client's credentials, for example with the tokens of a login.
func (c *Client) SetTokens(t Tokens) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens = t
}

// request is one API call.
type request struct {
	method string
	// path is the escaped path below the base URL, such as "/_matrix/client/v3/login".
	path string
	// url, when set, is an absolute URL to send to instead of the base URL and path.
	url   string
	query url.Values
	// body is encoded as JSON; nil sends no body.
	body any
	// authed sends the access token, when the client has one.
	authed bool
	// out receives the decoded 2xx body; nil ignores it.
	out any
}

// orEmpty returns req, or a zero request when req is nil, so that a nil request sends
// the fields' zero values rather than null.
func orEmpty[T any](req *T) *T {
	if req == nil {
		return new(T)
	}
	return req
}

// answer is what came back for one attempt.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends r, with the retries and the token refresh the client is configured for, and
// decodes the answer. Its errors name the method and path; a Matrix error answer is an
// *mxerr.Error inside.
func (c *Client) do(ctx context.Context, r *request) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("%s %s: encode request body: %w", r.method, r.path, err)
		}
	}

	// A Matrix error answer gets a message of its own; errors from refreshing or waiting
	// keep theirs.
	err := c.send(ctx, r, body)
	if merr, ok := err.(*mxerr.Error); ok {
		return &requestError{method: r.method, path: r.where(), err: merr}
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.method, r.where(), err)
	}
	return nil
}

// where names the request's target in errors.
func (r *request) where() string {
	if r.url != "" {
		return r.url
	}
	return r.path
}

// send runs the attempts of one call: it retries 429 answers within the retry policy
// and, once, a soft-logged-out token after refreshing it.
func (c *Client) send(ctx context.Context, r *request, body []byte) error {
	refreshed := false
	for retries := 0; ; {
		token, err := c.accessToken(ctx, r)
		if err != nil {
			return err
		}

		ans, err := c.roundTrip(ctx, r, body, token)
		if err != nil {
			return err
		}
		if ans.status >= 200 && ans.status < 300 {
			return ans.decode(r.out)
		}

		apiErr := decodeError(ans)
		switch {
		case ans.status == http.StatusTooManyRequests:
			if err := c.retry.pause(ctx, ans, apiErr, retries); err != nil {
				return err
			}
			retries++
		case r.authed && !refreshed && token != "" && isSoftLogout(apiErr) &&
			c.Tokens().RefreshToken != "":
			if err := c.refreshAfter(ctx, token); err != nil {
				return fmt.Errorf("refresh the access token after %s: %w", apiErr.Code, err)
			}
			refreshed = true
		default:
			return apiErr
		}
	}
}

// roundTrip sends one attempt and reads the whole answer.
func (c *Client) roundTrip(
	ctx context.Context, r *request, body []byte, token string,
) (*answer, error) {
	target := c.base + r.path
	if r.url != "" {
		target = r.url
	}
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}

	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("send request: %w", err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(data) > maxAnswerBytes {
		return nil, fmt.Errorf("answer (HTTP %d) is larger than %d bytes", resp.StatusCode,
			maxAnswerBytes)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// decode reads a 2xx body into out.
func (a *answer) decode(out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return fmt.Errorf("decode answer (HTTP %d, %s): %w", a.status, describeBody(a), err)
	}
	return nil
}

// accessToken returns the token to send with r, refreshing it first when it is about to
// expire and the client holds a refresh token.
func (c *Client) accessToken(ctx context.Context, r *request) (string, error) {
	if !r.authed {
		return "", nil
	}
	t := c.Tokens()
	if t.RefreshToken == "" || t.ExpiresAt.IsZero() || time.Until(t.ExpiresAt) > refreshMargin {
		return t.AccessToken, nil
	}

	if err := c.refreshAfter(ctx, t.AccessToken); err != nil {
		return "", fmt.Errorf("refresh the access token before it expires: %w", err)
	}
	return c.Tokens().AccessToken, nil
}
