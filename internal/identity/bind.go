package identity

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// BindRequest is the body of POST /account/3pid/bind that the homeserver forwards,
// with the user it acts for.
type BindRequest struct {
	// IDServer is the identity server, as "host" or "host:port".
	IDServer string
	// IDAccessToken is the user's access token for that identity server.
	IDAccessToken string
	// SID is the identity server's validation session.
	SID string
	// ClientSecret is the client secret of that session.
	ClientSecret string
	// UserID is the user to bind the session's 3PID to: the caller, never a value from
	// the request body.
	UserID mxid.UserID
}

// Association is the identity server's answer to a bind: the 3PID, the user it now maps
// to and the server's signatures over the association
// (https://spec.matrix.org/v1.13/identity-service-api/#post_matrixidentityv23pidbind).
// The homeserver records Medium and Address with the identity server so that it can
// unbind them later.
type Association struct {
	// Medium is the 3PID's medium, "email" or "msisdn".
	Medium string `json:"medium"`
	// Address is the 3PID's canonical address.
	Address string `json:"address"`
	// UserID is the user the 3PID now maps to.
	UserID mxid.UserID `json:"mxid"`
	// NotBefore is when the association starts to be valid, in ms since the epoch.
	NotBefore int64 `json:"not_before"`
	// NotAfter is when it stops being valid, in ms since the epoch.
	NotAfter int64 `json:"not_after"`
	// TS is when the identity server verified the association, in ms since the epoch.
	TS int64 `json:"ts"`
	// Signatures are the identity server's signatures over the other fields.
	Signatures map[string]map[string]string `json:"signatures"`
}

// bindBody is the body of the identity server's POST /3pid/bind.
type bindBody struct {
	SID          string      `json:"sid"`
	ClientSecret string      `json:"client_secret"`
	UserID       mxid.UserID `json:"mxid"`
}

// Bind asks req.IDServer to bind the 3PID of the validated session req.SID to
// req.UserID, authenticated with the user's identity access token, and returns the
// association it published.
//
// Errors: an identity server that answers with a Matrix error yields that error as an
// *mxerr.Error with the server's status and errcode (find it with errors.As), which the
// spec says to pass to the client unchanged; so do a malformed id_server (400
// M_INVALID_PARAM), a missing token (400 M_MISSING_PARAM) and a server this homeserver
// will not contact (400 M_SERVER_NOT_TRUSTED). Any other failure wraps ErrUnavailable.
func (c *Client) Bind(ctx context.Context, req BindRequest) (*Association, error) {
	base, err := c.baseURL(req.IDServer)
	if err != nil {
		return nil, fmt.Errorf("bind on %s: %w", req.IDServer, err)
	}
	if req.IDAccessToken == "" {
		return nil, mxerr.ErrMissingParam.Msg("id_access_token is required")
	}

	body, err := json.Marshal(bindBody{SID: req.SID, ClientSecret: req.ClientSecret,
		UserID: req.UserID})
	if err != nil {
		return nil, fmt.Errorf("encode the bind request: %w", err)
	}
	status, answer, err := c.post(ctx, base+bindPath, "Bearer "+req.IDAccessToken, body)
	if err != nil {
		return nil, transportError(req.IDServer, "bind", err)
	}

	if status < 200 || status > 299 {
		if merr := matrixError(status, answer); merr != nil {
			return nil, fmt.Errorf("bind on %s: %w", req.IDServer, merr)
		}
		return nil, fmt.Errorf("%w: bind on %s answered %d without a Matrix error",
			ErrUnavailable, req.IDServer, status)
	}
	return parseAssociation(req, answer)
}

// parseAssociation reads a successful bind answer and checks that it binds the user
// that was asked for.
func parseAssociation(req BindRequest, answer []byte) (*Association, error) {
	var a Association
	if err := json.Unmarshal(answer, &a); err != nil {
		return nil, fmt.Errorf("%w: bind on %s: the answer is not an association: %w",
			ErrUnavailable, req.IDServer, err)
	}
	if a.Medium == "" || a.Address == "" {
		return nil, fmt.Errorf("%w: bind on %s: the answer has no medium or address",
			ErrUnavailable, req.IDServer)
	}
	if a.UserID != req.UserID {
		return nil, fmt.Errorf("%w: bind on %s: the answer binds %q, not %q",
			ErrUnavailable, req.IDServer, a.UserID, req.UserID)
	}
	return &a, nil
}
