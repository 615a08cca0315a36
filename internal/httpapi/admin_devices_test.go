package httpapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestAdminDevicesAndWhois lists, shows and deletes a user's devices through the admin
// API, and reads where and when they were last seen through whois.
func TestAdminDevicesAndWhois(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	alice := e.user
	phone := loginAs(t, e.srv, alice)
	laptop := loginAs(t, e.srv, alice)
	wantWhoami(t, e.srv, phone.token, http.StatusOK, "") // only the phone has been seen
	devices := userPath(alice.userID) + "/devices"

	status, body := e.asAdmin(t, "GET", devices, nil)
	wantStatus(t, status, body, http.StatusOK)
	list, _ := body["devices"].([]any)
	if len(list) != 3 || body["total"] != float64(3) {
		t.Fatalf("devices %v, want 3", body)
	}
	byID := map[string]map[string]any{}
	for _, d := range list {
		obj := d.(map[string]any)
		byID[obj["device_id"].(string)] = obj
	}
	if d := byID[phone.deviceID]; d["last_seen_ip"] != "127.0.0.1" ||
		d["last_seen_ts"] == nil || d["user_id"] != alice.userID {
		t.Errorf("the phone %v, want it seen from 127.0.0.1", d)
	}
	if d := byID[laptop.deviceID]; d["last_seen_ip"] != nil || d["last_seen_ts"] != nil ||
		d["last_seen_user_agent"] != nil {
		t.Errorf("the laptop %v, want never seen (nulls)", d)
	}

	// One device reads as it does in the list; another user's device, an unknown
	// device and an unknown user's device are 404.
	status, body = e.asAdmin(t, "GET", devices+"/"+phone.deviceID, nil)
	wantStatus(t, status, body, http.StatusOK)
	if !reflect.DeepEqual(body, byID[phone.deviceID]) {
		t.Errorf("device %v, want %v as listed", body, byID[phone.deviceID])
	}
	for _, path := range []string{devices + "/NOSUCHDEVICE",
		devices + "/" + e.admin.deviceID,
		userPath("@nobody:"+serverName) + "/devices/" + phone.deviceID} {
		status, body = e.asAdmin(t, "GET", path, nil)
		wantError(t, status, body, http.StatusNotFound, "M_NOT_FOUND")
	}

	status, body = e.asAdmin(t, "GET", adminV1+"/whois/"+alice.userID, nil)
	wantStatus(t, status, body, http.StatusOK)
	whois, _ := body["devices"].(map[string]any)
	if body["user_id"] != alice.userID || len(whois) != 3 {
		t.Fatalf("whois %v", body)
	}
	sessions := whois[phone.deviceID].(map[string]any)["sessions"].([]any)
	conns := sessions[0].(map[string]any)["connections"].([]any)
	if len(conns) != 1 || conns[0].(map[string]any)["ip"] != "127.0.0.1" ||
		conns[0].(map[string]any)["last_seen"] == nil {
		t.Errorf("the phone's connections %v", conns)
	}

	// Deleting a device ends its session; deleting an unknown one is no error.
	status, body = e.asAdmin(t, "DELETE", devices+"/"+phone.deviceID, nil)
	wantStatus(t, status, body, http.StatusOK)
	wantWhoami(t, e.srv, phone.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	status, body = e.asAdmin(t, "DELETE", devices+"/NOSUCHDEVICE", nil)
	wantStatus(t, status, body, http.StatusOK)

	status, body = e.asAdmin(t, "POST", userPath(alice.userID)+"/delete_devices",
		map[string]any{"devices": []string{laptop.deviceID, alice.deviceID}})
	wantStatus(t, status, body, http.StatusOK)
	wantWhoami(t, e.srv, laptop.token, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	_, body = e.asAdmin(t, "GET", devices, nil)
	if list, _ := body["devices"].([]any); len(list) != 0 {
		t.Errorf("devices left: %v", body)
	}

	ev := wantAuditEvent(t, e.srv, "admin.user.delete_devices", alice.userID, "success")
	if string(ev.Details) != `{"device_ids":["`+laptop.deviceID+`","`+alice.deviceID+`"]}` {
		t.Errorf("audit details %s", ev.Details)
	}

	status, body = e.asAdmin(t, "GET", adminV1+"/whois/@nobody:"+serverName, nil)
	wantError(t, status, body, http.StatusNotFound, "M_NOT_FOUND")
	status, body = e.asAdmin(t, "GET", userPath("@nobody:"+serverName)+"/devices", nil)
	wantError(t, status, body, http.StatusNotFound, "M_NOT_FOUND")
}

// whoamiWithAgent sends whoami with token and the User-Agent header set to userAgent,
// byte for byte, and fails the test unless it succeeds.
func whoamiWithAgent(t *testing.T, srv *testserver.Server, token, userAgent string) {
	t.Helper()

	req, err := http.NewRequest("GET", api(srv, "/account/whoami"), nil)
	if err != nil {
		t.Fatalf("build whoami: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", userAgent)
	status, _, body, err := roundTrip(req)
	if err != nil {
		t.Fatalf("whoami as %.40q: %v", userAgent, err)
	}
	wantStatus(t, status, body, http.StatusOK)
}

// TestAdminDeviceUserAgent sends requests with chosen User-Agent headers and reads them
// back as last_seen_user_agent in the admin device list and device, and as user_agent
// in whois: as sent, cut to 512 bytes of valid UTF-8 when it is longer or not UTF-8,
// and null for a device never seen.
func TestAdminDeviceUserAgent(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	alice := e.user // alice's first device is never used
	phone := loginAs(t, e.srv, alice)
	bot := loginAs(t, e.srv, alice)

	const phoneAgent = "Element/1.11.0 (Android 14; Zoë's phone)"
	botAgent := "bot\xff/" + strings.Repeat("x", 600)
	botStored := "bot\uFFFD/" + strings.Repeat("x", 512-len("bot\uFFFD/"))
	whoamiWithAgent(t, e.srv, phone.token, phoneAgent)
	// Within the same minute the device's record stays as it is.
	whoamiWithAgent(t, e.srv, phone.token, "curl/8.0")
	whoamiWithAgent(t, e.srv, bot.token, botAgent)
	want := map[string]any{phone.deviceID: phoneAgent, bot.deviceID: botStored,
		alice.deviceID: nil}

	devices := userPath(alice.userID) + "/devices"
	status, body := e.asAdmin(t, "GET", devices, nil)
	wantStatus(t, status, body, http.StatusOK)
	list, _ := body["devices"].([]any)
	if len(list) != len(want) {
		t.Fatalf("devices %v, want %d", body, len(want))
	}
	for _, d := range list {
		obj := d.(map[string]any)
		id, _ := obj["device_id"].(string)
		if got := obj["last_seen_user_agent"]; got != want[id] {
			t.Errorf("listed device %s: last_seen_user_agent %.40q, want %.40q", id, got,
				want[id])
		}
	}

	for id, agent := range want {
		status, body := e.asAdmin(t, "GET", devices+"/"+id, nil)
		wantStatus(t, status, body, http.StatusOK)
		if got, ok := body["last_seen_user_agent"]; !ok || got != agent {
			t.Errorf("device %s: last_seen_user_agent %.40q (present %v), want %.40q", id,
				got, ok, agent)
		}
	}

	status, body = e.asAdmin(t, "GET", adminV1+"/whois/"+alice.userID, nil)
	wantStatus(t, status, body, http.StatusOK)
	whois, _ := body["devices"].(map[string]any)
	for id, agent := range want {
		dev, _ := whois[id].(map[string]any)
		sessions, _ := dev["sessions"].([]any)
		if len(sessions) != 1 {
			t.Fatalf("whois device %s: %v, want one session", id, dev)
		}
		conns, _ := sessions[0].(map[string]any)["connections"].([]any)
		switch {
		case agent == nil && len(conns) != 0:
			t.Errorf("whois device %s never seen has connections %v", id, conns)
		case agent != nil && (len(conns) != 1 ||
			conns[0].(map[string]any)["user_agent"] != agent):
			t.Errorf("whois device %s: connections %.80v, want one with user_agent %.40q",
				id, conns, agent)
		}
	}
}
