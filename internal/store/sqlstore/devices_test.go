package sqlstore_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// deviceRow is what the devices table holds for one device, read raw since no store
// method reads a device back.
type deviceRow struct {
	displayName *string
	createdMS   int64
}

// readDevice returns the stored device, or false when there is none.
func readDevice(t *testing.T, s *sqlstore.Store, user mxid.UserID,
	device mxid.DeviceID,
) (deviceRow, bool) {
	t.Helper()

	var d deviceRow
	err := s.RawQueryRow(t.Context(), `
		SELECT display_name, created_ms FROM devices WHERE user_id = ? AND device_id = ?`,
		user, device).Scan(&d.displayName, &d.createdMS)
	if err != nil {
		wantErr(t, "read device "+string(device), err, store.ErrNotFound)
		return deviceRow{}, false
	}
	return d, true
}

// tokenWorks reports whether the token with digest authenticates anyone.
func tokenWorks(t *testing.T, s *sqlstore.Store, digest string) bool {
	t.Helper()

	_, err := s.RequesterByToken(t.Context(), []byte(digest))
	if err != nil {
		wantErr(t, "RequesterByToken("+digest+")", err, store.ErrNotFound)
		return false
	}
	return true
}

func TestEnsureDevice(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		first     *string
		second    *string
		wantFinal *string
	}{
		{"named, renamed", ptr("phone"), ptr("laptop"), ptr("phone")},
		{"named, unnamed", ptr("phone"), nil, ptr("phone")},
		{"unnamed, named", nil, ptr("laptop"), nil},
		{"empty name kept", ptr(""), ptr("laptop"), ptr("")},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice := userID("alice")

		for i, tt := range tests {
			id := mxid.DeviceID("DEV" + string(rune('A'+i)))

			created, err := s.EnsureDevice(ctx, &store.Device{UserID: alice, DeviceID: id,
				DisplayName: tt.first, CreatedMS: nowMS})
			if err != nil || !created {
				t.Fatalf("%s: first EnsureDevice = %v, %v; want true, nil", tt.name, created, err)
			}

			created, err = s.EnsureDevice(ctx, &store.Device{UserID: alice, DeviceID: id,
				DisplayName: tt.second, CreatedMS: nowMS + 1000})
			if err != nil || created {
				t.Fatalf("%s: second EnsureDevice = %v, %v; want false, nil", tt.name, created,
					err)
			}

			d, ok := readDevice(t, s, alice, id)
			if !ok {
				t.Fatalf("%s: device %s is missing", tt.name, id)
			}
			if !equalPtr(d.displayName, tt.wantFinal) || d.createdMS != nowMS {
				t.Errorf("%s: device has name %s, created %d; want %s, %d", tt.name,
					show(d.displayName), d.createdMS, show(tt.wantFinal), nowMS)
			}
		}

		// The same device ID of another user is another device.
		created, err := s.EnsureDevice(ctx, &store.Device{UserID: userID("bob"),
			DeviceID: "DEVA", CreatedMS: nowMS})
		if err != nil || !created {
			t.Fatalf("EnsureDevice(bob, DEVA) = %v, %v; want true, nil", created, err)
		}
	})
}

