package identity

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/signing"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// UnbindResult is the value of id_server_unbind_result in the answers of
// /account/3pid/delete, /account/3pid/unbind and /account/deactivate.
type UnbindResult string

// The two results the spec defines.
const (
	// UnbindSuccess: the identity server removed the binding.
	UnbindSuccess UnbindResult = "success"
	// UnbindNoSupport: the identity server did not remove it, or no identity server
	// was known for it.
	UnbindNoSupport UnbindResult = "no-support"
)

// UnbindRequest names a binding to remove.
type UnbindRequest struct {
	// IDServer is the identity server, as "host" or "host:port": the one the client
	// named or, failing that, the one recorded when the 3PID was bound. Empty means
	// none is known.
	IDServer string
	// UserID is the user whose binding goes; it must be a user of this homeserver,
	// since the identity server checks that the signer owns it.
	UserID mxid.UserID
	// Medium is "email" or "msisdn".
	Medium string
	// Address is the 3PID's canonical address.
	Address string
}

// unbindBody is the body of the identity server's POST /3pid/unbind.
type unbindBody struct {
	UserID   mxid.UserID `json:"mxid"`
	ThreePID threePID    `json:"threepid"`
}

type threePID struct {
	Medium  string `json:"medium"`
	Address string `json:"address"`
}

// Unbind asks req.IDServer to remove the binding of the 3PID to req.UserID
// (https://spec.matrix.org/v1.13/identity-service-api/#post_matrixidentityv23pidunbind),
// with a request signed by the homeserver's key. The spec leaves the signing open; this
// client does what Synapse does and Sydent checks: the X-Matrix scheme of the
// server-server API over the request, with the identity server named as destination_is
// in the signed object and as destination in the header.
//
// Unbind always returns the result to report in id_server_unbind_result, and an error
// when there is more to know:
//
//   - 2xx: UnbindSuccess, nil.
//   - 400, 404 or 501 without a Matrix error body: UnbindNoSupport, nil; the spec reads
//     this as a server that does not support unbinding.
//   - No identity server (empty IDServer): UnbindNoSupport, nil, as the spec requires.
//   - A Matrix error body, with any status: UnbindNoSupport and that error as an
//     *mxerr.Error with the server's status and errcode. The spec says to pass it to
//     the client when the homeserver acts for one (/3pid/unbind, /3pid/delete);
//     deactivation reports no-support instead. A malformed or untrusted IDServer gives
//     the same pair with 400 M_INVALID_PARAM or M_SERVER_NOT_TRUSTED.
//   - No usable answer (unreachable, timeout, TLS failure, another status without a
//     Matrix error): UnbindNoSupport and an error wrapping ErrUnavailable.
//
// The spec says nothing of the last case, and Synapse fails the request with 500. This
// client reads it as no-support: the spec defines no-support as the homeserver not
// having unbound the 3PID, it says that removing a 3PID from an account "might not"
// unbind it, and mxaccounts never fails a request because an identity server cannot
// unbind (issue 6). The error is returned so that the caller logs it and can keep the
// bind record for a later attempt.
func (c *Client) Unbind(ctx context.Context, req UnbindRequest) (UnbindResult, error) {
	if req.IDServer == "" {
		return UnbindNoSupport, nil
	}
	base, err := c.baseURL(req.IDServer)
	if err != nil {
		return UnbindNoSupport, fmt.Errorf("unbind on %s: %w", req.IDServer, err)
	}

	body, err := signing.CanonicalJSON(unbindBody{UserID: req.UserID,
		ThreePID: threePID{Medium: req.Medium, Address: req.Address}})
	if err != nil {
		return UnbindNoSupport, fmt.Errorf("encode the unbind request: %w", err)
	}
	auth, err := signing.AuthorizationHeader(signing.Request{
		Method:            http.MethodPost,
		URI:               unbindPath,
		Origin:            c.opts.ServerName,
		Destination:       req.IDServer,
		ForIdentityServer: true,
		Content:           body,
	}, c.opts.Key)
	if err != nil {
		return UnbindNoSupport, fmt.Errorf("sign the unbind request for %s: %w",
			req.IDServer, err)
	}

	status, answer, err := c.post(ctx, base+unbindPath, auth, body)
	if err != nil {
		return UnbindNoSupport, transportError(req.IDServer, "unbind", err)
	}
	return unbindOutcome(req.IDServer, status, answer)
}

// unbindOutcome maps the identity server's answer to the result and error of Unbind.
func unbindOutcome(idServer string, status int, answer []byte) (UnbindResult, error) {
	if status >= 200 && status <= 299 {
		return UnbindSuccess, nil
	}
	if merr := matrixError(status, answer); merr != nil {
		return UnbindNoSupport, fmt.Errorf("unbind on %s: %w", idServer, merr)
	}

	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusNotImplemented:
		return UnbindNoSupport, nil
	default:
		return UnbindNoSupport, fmt.Errorf("%w: unbind on %s answered %d without a Matrix "+
			"error", ErrUnavailable, idServer, status)
	}
}
