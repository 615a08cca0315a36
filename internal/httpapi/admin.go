package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/regtoken"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// adminPrefix is where Synapse serves its admin API; tools written for Synapse find the
// endpoints mxaccounts shares with it there.
const adminPrefix = "/_synapse/admin"

func (s *Server) adminRoutes(rt *router) {
	tokens := adminPrefix + "/v1/registration_tokens"
	rt.handle("GET", tokens, s.admin("admin.registration_tokens.list",
		s.listRegistrationTokens))
	// POST .../new shares the path pattern of .../{token}: ServeMux cannot hold both.
	rt.handle("POST", tokens+"/{token}", s.admin("admin.registration_tokens.create",
		s.createRegistrationToken))
	rt.handle("GET", tokens+"/{token}", s.admin("admin.registration_tokens.query",
		s.getRegistrationToken))
	rt.handle("PUT", tokens+"/{token}", s.admin("admin.registration_tokens.update",
		s.updateRegistrationToken))
	rt.handle("DELETE", tokens+"/{token}", s.admin("admin.registration_tokens.delete",
		s.deleteRegistrationToken))

	if s.userAdmin != nil {
		s.adminUserRoutes(rt)
	}
}

// admin wraps an endpoint for server admins only; others get 403 M_FORBIDDEN, checked
// before anything is looked up, so that the answer tells nothing of the accounts. Every
// call is an audit event named action, refusals included, with the user ID of the
// path as its target.
func (s *Server) admin(action string, h authedFunc) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
		if !rq.Admin {
			s.audit.Record(r.Context(), audit.Event{Action: action,
				Actor: string(rq.UserID), Target: mxid.UserID(r.PathValue("userId")),
				Outcome: audit.Denied})
			return mxerr.ErrForbidden.Msg("you are not a server admin")
		}
		err := h(w, r, rq)
		s.recordAdmin(r, action, rq, err)
		return err
	})
}

// recordAdmin audits an admin request that ended with err, with the details its
// handler noted.
func (s *Server) recordAdmin(r *http.Request, action string, rq *store.Requester, err error) {
	// A registration token in the path is a credential: it stays out of the event.
	s.record(r, audit.Event{Action: action, Actor: string(rq.UserID),
		Target:  mxid.UserID(r.PathValue("userId")),
		Details: requestInfo(r.Context()).auditNotes}, err)
}

// noteAudit adds key to the details of the request's admin audit event.
func noteAudit(r *http.Request, key string, value any) {
	ri := requestInfo(r.Context())
	if ri.auditNotes == nil {
		ri.auditNotes = map[string]any{}
	}
	ri.auditNotes[key] = value
}

// registrationTokenJSON is a token in the admin API's shape.
type registrationTokenJSON struct {
	Token       string `json:"token"`
	UsesAllowed *int64 `json:"uses_allowed"`
	Pending     int64  `json:"pending"`
	Completed   int64  `json:"completed"`
	ExpiryTime  *int64 `json:"expiry_time"`
}

func toRegistrationTokenJSON(t *store.RegistrationToken) registrationTokenJSON {
	return registrationTokenJSON{Token: t.Token, UsesAllowed: t.UsesAllowed,
		Pending: t.Pending, Completed: t.Completed, ExpiryTime: t.ExpiryMS}
}

// listRegistrationTokens serves GET /_synapse/admin/v1/registration_tokens[?valid=].
func (s *Server) listRegistrationTokens(
	w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	var valid *bool
	switch v := r.URL.Query().Get("valid"); v {
	case "":
	case "true", "false":
		b := v == "true"
		valid = &b
	default:
		return mxerr.ErrInvalidParam.Msg("valid must be true or false")
	}

	tokens, err := s.regTokens.List(r.Context(), valid)
	if err != nil {
		return err
	}
	out := make([]registrationTokenJSON, 0, len(tokens))
	for i := range tokens {
		out = append(out, toRegistrationTokenJSON(&tokens[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"registration_tokens": out})
	return nil
}

// createRegistrationToken serves POST /_synapse/admin/v1/registration_tokens/new.
func (s *Server) createRegistrationToken(
	w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	if r.PathValue("token") != "new" {
		w.Header().Set("Allow", "GET, PUT, DELETE, OPTIONS")
		e := mxerr.ErrUnrecognized.Msg("method POST is not allowed on %s", r.URL.Path)
		e.Status = http.StatusMethodNotAllowed
		return e
	}
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	var n regtoken.NewToken
	if n.Token, _, err = stringParam(body, "token"); err != nil {
		return mxerr.ErrInvalidParam.Msg("token must be a string")
	}
	if n.UsesAllowed, _, err = nullableInt(body, "uses_allowed"); err != nil {
		return err
	}
	if n.ExpiryMS, _, err = nullableInt(body, "expiry_time"); err != nil {
		return err
	}
	length, _, err := nullableInt(body, "length")
	if err != nil {
		return err
	}
	if length != nil {
		n.Length = int(*length)
		if n.Length == 0 {
			n.Length = -1 // an explicit 0 is refused, not defaulted
		}
	}

	t, err := s.regTokens.Create(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRegistrationTokenJSON(t))
	return nil
}

// getRegistrationToken serves GET /_synapse/admin/v1/registration_tokens/{token}.
func (s *Server) getRegistrationToken(
	w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	t, err := s.regTokens.Get(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRegistrationTokenJSON(t))
	return nil
}

// updateRegistrationToken serves PUT /_synapse/admin/v1/registration_tokens/{token}: a
// field set to null clears the limit, a missing one is left alone.
func (s *Server) updateRegistrationToken(
	w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	var u regtoken.Update
	var present bool
	if u.UsesAllowed, present, err = nullableInt(body, "uses_allowed"); err != nil {
		return err
	}
	u.ClearUsesAllowed = present && u.UsesAllowed == nil
	if u.ExpiryMS, present, err = nullableInt(body, "expiry_time"); err != nil {
		return err
	}
	u.ClearExpiry = present && u.ExpiryMS == nil

	t, err := s.regTokens.Update(r.Context(), r.PathValue("token"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRegistrationTokenJSON(t))
	return nil
}

// deleteRegistrationToken serves DELETE /_synapse/admin/v1/registration_tokens/{token}.
func (s *Server) deleteRegistrationToken(
	w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	if err := s.regTokens.Delete(r.Context(), r.PathValue("token")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// nullableInt reads an integer field that may be null. It reports whether the key was
// present; a value that is not an integer is M_INVALID_PARAM.
func nullableInt(body map[string]json.RawMessage, key string) (*int64, bool, error) {
	raw, ok := body[key]
	if !ok {
		return nil, false, nil
	}
	if string(raw) == "null" {
		return nil, true, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, true, mxerr.ErrInvalidParam.Msg("%s must be an integer or null", key)
	}
	return &n, true, nil
}