func equalPtr(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func show(p *string) string {
	if p == nil {
		return "NULL"
	}
	return "'" + *p + "'"
}

func TestRequesterByToken(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice := newAccount("alice")
		alice.Admin = true
		if err := s.CreateAccount(ctx, alice); err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}
		guest := newAccount("guest1")
		guest.Kind = store.KindGuest
		if err := s.CreateAccount(ctx, guest); err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}

		// 32 bytes with every value a byte can take at the edges, as a SHA-256 is.
		digest := bytes.Repeat([]byte{0x00, 0xff, 0x7f, 0x80}, 8)
		tokens := []store.AccessToken{
			{Digest: digest, UserID: alice.UserID, DeviceID: "PHONE", CreatedMS: nowMS,
				ExpiresMS: nowMS + 3600_000},
			{Digest: []byte("alice-laptop"), UserID: alice.UserID, DeviceID: "LAPTOP",
				CreatedMS: nowMS},
			{Digest: []byte("guest"), UserID: guest.UserID, DeviceID: "G", CreatedMS: nowMS},
		}
		accounts := map[mxid.UserID]*store.Account{alice.UserID: alice, guest.UserID: guest}

		for _, tok := range tokens {
			if _, err := s.EnsureDevice(ctx, &store.Device{UserID: tok.UserID,
				DeviceID: tok.DeviceID, CreatedMS: nowMS}); err != nil {
				t.Fatalf("EnsureDevice: %v", err)
			}
			if err := s.CreateAccessToken(ctx, &tok); err != nil {
				t.Fatalf("CreateAccessToken: %v", err)
			}
		}

		for _, tok := range tokens {
			r, err := s.RequesterByToken(ctx, tok.Digest)
			if err != nil {
				t.Fatalf("RequesterByToken(%x): %v", tok.Digest, err)
			}
			if r.Account != *accounts[tok.UserID] || r.DeviceID != tok.DeviceID ||
				!bytes.Equal(r.TokenDigest, tok.Digest) || r.ExpiresMS != tok.ExpiresMS {
				t.Errorf("RequesterByToken(%x) = %+v; want account %+v, token %+v",
					tok.Digest, *r, *accounts[tok.UserID], tok)
			}
		}

		for _, digest := range [][]byte{[]byte("unknown"), digest[:31], {}, nil} {
			_, err := s.RequesterByToken(ctx, digest)
			wantErr(t, "RequesterByToken(unknown)", err, store.ErrNotFound)
		}

		// A token whose account does not exist authenticates nobody.
		orphan := &store.AccessToken{Digest: []byte("orphan"), UserID: userID("ghost"),
			DeviceID: "X", CreatedMS: nowMS}
		if err := s.CreateAccessToken(ctx, orphan); err != nil {
			t.Fatalf("CreateAccessToken(orphan): %v", err)
		}
		if tokenWorks(t, s, "orphan") {
			t.Errorf("a token of a missing account works")
		}

		// A digest is stored once.
		dup := tokens[1]
		dup.DeviceID = "OTHER"
		err := s.CreateAccessToken(ctx, &dup)
		wantErr(t, "CreateAccessToken(duplicate)", err, store.ErrConflict)
	})
}

func TestDeleteDevice(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice, bob := userID("alice"), userID("bob")
		createAccount(t, s, "alice")
		createAccount(t, s, "bob")
		createDevice(t, s, alice, "PHONE", "alice-phone")
		createDevice(t, s, alice, "LAPTOP", "alice-laptop")
		createDevice(t, s, bob, "PHONE", "bob-phone")

		// A second token of the same device goes with it.
		if err := s.CreateAccessToken(ctx, &store.AccessToken{Digest: []byte("alice-phone-2"),
			UserID: alice, DeviceID: "PHONE", CreatedMS: nowMS}); err != nil {
			t.Fatalf("CreateAccessToken: %v", err)
		}

		if err := s.DeleteDevice(ctx, alice, "PHONE"); err != nil {
			t.Fatalf("DeleteDevice: %v", err)
		}

		for _, tt := range []struct {
			digest string
			want   bool
		}{
			{"alice-phone", false},
			{"alice-phone-2", false},
			{"alice-laptop", true},
			{"bob-phone", true},
		} {
			if got := tokenWorks(t, s, tt.digest); got != tt.want {
				t.Errorf("after DeleteDevice, token %s works: %v; want %v", tt.digest, got,
					tt.want)
			}
		}

		if _, ok := readDevice(t, s, alice, "PHONE"); ok {
			t.Errorf("device PHONE of alice is still there")
		}
		if _, ok := readDevice(t, s, bob, "PHONE"); !ok {
			t.Errorf("device PHONE of bob is gone")
		}

		// The device can be created anew, and deleting a missing one is no error.
		created, err := s.EnsureDevice(ctx, &store.Device{UserID: alice, DeviceID: "PHONE",
			CreatedMS: nowMS})
		if err != nil || !created {
			t.Errorf("EnsureDevice after DeleteDevice = %v, %v; want true, nil", created, err)
		}
		for _, id := range []mxid.DeviceID{"PHONE", "PHONE", "NEVER"} {
			if err := s.DeleteDevice(ctx, alice, id); err != nil {
				t.Errorf("DeleteDevice(%s): %v", id, err)
			}
		}
	})
}

