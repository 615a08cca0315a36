package httpapi

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// uiaCaller authenticates the optional access token of an endpoint that also works
// without one (/account/password, /account/deactivate), applying the usual refusals
// for guests and locked accounts when there is one.
func (s *Server) uiaCaller(r *http.Request) (*store.Requester, error) {
	rq, err := s.optionalRequester(r)
	switch {
	case err != nil:
		return nil, err
	case rq == nil:
		return nil, nil
	case rq.Locked:
		return nil, mxerr.ErrUserLocked
	case rq.Kind == store.KindGuest:
		return nil, mxerr.ErrGuestForbidden
	}
	requestInfo(r.Context()).userID = rq.UserID
	return rq, nil
}

// guardPasswordStage refuses a client that has failed too many password stages, so
// UIA cannot be used to guess passwords faster than /login. Like /login it takes an
// attempt from the client's bucket before anything is tried; the function it returns
// settles the attempt with the request's outcome, giving it back unless a stage failed.
// Only its first call counts, so a handler also defers count(nil) for the requests that
// end before any stage is tried.
func (s *Server) guardPasswordStage(r *http.Request) (count func(error), err error) {
	ok, wait, refund := s.limits.FailedLogin.Take(s.clientAddr(r))
	if !ok {
		return nil, rateLimited(wait.Milliseconds())
	}
	var once sync.Once
	return func(err error) {
		once.Do(func() {
			if !isFailedStage(err) {
				refund()
			}
		})
	}, nil
}

// beginUIA runs what every endpoint behind UIA does first: it takes an attempt from the
// client's failure bucket (guardPasswordStage), reads the body, and counts a request
// that starts a UIA session against the client's sessions (limitNewUIASession). The
// caller defers count(nil) and calls count with the outcome of its operation.
func (s *Server) beginUIA(
	r *http.Request, mode bodyMode,
) (body map[string]json.RawMessage, count func(error), err error) {
	count, err = s.guardPasswordStage(r)
	if err != nil {
		return nil, nil, err
	}
	body, err = decodeObject(r, mode)
	if err == nil {
		err = s.limitNewUIASession(r, body)
	}
	if err != nil {
		count(nil) // nothing was tried
		return nil, nil, err
	}
	return body, count, nil
}

// changePassword serves POST /account/password.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	body, count, err := s.beginUIA(r, bodyRequired)
	if err != nil {
		return err
	}
	defer count(nil)
	rq, err := s.uiaCaller(r)
	if err != nil {
		return err
	}

	if err := s.limitHashing(s.clientAddr(r), body, "new_password", ""); err != nil {
		return err
	}
	user, err := s.accounts.ChangePassword(r.Context(), &uia.Request{Method: r.Method,
		Path: "/account/password", Body: body}, rq)
	count(err)
	s.observePasswordChange(r, rq, user, err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// deactivate serves POST /account/deactivate.
func (s *Server) deactivate(w http.ResponseWriter, r *http.Request) error {
	body, count, err := s.beginUIA(r, bodyRequired)
	if err != nil {
		return err
	}
	defer count(nil)
	rq, err := s.uiaCaller(r)
	if err != nil {
		return err
	}

	res, err := s.accounts.Deactivate(r.Context(), &uia.Request{Method: r.Method,
		Path: "/account/deactivate", Body: body}, rq)
	count(err)
	target := requesterID(rq)
	if res != nil {
		target = res.UserID // the account proven without a token, too
	}
	s.observeUserAction(r, audit.ActionDeactivate, target, nil, err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"id_server_unbind_result": res.IDServerUnbindResult,
	})
	return nil
}

// capabilities serves GET /capabilities. Admins also learn that they may lock and
// suspend accounts (m.account_moderation, spec v1.18), which others must not see.
func (s *Server) capabilities(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	// Guests may read them, as clients do when they start, but may do none of these.
	full := rq.Kind != store.KindGuest
	caps := map[string]any{
		"m.change_password": map[string]bool{"enabled": full},
		"m.get_login_token": map[string]bool{"enabled": full},
		"m.3pid_changes":    map[string]bool{"enabled": full && s.threePIDChanges()},
	}
	if rq.Admin && s.userAdmin != nil {
		caps["m.account_moderation"] = map[string]bool{"lock": true, "suspend": true}
	}
	writeJSON(w, http.StatusOK, map[string]any{"capabilities": caps})
	return nil
}
