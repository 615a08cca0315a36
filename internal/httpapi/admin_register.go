package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/useradmin"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// Shared-secret registration, as Synapse serves it at /_synapse/admin/v1/register
// (https://element-hq.github.io/synapse/latest/admin_api/register_api.html): GET gives
// a nonce, POST creates an account whose body carries an HMAC over the nonce and the
// account's fields, keyed with the secret from admin.shared_secret. Provisioning
// scripts and test suites (register_new_matrix_user, Complement) speak it.

// sharedSecretNonce serves GET /_synapse/admin/v1/register. Each nonce is a row that
// stays until its POST spends it or, a minute on, the janitor sweeps it, so nonces are
// limited per client address (rate_limits.shared_secret_nonce); as every POST spends
// one, this limits the registrations too.
//
// NOTSPEC: Synapse hands out nonces even while the feature is off and refuses only the
// POST; here the GET is refused too, so that nobody can fill the nonce table then.
func (s *Server) sharedSecretNonce(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := s.limits.SharedSecretNonce.Allow(s.clientAddr(r)); !ok {
		return rateLimited(wait.Milliseconds())
	}
	nonce, err := s.userAdmin.Nonce(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"nonce": nonce})
	return nil
}

// sharedSecretRegister serves POST /_synapse/admin/v1/register.
func (s *Server) sharedSecretRegister(w http.ResponseWriter, r *http.Request) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	req, err := decodeSharedSecretRequest(body)
	if err != nil {
		return err
	}

	l, err := s.userAdmin.RegisterWithSharedSecret(r.Context(), req)
	s.observeSharedSecret(r, req, l, err)
	if err != nil {
		return err
	}

	requestInfo(r.Context()).userID = l.UserID
	out := map[string]any{"user_id": l.UserID, "access_token": l.AccessToken,
		"device_id": l.DeviceID, "home_server": s.cfg.ServerName}
	addRefreshFields(out, l)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// decodeSharedSecretRequest reads the POST body. The checks whose answers Synapse
// gives after spending the nonce are the service's: a username, password or mac of the
// wrong type is passed on as a value that fails them there.
func decodeSharedSecretRequest(body map[string]json.RawMessage) (
	useradmin.SharedSecretRequest, error,
) {
	var req useradmin.SharedSecretRequest
	text := func(key, invalid string) *string {
		raw, ok := body[key]
		if !ok {
			return nil
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			v = invalid
		}
		return &v
	}
	// An unknown nonce, a username or password holding NUL, and a MAC that is not hex
	// are what the service refuses with Synapse's answer to a value of the wrong type.
	req.Nonce = text("nonce", "")
	req.Username = text("username", "\x00")
	req.Password = text("password", "\x00")
	req.MAC = text("mac", "")

	admin, err := optional[bool](body, "admin")
	if err != nil {
		return req, err
	}
	req.Admin = admin != nil && *admin
	userType, err := optional[string](body, "user_type")
	if err != nil {
		return req, err
	}
	if userType != nil {
		req.UserType = *userType
	}
	refresh, err := optional[bool](body, "refresh_token")
	if err != nil {
		return req, err
	}
	req.Refresh = refresh != nil && *refresh
	return req, nil
}

// observeSharedSecret counts and audits a shared-secret registration that ended with
// err; l is its login on success. A wrong MAC is denied: the caller does not know the
// secret.
func (s *Server) observeSharedSecret(r *http.Request, req useradmin.SharedSecretRequest,
	l *device.Login, err error,
) {
	s.metrics.Registration("shared_secret", metricOutcome(err))

	e := audit.Event{Action: audit.ActionRegister, Actor: audit.ActorSharedSecret,
		Details: map[string]any{"kind": "shared_secret", "admin": req.Admin}}
	switch {
	case l != nil:
		e.Target = l.UserID
	case req.Username != nil:
		e.Details["username"] = *req.Username
	}
	if errForbidden(err) {
		e.Outcome = audit.Denied
		e.Details["errcode"] = errcodeOf(err)
		s.audit.Record(r.Context(), e)
		return
	}
	s.record(r, e, err)
}

// errForbidden reports whether err is a 403 answer.
func errForbidden(err error) bool {
	var e *mxerr.Error
	return errors.As(err, &e) && e.Status == http.StatusForbidden
}
