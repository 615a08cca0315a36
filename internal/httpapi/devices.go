package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// deviceJSON is a device as the spec's Device object has it.
type deviceJSON struct {
	DeviceID    mxid.DeviceID `json:"device_id"`
	DisplayName *string       `json:"display_name,omitempty"`
	LastSeenIP  string        `json:"last_seen_ip,omitempty"`
	LastSeenTS  int64         `json:"last_seen_ts,omitempty"`
}

func toDeviceJSON(d *store.Device) deviceJSON {
	return deviceJSON{DeviceID: d.DeviceID, DisplayName: d.DisplayName,
		LastSeenIP: d.LastSeenIP, LastSeenTS: d.LastSeenMS}
}

// listDevices serves GET /devices.
func (s *Server) listDevices(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	devs, err := s.store.Devices(r.Context(), rq.UserID)
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(devs))
	for i := range devs {
		out = append(out, toDeviceJSON(&devs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": out})
	return nil
}

// getDevice serves GET /devices/{deviceId}.
func (s *Server) getDevice(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	d, err := s.store.Device(r.Context(), rq.UserID, mxid.DeviceID(r.PathValue("deviceId")))
	if isNotFound(err) {
		return mxerr.ErrNotFound.Msg("no such device")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDeviceJSON(d))
	return nil
}

// deleteDevice serves DELETE /devices/{deviceId}, through UIA.
func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	body, count, err := s.beginUIA(r, bodyOptional)
	if err != nil {
		return err
	}
	defer count(nil)

	id := mxid.DeviceID(r.PathValue("deviceId"))
	err = s.accounts.DeleteDevices(r.Context(), &uia.Request{Method: r.Method,
		Path: "/devices/" + string(id), Body: body}, rq, []mxid.DeviceID{id})
	count(err)
	s.observeUserAction(r, audit.ActionDeviceDelete, rq.UserID,
		map[string]any{"device_ids": []mxid.DeviceID{id}}, err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// deviceIDsParam reads the required devices parameter of /delete_devices and its admin
// counterpart: an array of device IDs.
func deviceIDsParam(body map[string]json.RawMessage) ([]mxid.DeviceID, error) {
	raw, ok := body["devices"]
	if !ok {
		return nil, mxerr.ErrMissingParam.Msg("devices is required")
	}
	var ids []mxid.DeviceID
	if err := json.Unmarshal(raw, &ids); err != nil {
		return nil, mxerr.ErrBadJSON.Msg("devices must be an array of strings")
	}
	return ids, nil
}

// deleteDevices serves POST /delete_devices, through UIA.
func (s *Server) deleteDevices(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	body, count, err := s.beginUIA(r, bodyRequired)
	if err != nil {
		return err
	}
	defer count(nil)
	ids, err := deviceIDsParam(body)
	if err != nil {
		return err
	}

	err = s.accounts.DeleteDevices(r.Context(), &uia.Request{Method: r.Method,
		Path: "/delete_devices", Body: body}, rq, ids)
	count(err)
	s.observeUserAction(r, audit.ActionDeviceDelete, rq.UserID,
		map[string]any{"device_ids": ids}, err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// putDevice serves PUT /devices/{deviceId}: it renames the device.
func (s *Server) putDevice(w http.ResponseWriter, r *http.Request, rq *store.Requester) error {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return err
	}
	id := mxid.DeviceID(r.PathValue("deviceId"))
	raw, ok := body["display_name"]
	if !ok {
		// Without display_name the device is left as it is, but it must exist.
		if _, err := s.store.Device(r.Context(), rq.UserID, id); isNotFound(err) {
			return mxerr.ErrNotFound.Msg("no such device")
		} else if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, struct{}{})
		return nil
	}
	var name *string
	if string(raw) != "null" {
		var n string
		if err := json.Unmarshal(raw, &n); err != nil {
			return mxerr.ErrBadJSON.Msg("display_name must be a string")
		}
		if err := account.CheckDeviceFields(nil, &n); err != nil {
			return err
		}
		name = &n
	}

	err = s.store.SetDeviceDisplayName(r.Context(), rq.UserID, id, name)
	if isNotFound(err) {
		return mxerr.ErrNotFound.Msg("no such device")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}
