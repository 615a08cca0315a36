package e2e

import (
	"net/http"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// TestRegisterDummy registers through m.login.dummy with mautrix's RegisterDummy, which
// only an open server offers; a closed one offers the registration token alone.
func TestRegisterDummy(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		opts      []testserver.Option
		wantFlows [][]mautrix.AuthType
	}{
		{
			name: "open registration",
			opts: []testserver.Option{testserver.WithOpenRegistration()},
			wantFlows: [][]mautrix.AuthType{{mautrix.AuthTypeDummy},
				{authTypeRegistrationToken}},
		},
		{
			name:      "registration by token only",
			wantFlows: [][]mautrix.AuthType{{authTypeRegistrationToken}},
		},
	}
	onEachDatabase(t, func(t *testing.T, start startFunc) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				srv := start(t, tt.opts...)
				cli := newClient(t, srv)
				open := len(tt.wantFlows) > 1

				_, uia, err := cli.Register(t.Context(), &mautrix.ReqRegister[any]{})
				if err != nil || uia == nil {
					t.Fatalf("Register({}) = (%v, %v), want a UIA challenge", uia, err)
				}
				if len(uia.Flows) != len(tt.wantFlows) {
					t.Errorf("flows = %+v, want %v", uia.Flows, tt.wantFlows)
				}
				for _, f := range tt.wantFlows {
					if !hasFlow(uia, f...) {
						t.Errorf("flows = %+v, want %v among them", uia.Flows, f)
					}
				}

				req := &mautrix.ReqRegister[any]{Username: "ivan", Password: "dummy pass"}
				resp, err := cli.RegisterDummy(t.Context(), req)
				if !open {
					if err == nil {
						t.Fatalf("RegisterDummy on a closed server = %+v, want an error", resp)
					}
					if _, err := cli.RegisterAvailable(t.Context(), "ivan"); err != nil {
						t.Errorf("the refused name is no longer available: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("RegisterDummy: %v", err)
				}
				if want := id.NewUserID("ivan", serverName); resp.UserID != want {
					t.Errorf("RegisterDummy gave user %s, want %s", resp.UserID, want)
				}
				me, err := clientAs(t, srv, resp.UserID, resp.AccessToken).Whoami(t.Context())
				if err != nil {
					t.Fatalf("Whoami: %v", err)
				}
				if me.UserID != resp.UserID || me.DeviceID != resp.DeviceID {
					t.Errorf("Whoami = %+v, want %s on device %s", me, resp.UserID,
						resp.DeviceID)
				}
				login(t, srv, "ivan", "dummy pass")

				// Complement sends the dummy stage at once, with no session.
				resp, _, err = cli.Register(t.Context(), &mautrix.ReqRegister[any]{
					Username: "judy", Password: "no session",
					Auth:     mautrix.BaseAuthData{Type: mautrix.AuthTypeDummy},
				})
				if err != nil || resp == nil {
					t.Fatalf("Register with a session-less dummy stage = (%v, %v), "+
						"want success", resp, err)
				}
				if want := id.NewUserID("judy", serverName); resp.UserID != want {
					t.Errorf("Register gave user %s, want %s", resp.UserID, want)
				}
			})
		}
	})
}

