package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/identity"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// threepidMedia are the media whose endpoints are routed; a medium the server does
// not validate answers M_THREEPID_MEDIUM_NOT_SUPPORTED.
var threepidMedia = []threepid.Medium{threepid.MediumEmail, threepid.MediumMSISDN}

// threepidRoutes routes the 3PID endpoints
// (https://spec.matrix.org/v1.13/client-server-api/#adding-account-administrative-contact-information):
// the requestToken families, the submit URL and confirmation page of this server's
// validation sessions, and the account's 3PIDs.
func (s *Server) threepidRoutes(rt *router) {
	if s.threepids == nil {
		return
	}
	for _, m := range threepidMedia {
		rt.client("POST", "/register/"+string(m)+"/requestToken",
			s.public(s.requestToken(m, uia.OpRegister)))
		rt.client("POST", "/account/password/"+string(m)+"/requestToken",
			s.public(s.requestToken(m, uia.OpPasswordReset)))
		rt.client("POST", "/account/3pid/"+string(m)+"/requestToken",
			s.public(s.requestToken(m, uia.OpAddThreepid)))
	}
	rt.handle("POST", threepid.PathPrefix+"{medium}/submitToken", s.public(s.submitToken))
	if s.cfg.Validation != nil {
		rt.handle("GET", threepid.PathPrefix+"{medium}/confirm", s.cfg.Validation)
		rt.handle("POST", threepid.PathPrefix+"{medium}/confirm", s.cfg.Validation)
	}

	rt.client("GET", "/account/3pid", s.authed(s.listThreePIDs))
	rt.client("POST", "/account/3pid", s.authed(s.addThreePIDWithoutUIA))
	rt.client("POST", "/account/3pid/add", s.authed(s.addThreePID))
	rt.client("POST", "/account/3pid/delete", s.authed(s.deleteThreePID, refuseSuspended))
	rt.client("POST", "/account/3pid/unbind", s.authed(s.unbindThreePID))
	rt.client("POST", "/account/3pid/bind", s.authed(s.bindThreePID))
}

// requestToken serves POST /{register,account/password,account/3pid}/{medium}/requestToken
// for one medium and purpose. No access token is needed, as the spec says; requests
// are limited per client address and per address to validate.
func (s *Server) requestToken(m threepid.Medium, purpose uia.Operation) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := decodeObject(r, bodyRequired)
		if err != nil {
			return err
		}
		req, err := decodeTokenRequest(body, m)
		if err != nil {
			return err
		}
		req.Purpose, req.AcceptLanguage = purpose, r.Header.Get("Accept-Language")
		if err := s.limitRequestToken(r, req); err != nil {
			return err
		}

		res, err := s.threepids.RequestToken(r.Context(), req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"sid": res.SID,
			"submit_url": res.SubmitURL})
		return nil
	}
}

// decodeTokenRequest reads the body of a requestToken of medium m: client_secret,
// send_attempt (an integer), next_link and the address fields; id_server and
// id_access_token are checked for type and otherwise ignored, since this server
// validates addresses itself.
func decodeTokenRequest(
	body map[string]json.RawMessage, m threepid.Medium,
) (*threepid.TokenRequest, error) {
	req := &threepid.TokenRequest{Medium: m}
	fields := []stringField{
		{"client_secret", &req.ClientSecret, true},
		{"next_link", &req.NextLink, false},
		{"id_server", new(string), false},
		{"id_access_token", new(string), false},
	}
	if m == threepid.MediumEmail {
		fields = append(fields, stringField{"email", &req.Address.Email, true})
	} else {
		fields = append(fields, stringField{"country", &req.Address.Country, true},
			stringField{"phone_number", &req.Address.PhoneNumber, true})
	}
	if err := readStrings(body, fields...); err != nil {
		return nil, err
	}

	attempt, err := integerParam(body, "send_attempt")
	if err != nil {
		return nil, err
	}
	req.SendAttempt = attempt
	return req, nil
}

// stringField is a string body field, where to put it, and whether it is required.
type stringField struct {
	key      string
	dst      *string
	required bool
}

