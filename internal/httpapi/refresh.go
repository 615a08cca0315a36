package httpapi

import (
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// refresh serves POST /refresh
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3refresh).
// The refresh token in the body is the only credential: no access token is needed, so an
// expired one is no obstacle.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	tok, ok, err := stringParam(body, "refresh_token")
	if err != nil {
		return err
	}
	if !ok {
		return mxerr.ErrMissingParam.Msg("refresh_token is required")
	}

	l, err := s.devices.Refresh(r.Context(), tok)
	if err != nil {
		return err
	}

	requestInfo(r.Context()).userID = l.UserID
	out := map[string]any{"access_token": l.AccessToken}
	addRefreshFields(out, l)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addRefreshFields adds refresh_token and expires_in_ms to a login, registration or
// refresh answer, for a client that asked for refresh tokens; others get neither, and
// their access tokens never expire.
func addRefreshFields(out map[string]any, l *device.Login) {
	if l.RefreshToken == "" {
		return
	}
	out["refresh_token"] = l.RefreshToken
	out["expires_in_ms"] = l.ExpiresInMS
}