func TestDeleteDeviceTokens(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice, bob := userID("alice"), userID("bob")
		createAccount(t, s, "alice")
		createAccount(t, s, "bob")
		createDevice(t, s, alice, "PHONE", "alice-phone")
		createDevice(t, s, alice, "LAPTOP", "alice-laptop")
		createDevice(t, s, bob, "PHONE", "bob-phone")

		if err := s.DeleteDeviceTokens(ctx, alice, "PHONE"); err != nil {
			t.Fatalf("DeleteDeviceTokens: %v", err)
		}

		if tokenWorks(t, s, "alice-phone") {
			t.Errorf("the deleted token still works")
		}
		if !tokenWorks(t, s, "alice-laptop") || !tokenWorks(t, s, "bob-phone") {
			t.Errorf("DeleteDeviceTokens deleted other devices' tokens")
		}
		if _, ok := readDevice(t, s, alice, "PHONE"); !ok {
			t.Errorf("DeleteDeviceTokens deleted the device")
		}

		if err := s.DeleteDeviceTokens(ctx, alice, "NEVER"); err != nil {
			t.Errorf("DeleteDeviceTokens(missing device): %v", err)
		}
	})
}

func TestDeleteAllDevices(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice, bob := userID("alice"), userID("bob")
		createAccount(t, s, "alice")
		createAccount(t, s, "bob")
		createDevice(t, s, alice, "PHONE", "alice-phone")
		createDevice(t, s, alice, "LAPTOP", "alice-laptop")
		createDevice(t, s, bob, "PHONE", "bob-phone")

		if err := s.DeleteAllDevices(ctx, alice); err != nil {
			t.Fatalf("DeleteAllDevices: %v", err)
		}

		if tokenWorks(t, s, "alice-phone") || tokenWorks(t, s, "alice-laptop") {
			t.Errorf("a token of alice still works")
		}
		if !tokenWorks(t, s, "bob-phone") {
			t.Errorf("bob's token was deleted too")
		}
		for _, id := range []mxid.DeviceID{"PHONE", "LAPTOP"} {
			if _, ok := readDevice(t, s, alice, id); ok {
				t.Errorf("device %s of alice is still there", id)
			}
		}
		if _, ok := readDevice(t, s, bob, "PHONE"); !ok {
			t.Errorf("bob's device was deleted too")
		}

		if err := s.DeleteAllDevices(ctx, userID("nobody")); err != nil {
			t.Errorf("DeleteAllDevices(user without devices): %v", err)
		}
	})
}

func TestDevicesAndDevice(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice, bob := userID("alice"), userID("bob")

		// Created out of order, with one tie on created_ms.
		want := []store.Device{
			{UserID: alice, DeviceID: "OLDEST", DisplayName: ptr("first"), CreatedMS: nowMS},
			{UserID: alice, DeviceID: "TIE-A", CreatedMS: nowMS + 10},
			{UserID: alice, DeviceID: "TIE-B", DisplayName: ptr(""), CreatedMS: nowMS + 10},
			{UserID: alice, DeviceID: "NEWEST", DisplayName: ptr("last"), CreatedMS: nowMS + 20},
		}
		for _, i := range []int{3, 1, 0, 2} {
			if _, err := s.EnsureDevice(ctx, &want[i]); err != nil {
				t.Fatalf("EnsureDevice(%s): %v", want[i].DeviceID, err)
			}
		}
		bobs := store.Device{UserID: bob, DeviceID: "OLDEST", CreatedMS: nowMS - 1}
		if _, err := s.EnsureDevice(ctx, &bobs); err != nil {
			t.Fatalf("EnsureDevice(bob): %v", err)
		}

		got, err := s.Devices(ctx, alice)
		if err != nil {
			t.Fatalf("Devices: %v", err)
		}
		if !slices.EqualFunc(got, want, deviceEqual) {
			t.Errorf("Devices(alice) = %s; want %s", showDevices(got), showDevices(want))
		}

		for _, d := range append(want, bobs) {
			got, err := s.Device(ctx, d.UserID, d.DeviceID)
			if err != nil {
				t.Fatalf("Device(%s, %s): %v", d.UserID, d.DeviceID, err)
			}
			if !deviceEqual(*got, d) {
				t.Errorf("Device(%s, %s) = %s; want %s", d.UserID, d.DeviceID,
					showDevices([]store.Device{*got}), showDevices([]store.Device{d}))
			}
		}

		if got, err := s.Devices(ctx, userID("nobody")); err != nil || len(got) != 0 {
			t.Errorf("Devices(nobody) = %v, %v; want none", got, err)
		}
		_, err = s.Device(ctx, bob, "NEWEST")
		wantErr(t, "Device(bob, NEWEST)", err, store.ErrNotFound)
	})
}

func deviceEqual(a, b store.Device) bool {
	return a.UserID == b.UserID && a.DeviceID == b.DeviceID &&
		equalPtr(a.DisplayName, b.DisplayName) && a.CreatedMS == b.CreatedMS &&
		a.LastSeenMS == b.LastSeenMS && a.LastSeenIP == b.LastSeenIP &&
		a.LastSeenUserAgent == b.LastSeenUserAgent
}

