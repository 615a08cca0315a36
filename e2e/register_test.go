package e2e

import (
	"net/http"
	"slices"
	"strings"
	"sync"
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
		open      bool
	}{
		{
			name:      "open registration",
			opts:      []testserver.Option{testserver.WithOpenRegistration()},
			wantFlows: [][]mautrix.AuthType{{mautrix.AuthTypeDummy}},
			open:      true,
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
				open := tt.open

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

				req := &mautrix.ReqRegister[any]{Username: "ivan",
					Password: "dummy pass for the open flow"}
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
				login(t, srv, "ivan", "dummy pass for the open flow")

				// Complement sends the dummy stage at once, with no session.
				resp, _, err = cli.Register(t.Context(), &mautrix.ReqRegister[any]{
					Username: "judy", Password: "no session needed for dummy",
					Auth: mautrix.BaseAuthData{Type: mautrix.AuthTypeDummy},
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

// TestRegistrationTokenStage checks the token stage's failure path: a wrong token
// fails the stage with 401 M_FORBIDDEN and the session survives, so the right token
// completes it. The validity endpoint tells the two tokens apart beforehand.
func TestRegistrationTokenStage(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t)
		cli := newClient(t, srv)
		good := srv.RegistrationToken(t)

		for token, want := range map[string]bool{good: true, "unknown-token": false} {
			u := cli.BuildURLWithQuery(
				mautrix.ClientURLPath{"v1", "register", authTypeRegistrationToken, "validity"},
				map[string]string{"token": token})
			var out struct {
				Valid *bool `json:"valid"`
			}
			if _, err := cli.MakeRequest(t.Context(), http.MethodGet, u, nil, &out); err != nil {
				t.Fatalf("token validity of %q: %v", token, err)
			}
			if out.Valid == nil || *out.Valid != want {
				t.Errorf("token validity of %q = %v, want %v", token, out.Valid, want)
			}
		}

		req := &mautrix.ReqRegister[any]{Username: "kim", Password: "second try with a lantern"}
		_, uia, err := cli.Register(t.Context(), req)
		if err != nil || uia == nil {
			t.Fatalf("Register without auth = (%v, %v), want a UIA challenge", uia, err)
		}
		stage := func(token string) registrationTokenAuth {
			return registrationTokenAuth{Token: token, BaseAuthData: mautrix.BaseAuthData{
				Type: authTypeRegistrationToken, Session: uia.Session}}
		}

		// A failed stage is a 401 with the errcode; mautrix reports it as a RespError.
		req.Auth = stage("unknown-token")
		_, _, err = cli.Register(t.Context(), req)
		httpErr := checkMatrixError(t, err, http.StatusUnauthorized, mautrix.MForbidden)
		if s, _ := httpErr.RespError.ExtraData["session"].(string); s != uia.Session {
			t.Errorf("the failed stage's answer has session %q, want %q", s, uia.Session)
		}
		if _, ok := httpErr.RespError.ExtraData["flows"]; !ok {
			t.Errorf("the failed stage's answer has no flows: %v", httpErr.RespError.ExtraData)
		}

		req.Auth = stage(good)
		resp, _, err := cli.Register(t.Context(), req)
		if err != nil || resp == nil {
			t.Fatalf("Register with the right token after a wrong one = (%v, %v)", resp, err)
		}
		if want := id.NewUserID("kim", serverName); resp.UserID != want {
			t.Errorf("Register gave user %s, want %s", resp.UserID, want)
		}
	})
}

// TestRegisterRace completes several UIA sessions for one username at once: exactly
// one gets the account, every other gets 400 M_USER_IN_USE, on either database.
func TestRegisterRace(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t)
		token := srv.RegistrationToken(t)
		const racers = 8

		// Open every session first, so that all of them pass the check before UIA.
		reqs := make([]*mautrix.ReqRegister[any], racers)
		for i := range reqs {
			reqs[i] = &mautrix.ReqRegister[any]{Username: "race",
				Password: "fast racing otter lantern"}
			_, uia, err := newClient(t, srv).Register(t.Context(), reqs[i])
			if err != nil || uia == nil {
				t.Fatalf("session %d: Register without auth = (%v, %v)", i, uia, err)
			}
			reqs[i].Auth = registrationTokenAuth{Token: token,
				BaseAuthData: mautrix.BaseAuthData{Type: authTypeRegistrationToken,
					Session: uia.Session}}
		}

		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i, req := range reqs {
			wg.Go(func() { _, _, errs[i] = newClient(t, srv).Register(t.Context(), req) })
		}
		wg.Wait()

		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			checkMatrixError(t, err, http.StatusBadRequest, mautrix.MUserInUse)
		}
		if won != 1 {
			t.Errorf("%d of %d racers registered the name, want exactly 1: %v", won,
				racers, errs)
		}
	})
}

// TestRegisterWrongMethod checks that a known path with a wrong method, GET /register,
// is 405 M_UNRECOGNIZED with the Allow header that RFC 9110 requires on a 405.
func TestRegisterWrongMethod(t *testing.T) {
	t.Parallel()

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		cli := newClient(t, start(t))

		_, err := cli.MakeRequest(t.Context(), http.MethodGet,
			cli.BuildClientURL("v3", "register"), nil, nil)
		httpErr := checkMatrixError(t, err, http.StatusMethodNotAllowed,
			mautrix.MUnrecognized)

		allow := httpErr.Response.Header.Values("Allow")
		if !slices.ContainsFunc(allow, func(v string) bool {
			return strings.Contains(v, http.MethodPost)
		}) {
			t.Errorf("405 for GET /register has Allow %q, want one naming POST", allow)
		}
	})
}
