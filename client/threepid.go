package client

import (
	"context"
	"fmt"
	"net/url"
)

// Medium is the kind of a third-party identifier (3PID).
type Medium string

// The 3PID media of the spec.
const (
	MediumEmail  Medium = "email"
	MediumMSISDN Medium = "msisdn"
)

// ThreePIDCredentials name a validated 3PID validation session: the threepid_creds of
// the email and phone UIA stages, and the three_pid_creds of the deprecated
// POST /account/3pid, where IDServer and IDAccessToken are required.
type ThreePIDCredentials struct {
	SID           string `json:"sid"`
	ClientSecret  string `json:"client_secret"`
	IDServer      string `json:"id_server,omitempty"`
	IDAccessToken string `json:"id_access_token,omitempty"`
}

// ValidationPurpose says what a 3PID validation session is for. It picks the family of
// requestToken endpoints, and the server checks the address accordingly.
type ValidationPurpose string

// The three requestToken families.
const (
	// PurposeRegister validates an address for a new account
	// (/register/{medium}/requestToken); it must not be in use.
	PurposeRegister ValidationPurpose = "register"
	// PurposePasswordReset validates an address of an existing account
	// (/account/password/{medium}/requestToken); it must be in use.
	PurposePasswordReset ValidationPurpose = "account/password"
	// PurposeAddThreePID validates an address to add to the caller's account
	// (/account/3pid/{medium}/requestToken); it must not be in use.
	PurposeAddThreePID ValidationPurpose = "account/3pid"
)

// EmailTokenRequest is the body of the email requestToken endpoints
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3registeremailrequesttoken).
type EmailTokenRequest struct {
	// ClientSecret is made by the client, for example with NewClientSecret.
	ClientSecret string `json:"client_secret"`
	Email        string `json:"email"`
	// SendAttempt sends a new email only when it is greater than the last one sent for
	// this client secret and address.
	SendAttempt int    `json:"send_attempt"`
	NextLink    string `json:"next_link,omitempty"`
	// IDServer and IDAccessToken ask an identity server to validate; most homeservers
	// validate themselves and ignore them.
	IDServer      string `json:"id_server,omitempty"`
	IDAccessToken string `json:"id_access_token,omitempty"`
}

// MSISDNTokenRequest is the body of the phone (msisdn) requestToken endpoints.
type MSISDNTokenRequest struct {
	ClientSecret string `json:"client_secret"`
	// Country is the two-letter ISO-3166-1 code the number is dialled from.
	Country       string `json:"country"`
	PhoneNumber   string `json:"phone_number"`
	SendAttempt   int    `json:"send_attempt"`
	NextLink      string `json:"next_link,omitempty"`
	IDServer      string `json:"id_server,omitempty"`
	IDAccessToken string `json:"id_access_token,omitempty"`
}

// RequestTokenResponse is the answer of a requestToken endpoint: the validation session.
type RequestTokenResponse struct {
	SID string `json:"sid"`
	// SubmitURL is where to send the token the user received; "" when the server
	// validates through its link only.
	SubmitURL string `json:"submit_url,omitempty"`
}

// RequestEmailToken asks the server to email a validation token for purpose. The
// register and 3PID families fail with mxerr.CodeThreepidInUse when the address is
// taken, the password family with mxerr.CodeThreepidNotFound when no account has it;
// a refused address fails with mxerr.CodeThreepidDenied (403). Some servers send an
// email in those cases instead, so as not to reveal which addresses are in use.
func (c *Client) RequestEmailToken(
	ctx context.Context, purpose ValidationPurpose, req *EmailTokenRequest,
) (*RequestTokenResponse, error) {
	return c.requestToken(ctx, purpose, "email", orEmpty(req))
}

// RequestMSISDNToken asks the server to text a validation token for purpose, with the
// errors of RequestEmailToken.
func (c *Client) RequestMSISDNToken(
	ctx context.Context, purpose ValidationPurpose, req *MSISDNTokenRequest,
) (*RequestTokenResponse, error) {
	return c.requestToken(ctx, purpose, "msisdn", orEmpty(req))
}

