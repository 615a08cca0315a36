package httpapi

import (
	"errors"
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/appservice"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// appServiceByToken returns the application service whose as_token tok is, or nil.
func (s *Server) appServiceByToken(tok string) *appservice.Service {
	if s.appServices == nil {
		return nil
	}
	return s.appServices.ByToken(tok)
}

// appServiceRequester is the requester of a request made with an as_token: the
// service's sender, or the user named by ?user_id= (identity assertion), who must lie
// in the service's namespaces and be registered.
func (s *Server) appServiceRequester(
	r *http.Request, svc *appservice.Service,
) (*store.Requester, error) {
	user := svc.Sender
	if asserted := r.URL.Query().Get("user_id"); asserted != "" {
		user = mxid.UserID(asserted)
	}

	lp, server, err := mxid.ParseUserID(string(user))
	if err != nil || server != s.cfg.ServerName || !svc.Claims(user) {
		return nil, mxerr.ErrForbidden.Msg("application service %q cannot act as %s",
			svc.ID, user)
	}
	acct, err := s.store.AccountByLocalpart(r.Context(), lp)
	if errors.Is(err, store.ErrNotFound) {
		return nil, mxerr.ErrForbidden.Msg("%s is not registered", user)
	}
	if err != nil {
		return nil, err
	}
	if acct.Deactivated {
		return nil, mxerr.ErrForbidden.Msg("%s has been deactivated", user)
	}
	return &store.Requester{Account: *acct, AppService: svc.ID}, nil
}

// appServiceFromRequest returns the service whose as_token the request carries. A
// missing token is M_MISSING_TOKEN and a token of no service M_UNKNOWN_TOKEN, as the
// spec asks of a request of type m.login.application_service.
func (s *Server) appServiceFromRequest(r *http.Request) (*appservice.Service, error) {
	tok, err := s.accessToken(r)
	if err != nil {
		return nil, err
	}
	svc := s.appServiceByToken(tok)
	if svc == nil {
		return nil, mxerr.ErrUnknownToken.Msg("unknown application service token")
	}
	return svc, nil
}