// readStrings reads fields from body in order: a field of another JSON type is
// M_BAD_JSON, a required one that is absent M_MISSING_PARAM.
func readStrings(body map[string]json.RawMessage, fields ...stringField) error {
	for _, f := range fields {
		v, ok, err := stringParam(body, f.key)
		if err != nil {
			return err
		}
		if !ok && f.required {
			return mxerr.ErrMissingParam.Msg("%s is required", f.key)
		}
		*f.dst = v
	}
	return nil
}

// integerParam returns body[key] when it is a JSON integer: absent is M_MISSING_PARAM,
// anything else (a string, a fraction) M_INVALID_PARAM.
func integerParam(body map[string]json.RawMessage, key string) (int64, error) {
	raw, ok := body[key]
	if !ok || string(raw) == "null" {
		return 0, mxerr.ErrMissingParam.Msg("%s is required", key)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, mxerr.ErrInvalidParam.Msg("%s must be an integer", key)
	}
	return n, nil
}

// limitRequestToken spends one message from the client address's budget and one from
// the address's, so that the endpoint can neither flood a mailbox nor be used to
// guess codes by asking for new ones.
func (s *Server) limitRequestToken(r *http.Request, req *threepid.TokenRequest) error {
	lim := s.limits.RequestToken
	if lim == nil {
		return nil
	}
	if ok, wait := lim.Allow("client:" + s.clientAddr(r)); !ok {
		return rateLimited(wait.Milliseconds())
	}

	address := req.Address.Email
	if req.Medium == threepid.MediumMSISDN {
		address = req.Address.Country + ":" + req.Address.PhoneNumber
	}
	if c, ok := threepid.Canonical(req.Medium, address); ok {
		address = c
	}
	if ok, wait := lim.Allow(string(req.Medium) + ":" + strings.ToLower(address)); !ok {
		return rateLimited(wait.Milliseconds())
	}
	return nil
}