func (c *Client) requestToken(
	ctx context.Context, purpose ValidationPurpose, medium string, body any,
) (*RequestTokenResponse, error) {
	switch purpose {
	case PurposeRegister, PurposePasswordReset, PurposeAddThreePID:
	default:
		return nil, fmt.Errorf("request %s token: unknown purpose %q", medium, purpose)
	}

	var out RequestTokenResponse
	err := c.do(ctx, &request{method: "POST",
		path: prefixV3 + "/" + string(purpose) + "/" + medium + "/requestToken", body: body,
		out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SubmitTokenRequest is the body sent to a submit_url.
type SubmitTokenRequest struct {
	SID          string `json:"sid"`
	ClientSecret string `json:"client_secret"`
	Token        string `json:"token"`
}

// SubmitTokenResponse is the answer of a submit_url.
type SubmitTokenResponse struct {
	Success bool `json:"success"`
}

// SubmitValidationToken sends the token the user received to the session's submit_url,
// an absolute URL chosen by the server. It sends no access token. A wrong token fails
// with mxerr.CodeTokenIncorrect, an expired session with mxerr.CodeSessionExpired.
func (c *Client) SubmitValidationToken(
	ctx context.Context, submitURL string, req *SubmitTokenRequest,
) (*SubmitTokenResponse, error) {
	u, err := url.Parse(submitURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("submit validation token: submit_url %q is not an absolute "+
			"http or https URL", submitURL)
	}

	var out SubmitTokenResponse
	err = c.do(ctx, &request{method: "POST", url: submitURL, body: orEmpty(req), out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ThreePID is a 3PID added to the account.
type ThreePID struct {
	Medium  Medium `json:"medium"`
	Address string `json:"address"`
	// ValidatedAt and AddedAt are in milliseconds since the Unix epoch.
	ValidatedAt int64 `json:"validated_at"`
	AddedAt     int64 `json:"added_at"`
}

// ThreePIDsResponse is the answer of GET /account/3pid.
type ThreePIDsResponse struct {
	ThreePIDs []ThreePID `json:"threepids"`
}

// ThreePIDs lists the 3PIDs added to the account on the homeserver (not the bindings on
// identity servers)
// (https://spec.matrix.org/v1.13/client-server-api/#get_matrixclientv3account3pid).
func (c *Client) ThreePIDs(ctx context.Context) (*ThreePIDsResponse, error) {
	var out ThreePIDsResponse
	err := c.do(ctx, &request{method: "GET", path: prefixV3 + "/account/3pid", authed: true,
		out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AddThreePIDRequest is the body of POST /account/3pid/add.
type AddThreePIDRequest struct {
	// Auth proves the right to add; see UIA.
	Auth *AuthData `json:"auth,omitempty"`
	// ClientSecret and SID name a session validated through
	// RequestEmailToken(PurposeAddThreePID) or RequestMSISDNToken.
	ClientSecret string `json:"client_secret"`
	SID          string `json:"sid"`
}

// AddThreePID adds a validated 3PID to the account
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3account3pidadd).
// The endpoint is protected by UIA: run it inside UIA.Do. An unvalidated session
// usually fails with mxerr.CodeThreepidAuthFailed.
func (c *Client) AddThreePID(ctx context.Context, req *AddThreePIDRequest) error {
	return c.do(ctx, &request{method: "POST", path: prefixV3 + "/account/3pid/add",
		body: orEmpty(req), authed: true})
}

// AddThreePIDDeprecatedRequest is the body of the deprecated POST /account/3pid.
type AddThreePIDDeprecatedRequest struct {
	ThreePIDCreds ThreePIDCredentials `json:"three_pid_creds"`
}

// AddThreePIDDeprecatedResponse is the answer of the deprecated POST /account/3pid.
type AddThreePIDDeprecatedResponse struct {
	SubmitURL string `json:"submit_url,omitempty"`
}

// AddThreePIDDeprecated adds a 3PID validated by an identity server with the deprecated
// POST /account/3pid; use AddThreePID with servers that have it. Credentials the
// server cannot verify fail with mxerr.CodeThreepidAuthFailed.
func (c *Client) AddThreePIDDeprecated(
	ctx context.Context, req *AddThreePIDDeprecatedRequest,
) (*AddThreePIDDeprecatedResponse, error) {
	var out AddThreePIDDeprecatedResponse
	err := c.do(ctx, &request{method: "POST", path: prefixV3 + "/account/3pid", body: orEmpty(req),
		authed: true, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// BindThreePIDRequest is the body of POST /account/3pid/bind. All fields are required;
// the session belongs to the identity server.
type BindThreePIDRequest struct {
	ClientSecret  string `json:"client_secret"`
	IDServer      string `json:"id_server"`
	IDAccessToken string `json:"id_access_token"`
	SID           string `json:"sid"`
}

// BindThreePID publishes a 3PID validated by an identity server as the user's on that
// identity server
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3account3pidbind).
// The identity server's errors come back as they are.
func (c *Client) BindThreePID(ctx context.Context, req *BindThreePIDRequest) error {
	return c.do(ctx, &request{method: "POST", path: prefixV3 + "/account/3pid/bind",
		body: orEmpty(req), authed: true})
}

// ThreePIDUnbindRequest is the body of POST /account/3pid/delete and
// POST /account/3pid/unbind.
type ThreePIDUnbindRequest struct {
	Medium  Medium `json:"medium"`
	Address string `json:"address"`
	// IDServer is the identity server to unbind from; "" uses the one it was bound
	// through.
	IDServer string `json:"id_server,omitempty"`
}

// DeleteThreePID removes a 3PID from the account and tries to unbind it from the
// identity server; the answer says whether that worked
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3account3piddelete).
func (c *Client) DeleteThreePID(
	ctx context.Context, req *ThreePIDUnbindRequest,
) (*UnbindResult, error) {
	return c.unbind(ctx, "/account/3pid/delete", orEmpty(req))
}

// UnbindThreePID unbinds a 3PID from the identity server only; the account keeps it
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3account3pidunbind).
func (c *Client) UnbindThreePID(
	ctx context.Context, req *ThreePIDUnbindRequest,
) (*UnbindResult, error) {
	return c.unbind(ctx, "/account/3pid/unbind", orEmpty(req))
}

func (c *Client) unbind(
	ctx context.Context, path string, req *ThreePIDUnbindRequest,
) (*UnbindResult, error) {
	var out UnbindResult
	err := c.do(ctx, &request{method: "POST", path: prefixV3 + path, body: req, authed: true,
		out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
