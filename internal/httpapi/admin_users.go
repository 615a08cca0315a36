package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/useradmin"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// The admin API for accounts follows Synapse's user admin API
// (https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html) where
// Synapse has the endpoint, with its paths, fields and errors, so that the consoles
// and scripts written for Synapse work; the lock and suspend endpoints are the spec's
// (https://spec.matrix.org/v1.18/client-server-api/#server-administration). Fields of
// what mxaccounts does not hold (display names, avatars, external IDs, shadow bans) are
// answered as Synapse answers for an account without them.

// adminUserRoutes routes the admin API for accounts, shared-secret registration and
// the audit log.
func (s *Server) adminUserRoutes(rt *router) {
	v1, v2 := adminPrefix+"/v1", adminPrefix+"/v2"
	users := v2 + "/users/{userId}"
	rt.handle("GET", v2+"/users", s.admin("admin.users.list", s.adminListUsers))
	rt.handle("GET", users, s.adminOnUser("admin.user.query", s.adminGetUser))
	rt.handle("PUT", users, s.adminOnUser("admin.user.modify", s.adminPutUser))
	rt.handle("GET", users+"/devices", s.adminOnUser("admin.user.devices", s.adminListDevices))
	rt.handle("POST", users+"/delete_devices", s.adminOnUser("admin.user.delete_devices",
		s.adminDeleteDevices))
	rt.handle("GET", users+"/devices/{deviceId}", s.adminOnUser("admin.user.device",
		s.adminGetDevice))
	rt.handle("DELETE", users+"/devices/{deviceId}", s.adminOnUser("admin.user.delete_device",
		s.adminDeleteDevice))
	rt.handle("POST", v1+"/reset_password/{userId}", s.adminOnUser("admin.user.reset_password",
		s.adminResetPassword))
	rt.handle("POST", v1+"/deactivate/{userId}", s.adminOnUser("admin.user.deactivate",
		s.adminDeactivate))
	rt.handle("GET", v1+"/whois/{userId}", s.adminOnUser("admin.user.whois", s.adminWhois))
	rt.handle("GET", v1+"/username_available", s.admin("admin.username_available",
		s.adminUsernameAvailable))
	rt.handle("GET", v1+"/threepid/{medium}/users/{address}",
		s.admin("admin.threepid.lookup", s.adminUserByThreePID))

	moderation := "/_matrix/client/v1/admin"
	rt.handle("GET", moderation+"/lock/{userId}", s.admin("admin.user.lock_status",
		s.adminGetLock))
	rt.handle("PUT", moderation+"/lock/{userId}", s.admin("admin.user.lock", s.adminPutLock))
	rt.handle("GET", moderation+"/suspend/{userId}", s.admin("admin.user.suspend_status",
		s.adminGetSuspend))
	rt.handle("PUT", moderation+"/suspend/{userId}", s.admin("admin.user.suspend",
		s.adminPutSuspend))

	rt.handle("GET", v1+"/register", s.public(s.sharedSecretNonce))
	rt.handle("POST", v1+"/register", s.public(s.sharedSecretRegister))

	rt.handle("GET", "/_mxaccounts/admin/v1/audit", s.admin("admin.audit.list",
		s.adminAuditEvents))
}

// userFunc is an admin endpoint about the user its path names.
type userFunc func(w http.ResponseWriter, r *http.Request, rq *store.Requester,
	user mxid.UserID) error

// adminOnUser is admin for an endpoint about the user in its path, which it resolves
// (pathUser) before calling h.
func (s *Server) adminOnUser(action string, h userFunc) http.Handler {
	return s.admin(action, func(w http.ResponseWriter, r *http.Request,
		rq *store.Requester,
	) error {
		user, err := s.pathUser(r)
		if err != nil {
			return err
		}
		return h(w, r, rq, user)
	})
}

// pathUser returns the local user ID in the path, or M_INVALID_PARAM.
func (s *Server) pathUser(r *http.Request) (mxid.UserID, error) {
	return s.userAdmin.LocalUser(r.PathValue("userId"))
}