func showDevices(ds []store.Device) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("{%s %s %s %d %d %q %q}", d.UserID, d.DeviceID,
			show(d.DisplayName), d.CreatedMS, d.LastSeenMS, d.LastSeenIP,
			d.LastSeenUserAgent))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// TestTouchDevice records devices as seen, one step after the other on the same
// database, and reads the last-seen time, address and User-Agent back through Device
// and Devices.
func TestTouchDevice(t *testing.T) {
	t.Parallel()

	const minute = 60_000
	// longAgent is as long as the device service lets a User-Agent grow, and ends in a
	// four-byte character.
	longAgent := strings.Repeat("a", 508) + "📱"
	steps := []struct {
		name        string
		seen        store.Device
		olderThanMS int64
		// want is the device afterwards; only its last-seen fields are set.
		want store.Device
	}{
		{"first request",
			store.Device{LastSeenMS: nowMS, LastSeenIP: "192.0.2.1",
				LastSeenUserAgent: "Element/1.11 (Linux)"},
			nowMS - minute,
			store.Device{LastSeenMS: nowMS, LastSeenIP: "192.0.2.1",
				LastSeenUserAgent: "Element/1.11 (Linux)"}},
		{"within the interval: nothing changes",
			store.Device{LastSeenMS: nowMS + 1, LastSeenIP: "192.0.2.2",
				LastSeenUserAgent: "curl/8.0"},
			nowMS + 1 - minute,
			store.Device{LastSeenMS: nowMS, LastSeenIP: "192.0.2.1",
				LastSeenUserAgent: "Element/1.11 (Linux)"}},
		{"recorded exactly at the bound: nothing changes",
			store.Device{LastSeenMS: nowMS + minute, LastSeenIP: "192.0.2.2",
				LastSeenUserAgent: "curl/8.0"},
			nowMS,
			store.Device{LastSeenMS: nowMS, LastSeenIP: "192.0.2.1",
				LastSeenUserAgent: "Element/1.11 (Linux)"}},
		{"after the interval: non-ASCII agent",
			store.Device{LastSeenMS: nowMS + minute + 1, LastSeenIP: "2001:db8::1",
				LastSeenUserAgent: "Zoë's client/2 😀"},
			nowMS + 1,
			store.Device{LastSeenMS: nowMS + minute + 1, LastSeenIP: "2001:db8::1",
				LastSeenUserAgent: "Zoë's client/2 😀"}},
		{"longest agent kept whole",
			store.Device{LastSeenMS: nowMS + 3*minute, LastSeenIP: "2001:db8::1",
				LastSeenUserAgent: longAgent},
			nowMS + 2*minute,
			store.Device{LastSeenMS: nowMS + 3*minute, LastSeenIP: "2001:db8::1",
				LastSeenUserAgent: longAgent}},
		{"no agent clears the old one",
			store.Device{LastSeenMS: nowMS + 5*minute, LastSeenIP: "192.0.2.3"},
			nowMS + 4*minute,
			store.Device{LastSeenMS: nowMS + 5*minute, LastSeenIP: "192.0.2.3"}},
	}

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice, bob := userID("alice"), userID("bob")
		createDevice(t, s, alice, "PHONE", "alice-phone")
		createDevice(t, s, alice, "LAPTOP", "alice-laptop")
		createDevice(t, s, bob, "PHONE", "bob-phone")
		untouched := store.Device{CreatedMS: nowMS}

		for _, st := range steps {
			seen := st.seen
			seen.UserID, seen.DeviceID = alice, "PHONE"
			if err := s.TouchDevice(ctx, &seen, st.olderThanMS); err != nil {
				t.Fatalf("%s: TouchDevice: %v", st.name, err)
			}

			want := st.want
			want.UserID, want.DeviceID, want.CreatedMS = alice, "PHONE", nowMS
			got, err := s.Device(ctx, alice, "PHONE")
			if err != nil {
				t.Fatalf("%s: Device: %v", st.name, err)
			}
			if !deviceEqual(*got, want) {
				t.Errorf("%s: Device = %s; want %s", st.name,
					showDevices([]store.Device{*got}), showDevices([]store.Device{want}))
			}

			// Devices reads the same columns; the laptop stays never seen, and comes
			// first as the two were created at the same time.
			laptop := untouched
			laptop.UserID, laptop.DeviceID = alice, "LAPTOP"
			all, err := s.Devices(ctx, alice)
			if err != nil {
				t.Fatalf("%s: Devices: %v", st.name, err)
			}
			wantAll := []store.Device{laptop, want}
			if !slices.EqualFunc(all, wantAll, deviceEqual) {
				t.Errorf("%s: Devices = %s; want %s", st.name, showDevices(all),
					showDevices(wantAll))
			}
		}

		bobs := untouched
		bobs.UserID, bobs.DeviceID = bob, "PHONE"
		if got, err := s.Device(ctx, bob, "PHONE"); err != nil || !deviceEqual(*got, bobs) {
			t.Errorf("bob's device after alice's was seen: %+v, %v; want never seen", got, err)
		}

		// A device that does not exist, or no longer does, is no error.
		gone := &store.Device{UserID: alice, DeviceID: "GONE", LastSeenMS: nowMS,
			LastSeenUserAgent: "x"}
		if err := s.TouchDevice(ctx, gone, nowMS); err != nil {
			t.Errorf("TouchDevice(missing device): %v", err)
		}
		_, err := s.Device(ctx, alice, "GONE")
		wantErr(t, "Device(alice, GONE) after TouchDevice", err, store.ErrNotFound)
	})
}

