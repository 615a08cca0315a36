package client

import (
	"context"
	"net/url"
	"time"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// RegisterRequest is the body of POST /register for a user account
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3register).
type RegisterRequest struct {
	// Auth proves the right to register; see UIA.
	Auth *AuthData `json:"auth,omitempty"`
	// Username is the basis for the localpart; the server picks one when it is empty.
	// The localpart it uses may differ: read the answer's UserID.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// DeviceID reuses or names the new device; the server picks one when it is empty.
	DeviceID                 mxid.DeviceID `json:"device_id,omitempty"`
	InitialDeviceDisplayName string        `json:"initial_device_display_name,omitempty"`
	// InhibitLogin creates the account without logging it in: the answer then has no
	// access token and no device.
	InhibitLogin bool `json:"inhibit_login,omitempty"`
	// RefreshToken asks for a refresh token with the access token.
	RefreshToken bool `json:"refresh_token,omitempty"`
	// GuestAccessToken upgrades the guest account whose access token it is to a full
	// account, keeping its user ID; Username must then be the guest's localpart.
	GuestAccessToken string `json:"guest_access_token,omitempty"`
}

// RegisterResponse is the answer of POST /register.
type RegisterResponse struct {
	UserID       mxid.UserID   `json:"user_id"`
	AccessToken  string        `json:"access_token,omitempty"`
	DeviceID     mxid.DeviceID `json:"device_id,omitempty"`
	RefreshToken string        `json:"refresh_token,omitempty"`
	// ExpiresInMS is the access token's lifetime; 0 means it does not expire.
	ExpiresInMS int64 `json:"expires_in_ms,omitempty"`
	// HomeServer is the deprecated server name, which some servers still send.
	HomeServer string `json:"home_server,omitempty"`

	received time.Time
}

// Tokens returns the new session's credentials, for SetTokens.
func (r *RegisterResponse) Tokens() Tokens {
	return Tokens{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken,
		ExpiresAt: expiresAt(receivedAt(r.received), r.ExpiresInMS)}
}

// Register creates a user account (kind=user). Registration is protected by UIA: the
// first request, without req.Auth, fails with the challenge; run Register inside UIA.Do
// to complete it. A taken, invalid or reserved username fails before any challenge,
// with mxerr.ErrUserInUse, mxerr.ErrInvalidUsername or mxerr.ErrExclusive; a server
// that does not register users fails with mxerr.ErrForbidden. Register does not change
// the client's tokens.
func (c *Client) Register(ctx context.Context, req *RegisterRequest) (*RegisterResponse, error) {
	return c.register(ctx, "user", orEmpty(req))
}

// GuestRegisterRequest is the body of POST /register?kind=guest. The server ignores
// every other field for guests.
type GuestRegisterRequest struct {
	InitialDeviceDisplayName string `json:"initial_device_display_name,omitempty"`
}

// RegisterGuest creates a guest account, which needs no authentication and may use only
// a few endpoints. A server that does not allow guests fails with mxerr.ErrForbidden.
// RegisterGuest does not change the client's tokens.
func (c *Client) RegisterGuest(
	ctx context.Context, req *GuestRegisterRequest,
) (*RegisterResponse, error) {
	return c.register(ctx, "guest", orEmpty(req))
}

func (c *Client) register(ctx context.Context, kind string, body any) (*RegisterResponse, error) {
	var out RegisterResponse
	r := &request{method: "POST", path: prefixV3 + "/register", body: body, out: &out}
	if kind != "user" {
		r.query = url.Values{"kind": {kind}}
	}
	if err := c.do(ctx, r); err != nil {
		return nil, err
	}
	out.received = time.Now()
	return &out, nil
}

// UsernameAvailableResponse is the answer of GET /register/available.
type UsernameAvailableResponse struct {
	// Available is always true in a successful answer: a name that cannot be registered
	// fails instead.
	Available bool `json:"available"`
}

// UsernameAvailable checks whether username could be registered now
// (https://spec.matrix.org/v1.13/client-server-api/#get_matrixclientv3registeravailable).
// It reserves nothing. A taken name fails with mxerr.ErrUserInUse, an invalid one with
// mxerr.ErrInvalidUsername, one reserved by an application service with
// mxerr.ErrExclusive.
func (c *Client) UsernameAvailable(
	ctx context.Context, username string,
) (*UsernameAvailableResponse, error) {
	var out UsernameAvailableResponse
	err := c.do(ctx, &request{method: "GET", path: prefixV3 + "/register/available",
		query: url.Values{"username": {username}}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RegistrationTokenValidity is the answer of the registration-token validity check.
type RegistrationTokenValidity struct {
	Valid bool `json:"valid"`
}

// RegistrationTokenValid checks whether token could be used to register now
// (GET /_matrix/client/v1/register/m.login.registration_token/validity, note the v1).
// An unknown token is not an error: the answer says Valid false. A server that does
// not register users fails with mxerr.ErrForbidden.
func (c *Client) RegistrationTokenValid(
	ctx context.Context, token string,
) (*RegistrationTokenValidity, error) {
	var out RegistrationTokenValidity
	err := c.do(ctx, &request{method: "GET",
		path:  prefixV1 + "/register/m.login.registration_token/validity",
		query: url.Values{"token": {token}}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