// userOrderKeys maps Synapse's order_by values to the store's sort keys. Display names,
// avatars and shadow bans live elsewhere or nowhere, so they sort by user ID.
var userOrderKeys = map[string]store.AccountOrder{
	"name": store.OrderByUserID, "displayname": store.OrderByUserID,
	"avatar_url": store.OrderByUserID, "shadow_banned": store.OrderByUserID,
	"creation_ts": store.OrderByCreated, "admin": store.OrderByAdmin,
	"deactivated": store.OrderByDeactivated, "locked": store.OrderByLocked,
	"is_guest": store.OrderByGuest, "user_type": store.OrderByUserType,
	"last_seen_ts": store.OrderByLastSeen,
}

// adminListUsers serves GET /_synapse/admin/v2/users: from and limit page through the
// accounts, user_id and name search, guests, deactivated, locked and admins filter,
// order_by and dir sort. next_token is present while more accounts follow.
func (s *Server) adminListUsers(w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	f, err := userFilter(r.URL.Query())
	if err != nil {
		return err
	}
	users, total, err := s.userAdmin.List(r.Context(), f)
	if err != nil {
		return err
	}

	out := make([]map[string]any, 0, len(users))
	for i := range users {
		out = append(out, userListJSON(&users[i]))
	}
	body := map[string]any{"users": out, "total": total}
	// Compared without adding, which could overflow for a huge from or limit.
	if int64(len(users)) > 0 && f.Offset < total-int64(len(users)) {
		body["next_token"] = strconv.FormatInt(f.Offset+int64(len(users)), 10)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// userFilter reads the query of the user list, with Synapse's defaults: guests
// included, deactivated and locked accounts left out, 100 per page.
func userFilter(q url.Values) (store.AccountFilter, error) {
	f := store.AccountFilter{UserIDContains: q.Get("user_id"),
		LocalpartContains: q.Get("name"), Limit: 100}
	if f.LocalpartContains != "" {
		f.UserIDContains = "" // name wins, as in Synapse
	}

	var err error
	if f.Offset, err = intQuery(q, "from", 0, 0); err != nil {
		return f, err
	}
	if f.Limit, err = intQuery(q, "limit", 100, 1); err != nil {
		return f, err
	}
	for _, b := range []struct {
		name string
		dst  *bool
		def  bool
	}{{"guests", &f.Guests, true}, {"deactivated", &f.Deactivated, false},
		{"locked", &f.Locked, false}} {
		if *b.dst, err = boolQuery(q, b.name, b.def); err != nil {
			return f, err
		}
	}
	if q.Has("admins") {
		admins, err := boolQuery(q, "admins", false)
		if err != nil {
			return f, err
		}
		f.Admins = &admins
	}

	order := q.Get("order_by")
	if order == "" {
		order = "name"
	}
	var ok bool
	if f.OrderBy, ok = userOrderKeys[order]; !ok {
		return f, mxerr.ErrInvalidParam.Msg("order_by %q is not one of the sort keys", order)
	}
	switch q.Get("dir") {
	case "", "f":
	case "b":
		f.Descending = true
	default:
		return f, mxerr.ErrInvalidParam.Msg("dir must be f or b")
	}
	return f, nil
}

// intQuery reads an integer query parameter of at least least; def when absent.
func intQuery(q url.Values, name string, def, least int64) (int64, error) {
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil || n < least {
		return 0, mxerr.ErrInvalidParam.Msg("query parameter %s must be an integer of "+
			"at least %d", name, least)
	}
	return n, nil
}

// boolQuery reads a query parameter that is true or false; def when absent.
func boolQuery(q url.Values, name string, def bool) (bool, error) {
	switch q.Get(name) {
	case "":
		if !q.Has(name) {
			return def, nil
		}
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, mxerr.ErrInvalidParam.Msg("query parameter %s must be true or false",
		name)
}

// nullString returns s, or nil for "" so that it encodes as null.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullMS returns ms, or nil for 0 (never) so that it encodes as null.
func nullMS(ms int64) any {
	if ms == 0 {
		return nil
	}
	return ms
}

// userListJSON is an account as the user list shows it; creation_ts is in
// milliseconds there.
func userListJSON(a *store.AccountDetails) map[string]any {
	return map[string]any{
		"name":          a.UserID,
		"is_guest":      a.Kind == store.KindGuest,
		"admin":         a.Admin,
		"user_type":     nullString(a.UserType),
		"deactivated":   a.Deactivated,
		"erased":        a.Erased,
		"shadow_banned": false,
		"displayname":   nil,
		"avatar_url":    nil,
		"creation_ts":   a.CreatedMS,
		"last_seen_ts":  nullMS(a.LastSeenMS),
		"locked":        a.Locked,
		"suspended":     a.Suspended,
		"approved":      true,
	}
}

// userJSON is an account as the user query shows it: the list's fields, but
// creation_ts in seconds, as Synapse keeps it, and the 3PIDs.
func userJSON(u *useradmin.User) map[string]any {
	out := userListJSON(&u.AccountDetails)
	out["creation_ts"] = u.CreatedMS / 1000
	out["appservice_id"] = nullString(u.AppServiceID)
	out["external_ids"] = []any{}
	out["consent_version"], out["consent_ts"] = nil, nil
	out["consent_server_notice_sent"] = nil

	pids := make([]map[string]any, 0, len(u.ThreePIDs))
	for _, p := range u.ThreePIDs {
		pids = append(pids, map[string]any{"medium": p.Medium, "address": p.Address,
			"added_at": p.AddedMS, "validated_at": p.ValidatedMS})
	}
	out["threepids"] = pids
	return out
}

// adminGetUser serves GET /_synapse/admin/v2/users/{userId}.
func (s *Server) adminGetUser(
	w http.ResponseWriter, r *http.Request, _ *store.Requester, user mxid.UserID,
) error {
	u, err := s.userAdmin.User(r.Context(), user)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userJSON(u))
	return nil
}

// adminPutUser serves PUT /_synapse/admin/v2/users/{userId}: it creates the account
// (201) or changes it (200), and answers with the account. The answer has no room for
// the unbinding of removed addresses from identity servers, so the audit event records
// how it went.
func (s *Server) adminPutUser(
	w http.ResponseWriter, r *http.Request, rq *store.Requester, user mxid.UserID,
) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	c, err := decodeChange(body)
	if err != nil {
		return err
	}

	actor := useradmin.Actor{UserID: rq.UserID, DeviceID: rq.DeviceID}
	res, err := s.userAdmin.Upsert(r.Context(), actor, user, c)
	if err != nil {
		return err
	}
	if res.Created {
		s.metrics.Registration("admin", metricOutcome(nil))
	}
	noteAudit(r, "created", res.Created)
	noteAudit(r, "changed", res.Changed)
	if res.IDServerUnbindResult != "" {
		noteAudit(r, "id_server_unbind_result", res.IDServerUnbindResult)
	}

	u, err := s.userAdmin.User(r.Context(), user)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, userJSON(u))
	return nil
}