// TestGuests registers guests (kind=guest): without UIA and with is_guest in whoami
// when the server allows them, 403 M_FORBIDDEN when it does not. Guests may not log
// out.
func TestGuests(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts []testserver.Option
		// allowed says whether guests get an account.
		allowed bool
	}{
		{name: "guests on", opts: []testserver.Option{testserver.WithGuests()}, allowed: true},
		{name: "guests off", allowed: false},
	}
	onEachDatabase(t, func(t *testing.T, start startFunc) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				srv := start(t, tt.opts...)

				// The body's username and password must be ignored for guests.
				resp, uia, err := newClient(t, srv).RegisterGuest(t.Context(),
					&mautrix.ReqRegister[any]{Username: "guestname", Password: "unused",
						InitialDeviceDisplayName: "guest browser"})
				if !tt.allowed {
					checkMatrixError(t, err, http.StatusForbidden, mautrix.MForbidden)
					return
				}
				if err != nil || resp == nil {
					t.Fatalf("RegisterGuest = (%v, %+v, %v), want an account", resp, uia, err)
				}
				if resp.UserID == id.NewUserID("guestname", serverName) {
					t.Errorf("the guest got the username it asked for: %s", resp.UserID)
				}

				guest := clientAs(t, srv, resp.UserID, resp.AccessToken)
				me, err := whoami(t, guest)
				if err != nil {
					t.Fatalf("guest whoami: %v", err)
				}
				want := whoamiResponse{UserID: resp.UserID, DeviceID: resp.DeviceID,
					IsGuest: true}
				if *me != want {
					t.Errorf("guest whoami = %+v, want %+v", *me, want)
				}

				_, err = guest.Logout(t.Context())
				checkMatrixError(t, err, http.StatusForbidden, mGuestAccessForbidden)
				_, err = guest.LogoutAll(t.Context())
				checkMatrixError(t, err, http.StatusForbidden, mGuestAccessForbidden)
				if _, err := whoami(t, guest); err != nil {
					t.Errorf("guest whoami after the refused logouts: %v", err)
				}
			})
		}
	})
}

// TestUsernames checks username errors, which /register must give before UIA, and
// the mapping of upper case to lower case.
func TestUsernames(t *testing.T) {
	t.Parallel()

	// The whole user ID "@" + localpart + ":localhost" may be 255 bytes.
	longest := 255 - len("@:"+serverName)
	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t)
		cli := newClient(t, srv)
		_, heidi := registerWithToken(t, srv, "heidi", "taken name")
		_, upper := registerWithToken(t, srv, "User-UPPER", "mapped down")

		if want := id.NewUserID("user-upper", serverName); upper.UserID != want {
			t.Errorf("registering User-UPPER gave %s, want %s", upper.UserID, want)
		}
		login(t, srv, "user-upper", "mapped down")

		tests := []struct {
			name     string
			username string
			want     *mautrix.RespError // nil: available
		}{
			{"taken", "heidi", &mautrix.MUserInUse},
			{"taken, other case", "HEIDI", &mautrix.MUserInUse},
			{"taken, full user ID", heidi.UserID.String(), &mautrix.MUserInUse},
			{"taken after mapping to lower case", "user-upper", &mautrix.MUserInUse},
			{"colon", "bad:name", &mautrix.MInvalidUsername},
			{"non-ASCII letter", "é", &mautrix.MInvalidUsername},
			{"pound sign", "price£", &mautrix.MInvalidUsername},
			{"space", "two words", &mautrix.MInvalidUsername},
			{"300 characters", strings.Repeat("a", 300), &mautrix.MInvalidUsername},
			{"one byte too long", strings.Repeat("b", longest+1), &mautrix.MInvalidUsername},
			{"longest allowed", strings.Repeat("b", longest), nil},
			{"upper case, free", "Free-NAME", nil},
			{"grammar characters", "q3._=-/+", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := cli.RegisterAvailable(t.Context(), tt.username)
				if tt.want == nil {
					if err != nil {
						t.Errorf("RegisterAvailable(%q) = %v, want available", tt.username,
							err)
					}
					return
				}
				checkMatrixError(t, err, http.StatusBadRequest, *tt.want)

				// No auth: the name must be refused before any UIA challenge.
				resp, uia, err := cli.Register(t.Context(), &mautrix.ReqRegister[any]{
					Username: tt.username, Password: "whatever"})
				if resp != nil || uia != nil {
					t.Fatalf("Register(%q) = (%+v, %+v), want 400 %s before UIA",
						tt.username, resp, uia, tt.want.ErrCode)
				}
				checkMatrixError(t, err, http.StatusBadRequest, *tt.want)
			})
		}
	})
}
