package client

import (
	"context"
)

// ChangePasswordRequest is the body of POST /account/password
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3accountpassword).
type ChangePasswordRequest struct {
	// Auth proves the right to change the password; see UIA. With an access token it is
	// usually m.login.password with the old password; without one (a password reset) an
	// email or phone stage with a session from RequestEmailToken(PurposePasswordReset).
	Auth        *AuthData `json:"auth,omitempty"`
	NewPassword string    `json:"new_password"`
	// LogoutDevices says whether the user's other sessions end; nil leaves the server's
	// default, which is true.
	LogoutDevices *bool `json:"logout_devices,omitempty"`
}

// ChangePassword changes the account's password. It sends the client's access token
// when it has one; without one it is a password reset. The endpoint is protected by
// UIA: run it inside UIA.Do. A password the server finds too weak fails with
// mxerr.ErrWeakPassword; a server that does not allow changes (see Capabilities) with
// mxerr.ErrForbidden.
func (c *Client) ChangePassword(ctx context.Context, req *ChangePasswordRequest) error {
	return c.do(ctx, &request{method: "POST", path: prefixV3 + "/account/password",
		body: orEmpty(req), authed: true})
}

// DeactivateRequest is the body of POST /account/deactivate
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3accountdeactivate).
type DeactivateRequest struct {
	// Auth proves the right to deactivate; see UIA.
	Auth *AuthData `json:"auth,omitempty"`
	// IDServer is the identity server to unbind the account's 3PIDs from; "" uses the
	// server each was bound through.
	IDServer string `json:"id_server,omitempty"`
	// Erase asks the server to erase what it can of the user's data.
	Erase bool `json:"erase,omitempty"`
}

// UnbindResult says whether the identity server unbound the 3PIDs.
type UnbindResult struct {
	// IDServerUnbindResult is UnbindSuccess or UnbindNoSupport.
	IDServerUnbindResult string `json:"id_server_unbind_result"`
}

// The values of id_server_unbind_result.
const (
	// UnbindSuccess: every 3PID was unbound, or there was nothing to unbind.
	UnbindSuccess = "success"
	// UnbindNoSupport: an identity server refused, or none was known.
	UnbindNoSupport = "no-support"
)

// Deactivate deactivates the account for good: it can never log in again and its tokens
// stop working. It sends the client's access token when it has one. The endpoint is
// protected by UIA: run it inside UIA.Do. The client keeps its tokens, which the server
// no longer accepts.
func (c *Client) Deactivate(ctx context.Context, req *DeactivateRequest) (*UnbindResult, error) {
	var out UnbindResult
	err := c.do(ctx, &request{method: "POST", path: prefixV3 + "/account/deactivate",
		body: orEmpty(req), authed: true, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
