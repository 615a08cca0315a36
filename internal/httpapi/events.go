package httpapi

import (
	"errors"
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// This file turns the outcome of a request into the audit events and the counters that
// operators read: one call per security-relevant endpoint, after its service returned.

// isChallenge reports whether err only asks the client for the next UIA stage: the
// operation is still under way, so it has no outcome yet.
func isChallenge(err error) bool {
	var ch *mxerr.Challenge
	return errors.As(err, &ch)
}

// errcodeOf returns the errcode of err, "M_UNKNOWN" for an internal error and "" for
// none.
func errcodeOf(err error) string {
	var e *mxerr.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return string(e.Code)
	}
	return string(mxerr.CodeUnknown)
}

// metricOutcome is the outcome label of a counted operation: "success", or the errcode
// of its failure.
func metricOutcome(err error) string {
	if err == nil {
		return "success"
	}
	return errcodeOf(err)
}

// record writes the audit event of an action that ended with err: its outcome, and for
// a failure the errcode and whether it was a failed UIA stage. A bare UIA challenge
// records nothing, since the action has not ended.
func (s *Server) record(r *http.Request, e audit.Event, err error) {
	if isChallenge(err) {
		return
	}
	e.Outcome = audit.Success
	if err != nil {
		e.Outcome = audit.Failure
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		e.Details["errcode"] = errcodeOf(err)
		if isFailedStage(err) {
			e.Details["uia_stage_failed"] = true
		}
	}
	s.audit.Record(r.Context(), e)
}

// loginTypes are the login types counted by name; others count as "other", so that a
// client cannot make a series per made-up type.
var loginTypes = map[string]bool{account.LoginPassword: true, account.LoginToken: true,
	loginTypeAppService: true}

// observeLogin counts and audits a login attempt. On failure the target is the user the
// identifier names, when it names one in a readable way.
func (s *Server) observeLogin(r *http.Request, req *account.LoginRequest, user mxid.UserID,
	err error,
) {
	typ := req.Type
	if !loginTypes[typ] {
		typ = "other"
	}
	s.metrics.Login(typ, metricOutcome(err))

	e := audit.Event{Action: audit.ActionLogin, Actor: string(user), Target: user,
		Details: map[string]any{"type": typ}}
	if user == "" {
		e.Target = s.namedUser(req)
	}
	s.record(r, e, err)
}

// namedUser returns the local user a login request names by user ID or localpart, or
// "" for a 3PID or an unreadable name.
func (s *Server) namedUser(req *account.LoginRequest) mxid.UserID {
	name := req.User
	if req.Identifier != nil {
		name = req.Identifier.User
	}
	if name == "" {
		return ""
	}
	lp := s.accounts.NormalizeUsername(name)
	if mxid.ValidateLocalpart(lp, s.cfg.ServerName) != nil {
		return ""
	}
	return mxid.NewUserID(lp, s.cfg.ServerName)
}

// observeRegistration counts and audits a registration of kind (user, guest,
// appservice) that ended with err; a UIA challenge counts nothing yet.
func (s *Server) observeRegistration(r *http.Request, kind string, user mxid.UserID,
	err error,
) {
	if isChallenge(err) {
		return
	}
	s.metrics.Registration(kind, metricOutcome(err))
	s.record(r, audit.Event{Action: audit.ActionRegister, Actor: string(user), Target: user,
		Details: map[string]any{"kind": kind}}, err)
}

// observeUserAction audits an action a user takes on their own account: actor and
// target are the caller, "" when the request had no access token (the UIA stages then
// say whose account it is, which the service does not report).
func (s *Server) observeUserAction(r *http.Request, action string, user mxid.UserID,
	details map[string]any, err error,
) {
	s.record(r, audit.Event{Action: action, Actor: string(user), Target: user,
		Details: details}, err)
}

// requesterID returns the user of rq, "" for a request without an access token.
func requesterID(rq *store.Requester) mxid.UserID {
	if rq == nil {
		return ""
	}
	return rq.UserID
}

// observePasswordChange audits POST /account/password: a change by a signed-in user,
// or a reset when the request had no access token and the UIA stages (an email or
// phone validation) proved whose account it is. target is that account, "" when the
// request failed before any stage named it.
func (s *Server) observePasswordChange(
	r *http.Request, rq *store.Requester, target mxid.UserID, err error,
) {
	action := audit.ActionPasswordChange
	if rq == nil {
		action = audit.ActionPasswordReset
	}
	if target == "" {
		target = requesterID(rq)
	}
	s.record(r, audit.Event{Action: action, Actor: string(requesterID(rq)), Target: target},
		err)
}
