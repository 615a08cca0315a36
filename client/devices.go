package client

import (
	"context"
	"net/url"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// Device is one of the user's devices
// (https://spec.matrix.org/v1.13/client-server-api/#device-management).
type Device struct {
	DeviceID mxid.DeviceID `json:"device_id"`
	// DisplayName is "" when the device has none.
	DisplayName string `json:"display_name,omitempty"`
	LastSeenIP  string `json:"last_seen_ip,omitempty"`
	// LastSeenTS is in milliseconds since the Unix epoch; 0 when unknown.
	LastSeenTS int64 `json:"last_seen_ts,omitempty"`
}

// DevicesResponse is the answer of GET /devices.
type DevicesResponse struct {
	Devices []Device `json:"devices"`
}

// Devices lists the user's devices.
func (c *Client) Devices(ctx context.Context) (*DevicesResponse, error) {
	var out DevicesResponse
	err := c.do(ctx, &request{method: "GET", path: prefixV3 + "/devices", authed: true,
		out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func devicePath(id mxid.DeviceID) string {
	return prefixV3 + "/devices/" + url.PathEscape(string(id))
}

// Device returns one of the user's devices. A device the user does not have fails with
// a 404, usually mxerr.ErrNotFound.
func (c *Client) Device(ctx context.Context, id mxid.DeviceID) (*Device, error) {
	var out Device
	err := c.do(ctx, &request{method: "GET", path: devicePath(id), authed: true, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateDeviceRequest is the body of PUT /devices/{deviceId}.
type UpdateDeviceRequest struct {
	// DisplayName is the new name; "" leaves the name as it is.
	DisplayName string `json:"display_name,omitempty"`
}

// UpdateDevice changes one of the user's devices. Display names are visible to other
// users. A device the user does not have fails with a 404, usually mxerr.ErrNotFound.
func (c *Client) UpdateDevice(
	ctx context.Context, id mxid.DeviceID, req *UpdateDeviceRequest,
) error {
	return c.do(ctx, &request{method: "PUT", path: devicePath(id), body: orEmpty(req),
		authed: true})
}

// DeleteDeviceRequest is the body of DELETE /devices/{deviceId}.
type DeleteDeviceRequest struct {
	// Auth proves the right to delete; see UIA.
	Auth *AuthData `json:"auth,omitempty"`
}

// DeleteDevice deletes one of the user's devices and ends its session; a device that is
// already gone is not an error. The endpoint is protected by UIA: run it inside UIA.Do.
func (c *Client) DeleteDevice(
	ctx context.Context, id mxid.DeviceID, req *DeleteDeviceRequest,
) error {
	return c.do(ctx, &request{method: "DELETE", path: devicePath(id), body: orEmpty(req),
		authed: true})
}

// DeleteDevicesRequest is the body of POST /delete_devices.
type DeleteDevicesRequest struct {
	// Auth proves the right to delete; see UIA.
	Auth    *AuthData       `json:"auth,omitempty"`
	Devices []mxid.DeviceID `json:"devices"`
}

// DeleteDevices deletes several of the user's devices at once; devices already gone are
// not an error. The endpoint is protected by UIA: run it inside UIA.Do.
func (c *Client) DeleteDevices(ctx context.Context, req *DeleteDevicesRequest) error {
	return c.do(ctx, &request{method: "POST", path: prefixV3 + "/delete_devices",
		body: orEmpty(req), authed: true})
}
