package httpapi

import (
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
)

// getLoginToken serves POST /_matrix/client/v1/login/get_token
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv1loginget_token):
// after UIA, a single-use token with which another client logs in as the caller
// (m.login.token). Failed password stages count against the client address, as failed
// logins do.
func (s *Server) getLoginToken(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	body, count, err := s.beginUIA(r, bodyOptional)
	if err != nil {
		return err
	}
	defer count(nil)

	lt, err := s.accounts.CreateLoginToken(r.Context(), &uia.Request{Method: r.Method,
		Path: "/login/get_token", Body: body}, rq)
	count(err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"login_token":   lt.Token,
		"expires_in_ms": lt.ExpiresInMS,
	})
	return nil
}