// submitToken serves the submit_url of this server's validation sessions,
// POST /_mxaccounts/validate/{medium}/submitToken: the body and answers of the identity
// service's submitToken, without an access token.
func (s *Server) submitToken(w http.ResponseWriter, r *http.Request) error {
	m := threepid.Medium(r.PathValue("medium"))
	if m != threepid.MediumEmail && m != threepid.MediumMSISDN {
		return mxerr.ErrUnrecognized.Msg("unrecognised request: %s", r.URL.Path)
	}
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	var req threepid.SubmitRequest
	err = readStrings(body, stringField{"sid", &req.SID, true},
		stringField{"client_secret", &req.ClientSecret, true},
		stringField{"token", &req.Token, true})
	if err != nil {
		return err
	}

	if err := s.threepids.Submit(r.Context(), m, &req); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

// threePIDJSON is one entry of GET /account/3pid.
type threePIDJSON struct {
	Medium      string `json:"medium"`
	Address     string `json:"address"`
	ValidatedAt int64  `json:"validated_at"`
	AddedAt     int64  `json:"added_at"`
}

// listThreePIDs serves GET /account/3pid: the addresses added to the account, not
// identity-server bindings; an empty list when there are none.
func (s *Server) listThreePIDs(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	list, err := s.threepids.List(r.Context(), rq.UserID)
	if err != nil {
		return err
	}
	out := make([]threePIDJSON, 0, len(list))
	for _, t := range list {
		out = append(out, threePIDJSON{Medium: t.Medium, Address: t.Address,
			ValidatedAt: t.ValidatedMS, AddedAt: t.AddedMS})
	}
	writeJSON(w, http.StatusOK, map[string]any{"threepids": out})
	return nil
}

// addThreePID serves POST /account/3pid/add: UIA (a failed password stage counts as
// a failed login), then the validated session of client_secret and sid is added.
func (s *Server) addThreePID(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	body, count, err := s.beginUIA(r, bodyRequired)
	if err != nil {
		return err
	}
	defer count(nil)
	creds, err := credentialsParam(body)
	if err != nil {
		return err
	}

	added, err := s.threepids.Add(r.Context(), &uia.Request{Method: r.Method,
		Path: "/account/3pid/add", Body: body}, rq, creds)
	count(err)
	s.observeUserAction(r, audit.ActionThreePIDAdd, rq.UserID, threePIDDetails(added), err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// credentialsParam reads client_secret and sid from the body of /account/3pid/add.
func credentialsParam(body map[string]json.RawMessage) (*threepid.Credentials, error) {
	var creds threepid.Credentials
	err := readStrings(body, stringField{"sid", &creds.SID, false},
		stringField{"client_secret", &creds.ClientSecret, false})
	if err != nil {
		return nil, err
	}
	return &creds, creds.Check()
}

// addThreePIDWithoutUIA serves the deprecated POST /account/3pid: three_pid_creds (or
// threePidCreds, as older clients send it) name a session this server validated, whose
// address is added; nothing is bound on an identity server.
func (s *Server) addThreePIDWithoutUIA(
	w http.ResponseWriter, r *http.Request, rq *store.Requester,
) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	raw, ok := body["three_pid_creds"]
	if !ok {
		raw, ok = body["threePidCreds"]
	}
	if !ok {
		return mxerr.ErrMissingParam.Msg("three_pid_creds is required")
	}
	var creds threepid.Credentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		return mxerr.ErrBadJSON.Msg("three_pid_creds must be an object of strings")
	}

	added, err := s.threepids.AddWithoutUIA(r.Context(), rq.UserID, &creds)
	s.observeUserAction(r, audit.ActionThreePIDAdd, rq.UserID, threePIDDetails(added), err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// unbindParams reads medium, address and id_server of /account/3pid/delete and
// /account/3pid/unbind.
func unbindParams(body map[string]json.RawMessage) (threepid.Medium, string, string, error) {
	var medium, address, idServer string
	err := readStrings(body, stringField{"medium", &medium, true},
		stringField{"address", &address, true}, stringField{"id_server", &idServer, false})
	if err != nil {
		return "", "", "", err
	}
	return threepid.Medium(medium), address, idServer, nil
}

// deleteThreePID serves POST /account/3pid/delete: the address leaves the caller's
// account if it is there; another account's address is never touched.
func (s *Server) deleteThreePID(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	medium, address, idServer, err := unbindParams(body)
	if err != nil {
		return err
	}

	result, err := s.threepids.Delete(r.Context(), rq.UserID, medium, address, idServer)
	s.observeUserAction(r, audit.ActionThreePIDRemove, rq.UserID,
		map[string]any{"medium": string(medium), "address": address}, err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id_server_unbind_result": result})
	return nil
}

// unbindThreePID serves POST /account/3pid/unbind: the account keeps the address.
func (s *Server) unbindThreePID(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	medium, address, idServer, err := unbindParams(body)
	if err != nil {
		return err
	}

	result, err := s.threepids.Unbind(r.Context(), rq.UserID, medium, address, idServer)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id_server_unbind_result": result})
	return nil
}

// bindThreePID serves POST /account/3pid/bind: the identity server id_server binds the
// address of its validated session sid to the caller, authenticated with the caller's
// id_access_token. Its errors are passed on unchanged.
func (s *Server) bindThreePID(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	var req identity.BindRequest
	err = readStrings(body, stringField{"client_secret", &req.ClientSecret, true},
		stringField{"id_access_token", &req.IDAccessToken, true},
		stringField{"id_server", &req.IDServer, true},
		stringField{"sid", &req.SID, true})
	if err != nil {
		return err
	}

	if err := s.threepids.Bind(r.Context(), rq.UserID, req); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// threePIDDetails are the audit details of an added address; nil for none.
func threePIDDetails(t *store.ThreePID) map[string]any {
	if t == nil {
		return nil
	}
	return map[string]any{"medium": t.Medium, "address": t.Address}
}

// threePIDChanges reports whether m.3pid_changes is on: the account's addresses can be
// changed when the server validates email or phone numbers.
func (s *Server) threePIDChanges() bool {
	return s.threepids != nil && (s.threepids.Enabled(threepid.MediumEmail) ||
		s.threepids.Enabled(threepid.MediumMSISDN))
}

// withAcceptLanguage puts the request's Accept-Language header in its context, where
// the notices sent while serving it find their language.
func withAcceptLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lang := r.Header.Get("Accept-Language"); lang != "" {
			r = r.WithContext(threepid.WithAcceptLanguage(r.Context(), lang))
		}
		next.ServeHTTP(w, r)
	})
}
