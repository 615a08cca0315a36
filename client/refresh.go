package client

import (
	"context"
	"errors"
	"time"
)

// refreshMargin is how long before its expiry an access token is refreshed.
const refreshMargin = 30 * time.Second

// RefreshRequest is the body of POST /refresh
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3refresh).
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// RefreshResponse is the answer of POST /refresh.
type RefreshResponse struct {
	AccessToken string `json:"access_token"`
	// RefreshToken is the new refresh token; "" means the old one stays valid.
	RefreshToken string `json:"refresh_token,omitempty"`
	// ExpiresInMS is the new access token's lifetime; 0 means it does not expire.
	ExpiresInMS int64 `json:"expires_in_ms,omitempty"`

	received time.Time
}

// Tokens returns the session's new credentials. refreshToken is the refresh token that
// was sent, kept when the server did not issue a new one.
func (r *RefreshResponse) Tokens(refreshToken string) Tokens {
	if r.RefreshToken != "" {
		refreshToken = r.RefreshToken
	}
	return Tokens{AccessToken: r.AccessToken, RefreshToken: refreshToken,
		ExpiresAt: expiresAt(receivedAt(r.received), r.ExpiresInMS)}
}

// receivedAt returns t, or now for an answer the client did not receive itself.
func receivedAt(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// Refresh exchanges a refresh token for a new access token (and usually a new refresh
// token). It sends no access token and does not change the client's tokens: use
// SetTokens with the answer's Tokens, or let the client refresh by itself (see the
// package documentation). An unknown or used refresh token fails with
// mxerr.ErrUnknownToken.
func (c *Client) Refresh(ctx context.Context, req *RefreshRequest) (*RefreshResponse, error) {
	var out RefreshResponse
	err := c.do(ctx, &request{method: "POST", path: prefixV3 + "/refresh", body: orEmpty(req),
		out: &out})
	if err != nil {
		return nil, err
	}
	out.received = time.Now()
	return &out, nil
}

// refreshAfter refreshes the client's tokens, unless another goroutine has already
// replaced stale, the access token that failed or is about to expire.
func (c *Client) refreshAfter(ctx context.Context, stale string) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()

	current := c.Tokens()
	if current.AccessToken != stale {
		return nil
	}
	if current.RefreshToken == "" {
		return errors.New("the client has no refresh token")
	}

	resp, err := c.Refresh(ctx, &RefreshRequest{RefreshToken: current.RefreshToken})
	if err != nil {
		return err
	}
	next := resp.Tokens(current.RefreshToken)

	// A caller may have called SetTokens meanwhile; its tokens win.
	c.mu.Lock()
	replaced := c.tokens.AccessToken == stale
	if replaced {
		c.tokens = next
	}
	c.mu.Unlock()

	if replaced && c.onRefresh != nil {
		c.onRefresh(next)
	}
	return nil
}
