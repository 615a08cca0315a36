package httpapi

import (
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// adminDeviceJSON is a device as Synapse's admin API shows it: the last-seen fields
// are null for a device never used, and last_seen_user_agent also when its client sent
// no User-Agent.
func adminDeviceJSON(d *store.Device) map[string]any {
	out := map[string]any{
		"device_id":            d.DeviceID,
		"user_id":              d.UserID,
		"last_seen_ip":         nullString(d.LastSeenIP),
		"last_seen_ts":         nullMS(d.LastSeenMS),
		"last_seen_user_agent": nullString(d.LastSeenUserAgent),
		"dehydrated":           false,
	}
	if d.DisplayName != nil {
		out["display_name"] = *d.DisplayName
	}
	return out
}

// adminListDevices serves GET /_synapse/admin/v2/users/{userId}/devices.
func (s *Server) adminListDevices(
	w http.ResponseWriter, r *http.Request, _ *store.Requester, user mxid.UserID,
) error {
	devs, err := s.userAdmin.Devices(r.Context(), user)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(devs))
	for i := range devs {
		out = append(out, adminDeviceJSON(&devs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": out, "total": len(out)})
	return nil
}

// adminGetDevice serves GET /_synapse/admin/v2/users/{userId}/devices/{deviceId}; a
// device the user does not have is 404 M_NOT_FOUND.
func (s *Server) adminGetDevice(
	w http.ResponseWriter, r *http.Request, _ *store.Requester, user mxid.UserID,
) error {
	d, err := s.userAdmin.Device(r.Context(), user, mxid.DeviceID(r.PathValue("deviceId")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminDeviceJSON(d))
	return nil
}

// adminDeleteDevice serves DELETE /_synapse/admin/v2/users/{userId}/devices/{deviceId}:
// the device and its tokens go; a device that does not exist is no error.
func (s *Server) adminDeleteDevice(
	w http.ResponseWriter, r *http.Request, _ *store.Requester, user mxid.UserID,
) error {
	id := mxid.DeviceID(r.PathValue("deviceId"))
	noteAudit(r, "device_ids", []mxid.DeviceID{id})
	if err := s.userAdmin.DeleteDevice(r.Context(), user, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// adminDeleteDevices serves POST /_synapse/admin/v2/users/{userId}/delete_devices
// ({devices: [...]}).
func (s *Server) adminDeleteDevices(
	w http.ResponseWriter, r *http.Request, _ *store.Requester, user mxid.UserID,
) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	ids, err := deviceIDsParam(body)
	if err != nil {
		return err
	}
	noteAudit(r, "device_ids", ids)

	for _, id := range ids {
		if err := s.userAdmin.DeleteDevice(r.Context(), user, id); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// adminWhois serves GET /_synapse/admin/v1/whois/{userId} in the shape of the spec's
// whois (https://spec.matrix.org/v1.13/client-server-api/#get_matrixclientv3adminwhoisuserid):
// per device one session, whose one connection is where, when and by which User-Agent
// it was last seen; a device never used has no connection.
func (s *Server) adminWhois(
	w http.ResponseWriter, r *http.Request, _ *store.Requester, user mxid.UserID,
) error {
	devs, err := s.userAdmin.Devices(r.Context(), user)
	if err != nil {
		return err
	}

	devices := map[mxid.DeviceID]any{}
	for _, d := range devs {
		conns := []map[string]any{}
		if d.LastSeenMS != 0 {
			conns = append(conns, map[string]any{"ip": d.LastSeenIP,
				"last_seen": d.LastSeenMS, "user_agent": d.LastSeenUserAgent})
		}
		devices[d.DeviceID] = map[string]any{
			"sessions": []map[string]any{{"connections": conns}},
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": user, "devices": devices})
	return nil
}
