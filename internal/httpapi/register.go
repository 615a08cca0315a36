package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// loginTypeAppService is the body type of an application service's registration.
const loginTypeAppService = "m.login.application_service"

// register serves POST /register
// (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3register).
// Accounts made and failed UIA stages (guessed registration tokens) count against the
// client address; a client over its limit is refused before anything else happens.
func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	kind := r.URL.Query().Get("kind")
	if kind != "" && kind != "user" && kind != "guest" {
		return mxerr.ErrInvalidParam.Msg("kind must be user or guest, not %q", kind)
	}
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}

	typ, _, err := stringParam(body, "type")
	if err != nil && kind != "guest" {
		return err
	}
	if typ == loginTypeAppService && kind != "guest" {
		return s.registerAppService(w, r, body)
	}

	addr := s.clientAddr(r)
	if ok, wait := s.limits.Register.Check(addr); !ok {
		return rateLimited(wait.Milliseconds())
	}
	if err := s.limitHashing(addr, body, "password", kind); err != nil {
		return err
	}
	var reg *account.Registered
	switch {
	case kind == "guest":
		// Every field but the display name is ignored for guests, type errors included.
		var dn *string
		if name, ok, _ := stringParam(body, "initial_device_display_name"); ok {
			dn = &name
		}
		reg, err = s.accounts.RegisterGuest(r.Context(), dn)
	default:
		if err := s.limitNewUIASession(r, body); err != nil {
			return err
		}
		reg, err = s.accounts.Register(r.Context(), &uia.Request{Method: r.Method,
			Path: "/register", Body: body})
	}
	if err == nil || isFailedStage(err) {
		s.limits.Register.Spend(addr)
	}
	s.observeRegistration(r, registrationKind(kind), registeredUser(reg), err)
	if err != nil {
		return err
	}

	s.writeRegistered(w, reg)
	return nil
}

// registrationKind names the kind of a registration in metrics and audit events.
func registrationKind(kind string) string {
	if kind == "guest" {
		return "guest"
	}
	return "user"
}

// registeredUser returns the user ID of reg, "" for none.
func registeredUser(reg *account.Registered) mxid.UserID {
	if reg == nil {
		return ""
	}
	return reg.UserID
}

// registerAppService serves POST /register with type m.login.application_service:
// authenticated by the service's as_token, no UIA, no rate limit.
func (s *Server) registerAppService(
	w http.ResponseWriter, r *http.Request, body map[string]json.RawMessage,
) error {
	svc, err := s.appServiceFromRequest(r)
	if err != nil {
		return err
	}
	p, err := account.DecodeRegisterParams(body)
	if err != nil {
		return err
	}
	reg, err := s.accounts.RegisterAppService(r.Context(), svc, p)
	s.observeRegistration(r, "appservice", registeredUser(reg), err)
	if err != nil {
		return err
	}
	s.writeRegistered(w, reg)
	return nil
}

func (s *Server) writeRegistered(w http.ResponseWriter, reg *account.Registered) {
	out := map[string]any{"user_id": reg.UserID, "home_server": s.cfg.ServerName}
	if reg.Login != nil {
		out["access_token"] = reg.Login.AccessToken
		out["device_id"] = reg.Login.DeviceID
		addRefreshFields(out, reg.Login)
	}
	writeJSON(w, http.StatusOK, out)
}

// registerAvailable serves GET /register/available.
func (s *Server) registerAvailable(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := s.limits.Availability.Allow(s.clientAddr(r)); !ok {
		return rateLimited(wait.Milliseconds())
	}
	q := r.URL.Query()
	if !q.Has("username") {
		return mxerr.ErrMissingParam.Msg("the username query parameter is required")
	}
	if err := s.accounts.Available(r.Context(), q.Get("username")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"available": true})
	return nil
}

var registrationTokenGrammar = regexp.MustCompile(`^[0-9A-Za-z._~-]{1,64}$`)

// registrationTokenValidity serves
// GET /_matrix/client/v1/register/m.login.registration_token/validity.
func (s *Server) registrationTokenValidity(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.RegistrationEnabled {
		return mxerr.ErrForbidden.Msg("registration is disabled on this server")
	}
	if ok, wait := s.limits.TokenValidity.Allow(s.clientAddr(r)); !ok {
		return rateLimited(wait.Milliseconds())
	}
	q := r.URL.Query()
	if !q.Has("token") {
		return mxerr.ErrMissingParam.Msg("the token query parameter is required")
	}

	valid := false
	if tok := q.Get("token"); registrationTokenGrammar.MatchString(tok) {
		t, err := s.store.RegistrationToken(r.Context(), tok)
		if err == nil {
			valid = t.Valid(time.Now().UnixMilli())
		} else if !isNotFound(err) {
			return err
		}
		if valid {
			spent, err := uia.BootstrapSpent(r.Context(), s.store, tok)
			if err != nil {
				return err
			}
			valid = !spent
		}
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": valid})
	return nil
}

// isFailedStage reports whether err is a failed UIA stage.
func isFailedStage(err error) bool {
	var e *mxerr.Error
	return errors.As(err, &e) && e.UIA != nil
}

// limitNewUIASession counts a request that starts a UIA session (its body has no
// auth.session) against the client's budget of sessions, each a stored row until it
// expires.
func (s *Server) limitNewUIASession(r *http.Request, body map[string]json.RawMessage) error {
	var auth struct {
		Session *string `json:"session"`
	}
	if raw, ok := body["auth"]; ok && json.Unmarshal(raw, &auth) == nil &&
		auth.Session != nil && *auth.Session != "" {
		return nil // an ill-typed auth is the UIA engine's to refuse
	}
	if ok, wait := s.limits.UIASessions.Allow(s.clientAddr(r)); !ok {
		return rateLimited(wait.Milliseconds())
	}
	return nil
}

// limitHashing counts a request that carries a password to hash (key in body) against
// the client's hashing budget; guests send none that is used.
func (s *Server) limitHashing(
	addr string, body map[string]json.RawMessage, key, kind string,
) error {
	if _, ok := body[key]; !ok || kind == "guest" {
		return nil
	}
	if ok, wait := s.limits.PasswordHashing.Allow(addr); !ok {
		return rateLimited(wait.Milliseconds())
	}
	return nil
}