// decodeChange reads the body of PUT /_synapse/admin/v2/users/{userId}. A field of the
// wrong type is M_BAD_JSON; displayname, avatar_url and external_ids belong to the
// homeserver and are ignored.
//
// TODO(profile): pass displayname and avatar_url on once mxaccounts talks to the
// homeserver's profile store.
func decodeChange(body map[string]json.RawMessage) (useradmin.Change, error) {
	c := useradmin.Change{LogoutDevices: true}
	var err error
	if c.Password, err = optional[string](body, "password"); err != nil {
		return c, err
	}
	logout, err := optional[bool](body, "logout_devices")
	if err != nil {
		return c, err
	}
	if logout != nil {
		c.LogoutDevices = *logout
	}
	if c.Admin, err = optional[bool](body, "admin"); err != nil {
		return c, err
	}
	if c.Deactivated, err = optional[bool](body, "deactivated"); err != nil {
		return c, err
	}
	if c.Locked, err = optional[bool](body, "locked"); err != nil {
		return c, err
	}
	if raw, ok := body["user_type"]; ok {
		t := ""
		if string(raw) != "null" && json.Unmarshal(raw, &t) != nil {
			return c, mxerr.ErrBadJSON.Msg("user_type must be a string or null")
		}
		c.UserType = &t
	}
	if raw, ok := body["threepids"]; ok && string(raw) != "null" {
		pids, err := decodeThreePIDs(raw)
		if err != nil {
			return c, err
		}
		c.ThreePIDs = &pids
	}
	return c, nil
}

