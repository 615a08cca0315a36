package client

import (
	"context"
	"time"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// The login types of POST /login that this package builds requests for.
const (
	LoginTypePassword = "m.login.password"
	LoginTypeToken    = "m.login.token"
)

// The user identifier types (https://spec.matrix.org/v1.13/client-server-api/#identifier-types).
const (
	IdentifierUser       = "m.id.user"
	IdentifierThirdParty = "m.id.thirdparty"
	IdentifierPhone      = "m.id.phone"
)

// UserIdentifier names the account to log in to, or to authenticate as in the
// m.login.password UIA stage. Build one with ByUser, ByThreePID or ByPhone.
type UserIdentifier struct {
	Type string `json:"type"`
	// User is a full user ID or a bare localpart (m.id.user).
	User string `json:"user,omitempty"`
	// Medium and Address name a 3PID added to the account (m.id.thirdparty).
	Medium  Medium `json:"medium,omitempty"`
	Address string `json:"address,omitempty"`
	// Country and Phone name a phone number as the user typed it (m.id.phone).
	Country string `json:"country,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// ByUser identifies an account by user ID ("@alice:example.org") or localpart
// ("alice").
func ByUser(user string) *UserIdentifier {
	return &UserIdentifier{Type: IdentifierUser, User: user}
}

// ByThreePID identifies an account by a 3PID added to it, in canonical form: a bare
// email address, or a phone number in international form without "+".
func ByThreePID(medium Medium, address string) *UserIdentifier {
	return &UserIdentifier{Type: IdentifierThirdParty, Medium: medium, Address: address}
}

// ByPhone identifies an account by a phone number as typed, with the two-letter
// ISO-3166-1 country it is dialled from; the server converts it.
func ByPhone(country, phone string) *UserIdentifier {
	return &UserIdentifier{Type: IdentifierPhone, Country: country, Phone: phone}
}

// LoginRequest is the body of POST /login
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3login).
type LoginRequest struct {
	// Type is LoginTypePassword or LoginTypeToken, or another type from LoginFlows.
	Type string `json:"type"`
	// Identifier and Password log in with m.login.password.
	Identifier *UserIdentifier `json:"identifier,omitempty"`
	Password   string          `json:"password,omitempty"`
	// Token logs in with m.login.token.
	Token string `json:"token,omitempty"`
	// DeviceID reuses or names the device; the server picks one when it is empty.
	DeviceID                 mxid.DeviceID `json:"device_id,omitempty"`
	InitialDeviceDisplayName string        `json:"initial_device_display_name,omitempty"`
	// RefreshToken asks for a refresh token with the access token.
	RefreshToken bool `json:"refresh_token,omitempty"`
}

// LoginResponse is the answer of POST /login.
type LoginResponse struct {
	UserID       mxid.UserID   `json:"user_id"`
	AccessToken  string        `json:"access_token"`
	DeviceID     mxid.DeviceID `json:"device_id"`
	RefreshToken string        `json:"refresh_token,omitempty"`
	// ExpiresInMS is the access token's lifetime; 0 means it does not expire.
	ExpiresInMS int64 `json:"expires_in_ms,omitempty"`
	// WellKnown is discovery information the client should apply, or nil.
	WellKnown *DiscoveryInfo `json:"well_known,omitempty"`
	// HomeServer is the deprecated server name, which some servers still send.
	HomeServer string `json:"home_server,omitempty"`

	received time.Time
}

// Tokens returns the new session's credentials, for SetTokens.
func (r *LoginResponse) Tokens() Tokens {
	return Tokens{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken,
		ExpiresAt: expiresAt(receivedAt(r.received), r.ExpiresInMS)}
}

// Login logs in and starts a session on a device. Wrong credentials, an unknown user or
// 3PID and a bad login token fail with mxerr.ErrForbidden; a deactivated account with
// mxerr.ErrUserDeactivated (or ErrForbidden); an unknown login type with a 400, usually
// mxerr.ErrUnknown. Login does not change the client's tokens: pass the answer's Tokens
// to SetTokens.
func (c *Client) Login(ctx context.Context, req *LoginRequest) (*LoginResponse, error) {
	var out LoginResponse
	err := c.do(ctx, &request{method: "POST", path: prefixV3 + "/login", body: orEmpty(req),
		out: &out})
	if err != nil {
		return nil, err
	}
	out.received = time.Now()
	return &out, nil
}

// LoginFlow is one login type the server accepts.
type LoginFlow struct {
	Type string `json:"type"`
	// GetLoginToken says, for m.login.token, that a logged-in client can make tokens.
	GetLoginToken bool `json:"get_login_token,omitempty"`
	// IdentityProviders are the choices of an m.login.sso flow.
	IdentityProviders []IdentityProvider `json:"identity_providers,omitempty"`
}

// IdentityProvider is one single-sign-on provider of an m.login.sso flow.
type IdentityProvider struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Icon  string `json:"icon,omitempty"`
	Brand string `json:"brand,omitempty"`
}

// LoginFlowsResponse is the answer of GET /login.
type LoginFlowsResponse struct {
	Flows []LoginFlow `json:"flows"`
}

// Supports reports whether the server offers the login type typ.
func (r *LoginFlowsResponse) Supports(typ string) bool {
	for _, f := range r.Flows {
		if f.Type == typ {
			return true
		}
	}
	return false
}

// LoginFlows returns the login types the server accepts
// (https://spec.matrix.org/v1.13/client-server-api/#get_matrixclientv3login). A server
// without the password-based login API fails with mxerr.ErrUnrecognized (404).
func (c *Client) LoginFlows(ctx context.Context) (*LoginFlowsResponse, error) {
	var out LoginFlowsResponse
	if err := c.do(ctx, &request{method: "GET", path: prefixV3 + "/login", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Logout ends the client's session: the server deletes its device and access token.
// On success the client forgets its tokens. Without a valid token it fails with
// mxerr.ErrMissingToken or mxerr.ErrUnknownToken.
func (c *Client) Logout(ctx context.Context) error {
	return c.logout(ctx, "/logout")
}

// LogoutAll ends every session of the user, this one included: the server deletes all
// devices and tokens. On success the client forgets its tokens.
func (c *Client) LogoutAll(ctx context.Context) error {
	return c.logout(ctx, "/logout/all")
}

func (c *Client) logout(ctx context.Context, path string) error {
	// The spec has these two take no body.
	err := c.do(ctx, &request{method: "POST", path: prefixV3 + path, authed: true})
	if err != nil {
		return err
	}
	c.SetTokens(Tokens{})
	return nil
}

// WhoamiResponse is the answer of GET /account/whoami.
type WhoamiResponse struct {
	UserID mxid.UserID `json:"user_id"`
	// DeviceID is empty for a token with no device, such as an application service's.
	DeviceID mxid.DeviceID `json:"device_id,omitempty"`
	IsGuest  bool          `json:"is_guest,omitempty"`
}

// Whoami returns the owner of the client's access token
// (https://spec.matrix.org/v1.13/client-server-api/#get_matrixclientv3accountwhoami).
// Without a valid token it fails with mxerr.ErrMissingToken or mxerr.ErrUnknownToken.
func (c *Client) Whoami(ctx context.Context) (*WhoamiResponse, error) {
	var out WhoamiResponse
	err := c.do(ctx, &request{method: "GET", path: prefixV3 + "/account/whoami", authed: true,
		out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
