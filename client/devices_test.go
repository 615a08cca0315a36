package client_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// TestDevices lists, reads and renames devices on the real server, and checks the 404
// of a device the user does not have.
func TestDevices(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	c := loggedIn(t, srv, "liam")
	other := loggedIn(t, srv, "mia")
	login, err := c.Login(t.Context(), &client.LoginRequest{Type: client.LoginTypePassword,
		Identifier: client.ByUser("liam"), Password: testPassword,
		DeviceID: "TABLET/1", InitialDeviceDisplayName: "tablet"})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	who, err := c.Whoami(t.Context())
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}

	list, err := c.Devices(t.Context())
	if err != nil {
		t.Fatalf("list devices: %v", err)
	}
	ids := deviceIDs(list.Devices)
	if len(ids) != 2 || !slices.Contains(ids, who.DeviceID) ||
		!slices.Contains(ids, login.DeviceID) {
		t.Errorf("devices %v, want %s and %s", ids, who.DeviceID, login.DeviceID)
	}

	// A device ID with a slash must reach the server as one path segment.
	dev, err := c.Device(t.Context(), "TABLET/1")
	if err != nil {
		t.Fatalf("get device: %v", err)
	}
	if dev.DeviceID != "TABLET/1" || dev.DisplayName != "tablet" {
		t.Errorf("device %+v, want TABLET/1 named tablet", dev)
	}

	err = c.UpdateDevice(t.Context(), "TABLET/1", &client.UpdateDeviceRequest{
		DisplayName: "kitchen tablet"})
	if err != nil {
		t.Fatalf("rename device: %v", err)
	}
	if dev, err = c.Device(t.Context(), "TABLET/1"); err != nil {
		t.Fatalf("get device after renaming: %v", err)
	}
	if dev.DisplayName != "kitchen tablet" {
		t.Errorf("display name %q after renaming, want kitchen tablet", dev.DisplayName)
	}

	t.Run("empty update keeps the name", func(t *testing.T) {
		if err := c.UpdateDevice(t.Context(), "TABLET/1",
			&client.UpdateDeviceRequest{}); err != nil {
			t.Fatalf("empty update: %v", err)
		}
		dev, err := c.Device(t.Context(), "TABLET/1")
		if err != nil {
			t.Fatalf("get device after an empty update: %v", err)
		}
		if dev.DisplayName != "kitchen tablet" {
			t.Errorf("display name %q after PUT {}, want it unchanged", dev.DisplayName)
		}
	})

	otherWho, err := other.Whoami(t.Context())
	if err != nil {
		t.Fatalf("whoami of the other user: %v", err)
	}
	for name, id := range map[string]mxid.DeviceID{
		"unknown device": "NOPE", "another user's device": otherWho.DeviceID,
	} {
		_, err := c.Device(t.Context(), id)
		if !errWith(err, mxerr.ErrNotFound, http.StatusNotFound) {
			t.Errorf("get %s: error %v, want 404 M_NOT_FOUND", name, err)
		}
		err = c.UpdateDevice(t.Context(), id, &client.UpdateDeviceRequest{DisplayName: "x"})
		if !errWith(err, mxerr.ErrNotFound, http.StatusNotFound) {
			t.Errorf("rename %s: error %v, want 404 M_NOT_FOUND", name, err)
		}
	}

	_, err = newClient(t, srv.URL, client.Tokens{}).Devices(t.Context())
	wantMatrixError(t, err, mxerr.ErrMissingToken, http.StatusUnauthorized)
}

// uiaPasswordEndpoint returns a fake UIA endpoint that offers one m.login.password flow
// and answers ok once the auth carries password pw.
func uiaPasswordEndpoint(t *testing.T, pw string, ok string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := readBody(t, r)
		const challenge = `"flows":[{"stages":["m.login.password"]}],"params":{},` +
			`"session":"sess1"`
		auth := decodeAuth(t, body)
		switch {
		case auth == nil:
			writeJSON(w, http.StatusUnauthorized, `{`+challenge+`,"completed":[]}`)
		case auth["type"] != client.AuthTypePassword || auth["session"] != "sess1":
			writeJSON(w, http.StatusBadRequest, `{"errcode":"M_UNKNOWN","error":"bad auth"}`)
		case auth["password"] != pw:
			writeJSON(w, http.StatusUnauthorized, `{"errcode":"M_FORBIDDEN",`+
				`"error":"Invalid password",`+challenge+`,"completed":[]}`)
		default:
			writeJSON(w, http.StatusOK, ok)
		}
	}
}

