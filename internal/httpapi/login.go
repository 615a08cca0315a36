package httpapi

import (
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// loginFlows serves GET /login. The token flow says that POST
// /_matrix/client/v1/login/get_token is served (spec v1.7).
func (s *Server) loginFlows(w http.ResponseWriter, r *http.Request) error {
	flows := []map[string]any{
		{"type": account.LoginPassword},
		{"type": account.LoginToken, "get_login_token": true},
	}
	if s.appServices != nil {
		flows = append(flows, map[string]any{"type": loginTypeAppService})
	}
	writeJSON(w, http.StatusOK, map[string]any{"flows": flows})
	return nil
}

// login serves POST /login. Failed attempts are limited per client address; a client
// over the limit is refused before its password is checked. Each attempt takes from the
// client's bucket before it is tried, so that racing ones cannot all pass, and gets it
// back unless its credentials were wrong.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	addr := s.clientAddr(r)
	ok, wait, refund := s.limits.FailedLogin.Take(addr)
	if !ok {
		return rateLimited(wait.Milliseconds())
	}
	wrong := false
	defer func() {
		if !wrong {
			refund() // only wrong credentials count
		}
	}()

	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	req, err := account.DecodeLogin(body)
	if err != nil {
		return err
	}

	var l *device.Login
	if req.Type == loginTypeAppService {
		svc, aerr := s.appServiceFromRequest(r)
		if aerr != nil {
			return aerr
		}
		l, err = s.accounts.LoginAppService(r.Context(), svc, req)
	} else {
		l, err = s.accounts.Login(r.Context(), req)
	}
	wrong = account.IsBadCredentials(err)
	var user mxid.UserID
	if l != nil {
		user = l.UserID
	}
	s.observeLogin(r, req, user, err)
	if err != nil {
		return err
	}

	requestInfo(r.Context()).userID = l.UserID
	out := map[string]any{
		"user_id":      l.UserID,
		"access_token": l.AccessToken,
		"device_id":    l.DeviceID,
		"home_server":  s.cfg.ServerName,
		"well_known":   s.discovery(),
	}
	addRefreshFields(out, l)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// logout serves POST /logout: the device and its tokens go.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	if _, err := decodeObject(r, bodyOptional); err != nil {
		return err
	}
	err := s.devices.Logout(r.Context(), rq)
	s.observeUserAction(r, audit.ActionLogout, rq.UserID,
		map[string]any{"device_id": rq.DeviceID}, err)
	if err != nil {
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
	err := s.devices.LogoutAll(r.Context(), rq)
	s.observeUserAction(r, audit.ActionLogoutAll, rq.UserID, nil, err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// whoami serves GET /account/whoami.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	out := map[string]any{"user_id": rq.UserID}
	if rq.DeviceID != "" { // an application service's own token has no device
		out["device_id"] = rq.DeviceID
	}
	if rq.Kind == store.KindGuest {
		out["is_guest"] = true
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
