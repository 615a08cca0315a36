package httpapi

import (
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/store"
)

// loginFlows serves GET /login.
func (s *Server) loginFlows(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"flows": []map[string]string{{"type": account.LoginPassword}},
	})
	return nil
}

// login serves POST /login. Failed attempts are limited per client address; a client
// over the limit is refused before its password is checked.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	addr := s.clientAddr(r)
	if ok, wait := s.limits.FailedLogin.Check(addr); !ok {
		return rateLimited(wait.Milliseconds())
	}

	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	req, err := account.DecodeLogin(body)
	if err != nil {
		return err
	}

	l, err := s.accounts.Login(r.Context(), req)
	if account.IsBadCredentials(err) {
		s.limits.FailedLogin.Spend(addr)
	}
	if err != nil {
		return err
	}

	requestInfo(r.Context()).userID = l.UserID
	writeJSON(w, http.StatusOK, map[string]any{
		"user_id":      l.UserID,
		"access_token": l.AccessToken,
		"device_id":    l.DeviceID,
		"home_server":  s.cfg.ServerName,
		"well_known":   s.discovery(),
	})
	return nil
}

// logout serves POST /logout: the device and its tokens go.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	if _, err := decodeObject(r, bodyOptional); err != nil {
		return err
	}
	if err := s.devices.Logout(r.Context(), rq); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// logoutAll serves POST /logout/all: every device of the user goes, this one too.
func (s *Server) logoutAll(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	if _, err := decodeObject(r, bodyOptional); err != nil {
		return err
	}
	if err := s.devices.LogoutAll(r.Context(), rq); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// whoami serves GET /account/whoami.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	out := map[string]any{"user_id": rq.UserID, "device_id": rq.DeviceID}
	if rq.Kind == store.KindGuest {
		out["is_guest"] = true
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