// TestDeleteDevices deletes one device and several through UIA on a fake server, and
// checks the bodies sent and a failed password stage.
func TestDeleteDevices(t *testing.T) {
	t.Parallel()
	const pw = "hunter2"
	wantAuth := `{"type":"m.login.password","session":"sess1",` +
		`"identifier":{"type":"m.id.user","user":"@u:hs"},"password":"hunter2"}`

	tests := []struct {
		name    string
		pattern string
		call    func(ctx context.Context, c *client.Client, auth *client.AuthData) error
		want    string
	}{
		{
			name:    "one",
			pattern: "DELETE /_matrix/client/v3/devices/{id}",
			call: func(ctx context.Context, c *client.Client, auth *client.AuthData) error {
				return c.DeleteDevice(ctx, "DEV 1", &client.DeleteDeviceRequest{Auth: auth})
			},
			want: `{"auth":` + wantAuth + `}`,
		},
		{
			name:    "several",
			pattern: "POST /_matrix/client/v3/delete_devices",
			call: func(ctx context.Context, c *client.Client, auth *client.AuthData) error {
				return c.DeleteDevices(ctx, &client.DeleteDevicesRequest{Auth: auth,
					Devices: []mxid.DeviceID{"A", "B"}})
			},
			want: `{"auth":` + wantAuth + `,"devices":["A","B"]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeServer(t, map[string]http.HandlerFunc{
				tt.pattern: uiaPasswordEndpoint(t, pw, `{}`),
			})
			c := fs.client(t, client.Tokens{AccessToken: "at"})
			run := func(password string) error {
				u := client.UIA{Stages: []client.Stage{
					client.PasswordStage(client.ByUser("@u:hs"), password)}}
				return u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
					return tt.call(ctx, c, auth)
				})
			}

			if err := run(pw); err != nil {
				t.Fatalf("delete: %v", err)
			}
			reqs := fs.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2 (challenge, password)", len(reqs))
			}
			if reqs[0].Authorization != "Bearer at" {
				t.Errorf("Authorization %q, want the access token", reqs[0].Authorization)
			}
			if tt.name == "one" && reqs[0].Path != "/_matrix/client/v3/devices/DEV%201" {
				t.Errorf("path %q, want the device ID escaped", reqs[0].Path)
			}
			wantJSON(t, reqs[1].Body, tt.want)

			err := run("wrong")
			e := wantMatrixError(t, err, mxerr.ErrForbidden, http.StatusUnauthorized)
			if e.UIA == nil || e.UIA.Session != "sess1" {
				t.Errorf("failed stage carries challenge %+v, want session sess1", e.UIA)
			}
		})
	}
}

// TestDeleteDevicesRealServer deletes devices through UIA on the real server: one with
// DeleteDevice, two with DeleteDevices, and one that is already gone.
func TestDeleteDevicesRealServer(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)
	reg := registerUser(t, srv, "quinn")
	c := newClient(t, srv.URL, reg.Tokens())
	var others []*client.Client
	for _, id := range []mxid.DeviceID{"A", "B", "C"} {
		login, err := c.Login(t.Context(), &client.LoginRequest{
			Type: client.LoginTypePassword, Identifier: client.ByUser("quinn"),
			Password: testPassword, DeviceID: id})
		if err != nil {
			t.Fatalf("login as %s: %v", id, err)
		}
		others = append(others, newClient(t, srv.URL, login.Tokens()))
	}
	u := passwordUIA(reg.UserID, testPassword)

	err := u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		return c.DeleteDevice(ctx, "A", &client.DeleteDeviceRequest{Auth: auth})
	})
	if err != nil {
		t.Fatalf("delete A: %v", err)
	}
	err = u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		return c.DeleteDevices(ctx, &client.DeleteDevicesRequest{Auth: auth,
			Devices: []mxid.DeviceID{"A", "B", "C"}})
	})
	if err != nil {
		t.Fatalf("delete A (again), B and C: %v", err)
	}

	list, err := c.Devices(t.Context())
	if err != nil {
		t.Fatalf("list devices: %v", err)
	}
	if ids := deviceIDs(list.Devices); !slices.Equal(ids, []mxid.DeviceID{reg.DeviceID}) {
		t.Errorf("devices %v, want only %s", ids, reg.DeviceID)
	}
	for i, o := range others {
		_, err := o.Whoami(t.Context())
		if !errWith(err, mxerr.ErrUnknownToken, http.StatusUnauthorized) {
			t.Errorf("session %d of a deleted device: error %v, want 401", i, err)
		}
	}

	err = passwordUIA(reg.UserID, "wrong").Do(t.Context(),
		func(ctx context.Context, auth *client.AuthData) error {
			return c.DeleteDevice(ctx, reg.DeviceID, &client.DeleteDeviceRequest{Auth: auth})
		})
	wantMatrixError(t, err, mxerr.ErrForbidden, http.StatusUnauthorized)
}

// deviceIDs returns the IDs of devices.
func deviceIDs(devices []client.Device) []mxid.DeviceID {
	var ids []mxid.DeviceID
	for _, d := range devices {
		ids = append(ids, d.DeviceID)
	}
	return ids
}