// optional reads body[key] as a T; nil when absent or null, M_BAD_JSON when of another
// type.
func optional[T any](body map[string]json.RawMessage, key string) (*T, error) {
	raw, ok := body[key]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, mxerr.ErrBadJSON.Msg("%s must be %s", key, jsonTypeName(v))
	}
	return v, nil
}

// jsonTypeName names the JSON type that decodes into v.
func jsonTypeName(v any) string {
	switch v.(type) {
	case *bool:
		return "a boolean"
	case *string:
		return "a string"
	}
	return "a number"
}

// decodeThreePIDs reads the threepids array: objects with a medium and an address.
func decodeThreePIDs(raw json.RawMessage) ([]useradmin.ThreePIDInput, error) {
	var items []struct {
		Medium  *string `json:"medium"`
		Address *string `json:"address"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, mxerr.ErrBadJSON.Msg("threepids must be an array of objects with " +
			"string medium and address")
	}
	out := make([]useradmin.ThreePIDInput, 0, len(items))
	for _, it := range items {
		if it.Medium == nil || it.Address == nil {
			return nil, mxerr.ErrMissingParam.Msg("each of threepids needs a medium and " +
				"an address")
		}
		out = append(out, useradmin.ThreePIDInput{Medium: *it.Medium, Address: *it.Address})
	}
	return out, nil
}

// adminResetPassword serves POST /_synapse/admin/v1/reset_password/{userId}
// ({new_password, logout_devices}).
func (s *Server) adminResetPassword(
	w http.ResponseWriter, r *http.Request, rq *store.Requester, user mxid.UserID,
) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	pw, err := optional[string](body, "new_password")
	if err != nil {
		return err
	}
	if pw == nil {
		return mxerr.ErrMissingParam.Msg("new_password is required")
	}
	logout, err := optional[bool](body, "logout_devices")
	if err != nil {
		return err
	}

	actor := useradmin.Actor{UserID: rq.UserID, DeviceID: rq.DeviceID}
	err = s.userAdmin.ResetPassword(r.Context(), actor, user, *pw, logout == nil || *logout)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// adminDeactivate serves POST /_synapse/admin/v1/deactivate/{userId} ({erase}; an
// empty body is allowed).
func (s *Server) adminDeactivate(
	w http.ResponseWriter, r *http.Request, _ *store.Requester, user mxid.UserID,
) error {
	body, err := decodeObject(r, bodyOptional)
	if err != nil {
		return err
	}
	erase, err := optional[bool](body, "erase")
	if err != nil {
		return err
	}
	noteAudit(r, "erase", erase != nil && *erase)

	result, err := s.userAdmin.Deactivate(r.Context(), user, erase != nil && *erase)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id_server_unbind_result": result})
	return nil
}

// adminUsernameAvailable serves GET /_synapse/admin/v1/username_available?username=,
// which answers as /register/available does even while registration is closed.
func (s *Server) adminUsernameAvailable(
	w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	q := r.URL.Query()
	if !q.Has("username") {
		return mxerr.ErrMissingParam.Msg("the username query parameter is required")
	}
	if err := s.userAdmin.UsernameAvailable(r.Context(), q.Get("username")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"available": true})
	return nil
}

// adminUserByThreePID serves GET /_synapse/admin/v1/threepid/{medium}/users/{address}.
func (s *Server) adminUserByThreePID(
	w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	user, err := s.userAdmin.UserByThreePID(r.Context(), r.PathValue("medium"),
		r.PathValue("address"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": user})
	return nil
}