func TestSetDeviceDisplayName(t *testing.T) {
	t.Parallel()

	storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		alice, bob := userID("alice"), userID("bob")
		createAccount(t, s, "alice")
		createDevice(t, s, alice, "PHONE", "alice-phone")
		createDevice(t, s, bob, "PHONE", "bob-phone")

		for _, name := range []*string{ptr("new"), ptr(""), nil, ptr("zoë's 📱")} {
			if err := s.SetDeviceDisplayName(ctx, alice, "PHONE", name); err != nil {
				t.Fatalf("SetDeviceDisplayName(%s): %v", show(name), err)
			}
			d, ok := readDevice(t, s, alice, "PHONE")
			if !ok || !equalPtr(d.displayName, name) {
				t.Errorf("after SetDeviceDisplayName(%s), name is %s", show(name),
					show(d.displayName))
			}
		}

		// Renaming leaves the device's tokens and other users' devices alone.
		if !tokenWorks(t, s, "alice-phone") {
			t.Errorf("renaming broke the device's token")
		}
		if d, ok := readDevice(t, s, bob, "PHONE"); !ok || d.displayName != nil {
			t.Errorf("bob's device: %v, name %s; want it unnamed", ok, show(d.displayName))
		}

		err := s.SetDeviceDisplayName(ctx, alice, "LAPTOP", ptr("x"))
		wantErr(t, "SetDeviceDisplayName(missing device)", err, store.ErrNotFound)
		err = s.SetDeviceDisplayName(ctx, userID("carol"), "PHONE", ptr("x"))
		wantErr(t, "SetDeviceDisplayName(other user)", err, store.ErrNotFound)
	})
}

func TestDeleteOtherDevices(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		keep mxid.DeviceID
		// left lists alice's devices that remain, and so whose tokens still work.
		left []mxid.DeviceID
	}{
		{"keep one", "PHONE", []mxid.DeviceID{"PHONE"}},
		{"keep a missing one", "GONE", nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			storetest.Run(t, func(t *testing.T, s *sqlstore.Store) {
				ctx := t.Context()
				alice, bob := userID("alice"), userID("bob")
				createAccount(t, s, "alice")
				createAccount(t, s, "bob")
				all := []mxid.DeviceID{"PHONE", "LAPTOP", "TABLET"}
				for _, id := range all {
					createDevice(t, s, alice, id, "alice-"+string(id))
				}
				createDevice(t, s, bob, "LAPTOP", "bob-LAPTOP")

				if err := s.DeleteOtherDevices(ctx, alice, tt.keep); err != nil {
					t.Fatalf("DeleteOtherDevices: %v", err)
				}

				for _, id := range all {
					want := slices.Contains(tt.left, id)
					if _, ok := readDevice(t, s, alice, id); ok != want {
						t.Errorf("device %s exists: %v; want %v", id, ok, want)
					}
					if ok := tokenWorks(t, s, "alice-"+string(id)); ok != want {
						t.Errorf("token of device %s works: %v; want %v", id, ok, want)
					}
				}
				_, ok := readDevice(t, s, bob, "LAPTOP")
				if !ok || !tokenWorks(t, s, "bob-LAPTOP") {
					t.Errorf("bob's device or token is gone")
				}
			})
		})
	}
}
