package account

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"

	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// RegisterParams are the body fields of POST /register that the account depends on.
type RegisterParams struct {
	Username                 *string `json:"username"`
	DeviceID                 *string `json:"device_id"`
	InitialDeviceDisplayName *string `json:"initial_device_display_name"`
	InhibitLogin             bool    `json:"inhibit_login"`
	RefreshToken             bool    `json:"refresh_token"`
	// GuestAccessToken names the guest account to upgrade. Register keeps the hex
	// SHA-256 digest of the token here, never the token itself.
	GuestAccessToken *string `json:"guest_access_token"`
}

// Registered is the outcome of a registration; Login is nil with inhibit_login.
type Registered struct {
	UserID mxid.UserID
	Login  *device.Login
}

// Register runs POST /register for kind=user. The body's username is checked before
// authentication, so that a bad or taken name is refused at once; the UIA engine then
// decides, and the account is created in the transaction that consumes the session.
func (s *Service) Register(ctx context.Context, req *uia.Request) (*Registered, error) {
	if !s.cfg.RegistrationEnabled {
		return nil, mxerr.ErrForbidden.Msg("registration is disabled on this server")
	}
	var first RegisterParams
	if err := decodeParams(req.Body, &first); err != nil {
		return nil, err
	}
	if err := CheckDeviceFields(first.DeviceID, first.InitialDeviceDisplayName); err != nil {
		return nil, err
	}
	var username string
	if first.Username != nil {
		username = s.NormalizeUsername(*first.Username)
	}
	upgrading, err := s.checkGuestUpgrade(ctx, req.Body, first.Username != nil, username)
	if err != nil {
		return nil, err
	}
	if first.Username != nil && !upgrading {
		if err := s.CheckLocalpart(ctx, username); err != nil && !s.replay(ctx, req) {
			return nil, err
		}
	}
	if pw, ok, err := stringField(req.Body, "password"); err != nil {
		return nil, err
	} else if ok {
		if err := s.cfg.Policy.Check(pw, username, s.cfg.ServerName); err != nil {
			return nil, err
		}
	}

	req.Operation, req.Secret = uia.OpRegister, "password"
	s.hashSecrets(req)
	res, err := s.uia.Authenticate(ctx, req)
	if err != nil {
		return nil, err
	}

	var p RegisterParams
	if err := decodeParams(res.Params, &p); err != nil {
		return nil, err
	}
	if res.SecretHash == "" {
		return nil, mxerr.ErrMissingParam.Msg("password is required; send it with the " +
			"same UIA session")
	}
	return s.createUser(ctx, res, &p)
}

// replay reports whether req resends the request that finished its UIA session: its
// username is taken by then, by the account it made, and the engine's answer (401
// listing the completed stages) is the one the spec asks for, not M_USER_IN_USE.
func (s *Service) replay(ctx context.Context, req *uia.Request) bool {
	var auth struct {
		Session string `json:"session"`
	}
	if raw, ok := req.Body["auth"]; !ok || json.Unmarshal(raw, &auth) != nil ||
		auth.Session == "" {
		return false
	}
	sess, err := s.store.UIASession(ctx, auth.Session)
	return err == nil && sess.Consumed && sess.Operation == string(uia.OpRegister)
}

func (s *Service) createUser(
	ctx context.Context, res *uia.Result, p *RegisterParams,
) (*Registered, error) {
	var out *Registered
	var err error
	if p.GuestAccessToken != nil {
		out, err = s.upgradeGuest(ctx, res, p)
	} else {
		out, err = s.tryCreateUser(ctx, res, p)
	}
	guestGone := p.GuestAccessToken != nil && errors.Is(err, mxerr.ErrForbidden)
	if errors.Is(err, mxerr.ErrUserInUse) || guestGone {
		// The session names a username it can never have now: end it, and give back
		// the registration-token use it holds rather than keep it until it expires.
		if rerr := s.abandonSession(ctx, res); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
	}
	return out, err
}

// abandonSession consumes a session whose operation can never succeed and releases its
// registration-token reservation, in one transaction.
func (s *Service) abandonSession(ctx context.Context, res *uia.Result) error {
	return s.store.Transact(ctx, func(tx store.Store) error {
		if err := tx.ConsumeUIASession(ctx, res.Session.ID); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil // consumed meanwhile; whoever did it owns the reservation
			}
			return err
		}
		if tok := res.Session.RegistrationToken; tok != "" {
			return tx.ReleaseRegistrationToken(ctx, tok)
		}
		return nil
	})
}

func (s *Service) tryCreateUser(
	ctx context.Context, res *uia.Result, p *RegisterParams,
) (*Registered, error) {
	var localpart string
	if p.Username != nil {
		localpart = s.NormalizeUsername(*p.Username)
		// Checked again: the name may have been taken while the client authenticated.
		if err := s.CheckLocalpart(ctx, localpart); err != nil {
			return nil, err
		}
	}

	for attempt := 0; ; attempt++ {
		lp := localpart
		if lp == "" {
			lp = "user-" + randomString("abcdefghijklmnopqrstuvwxyz0123456789", 10)
		}
		out, err := s.insertUser(ctx, res, p, lp)
		if errors.Is(err, store.ErrConflict) && localpart == "" && attempt < 5 {
			continue // a generated name collided; draw another
		}
		return out, userInUse(err, lp)
	}
}

// insertUser makes the account of a registration whose UIA session is complete.
func (s *Service) insertUser(
	ctx context.Context, res *uia.Result, p *RegisterParams, localpart string,
) (*Registered, error) {
	userID := mxid.NewUserID(localpart, s.cfg.ServerName)
	return s.completeRegistration(ctx, res, p, userID, func(tx store.Store, admin bool) error {
		return tx.CreateAccount(ctx, &store.Account{UserID: userID, Localpart: localpart,
			PasswordHash: res.SecretHash, Kind: store.KindUser, Admin: admin,
			CreatedMS: s.now().UnixMilli()})
	})
}

// completeRegistration does in one transaction what every registration does once its
// UIA session is complete: it consumes the session, has makeAccount make or change
// userID's account (admin tells whether the session's registration token grants admin
// rights), records what the stages earned and logs the user in unless asked not to.
func (s *Service) completeRegistration(
	ctx context.Context, res *uia.Result, p *RegisterParams, userID mxid.UserID,
	makeAccount func(tx store.Store, admin bool) error,
) (*Registered, error) {
	out := &Registered{UserID: userID}
	err := s.store.Transact(ctx, func(tx store.Store) error {
		if err := s.uia.Consume(ctx, tx, res); err != nil {
			return err
		}

		admin, err := grantsAdmin(ctx, tx, res.Session)
		if err != nil {
			return err
		}
		if err := makeAccount(tx, admin); err != nil {
			return err
		}

		if err := s.recordStages(ctx, tx, res, userID); err != nil || p.InhibitLogin {
			return err
		}
		nl := device.NewLogin{UserID: userID, DisplayName: p.InitialDeviceDisplayName,
			Refresh: p.RefreshToken}
		if p.DeviceID != nil {
			nl.DeviceID = mxid.DeviceID(*p.DeviceID)
		}
		out.Login, err = s.devices.StartLogin(ctx, tx, nl)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errBootstrapSpent refuses a registration with the bootstrap token once another
// account exists.
var errBootstrapSpent = mxerr.ErrForbidden.Msg("this registration token registers the " +
	"first account only, and another account exists now")

// grantsAdmin reports whether the registration token the session used makes its user
// an admin: the bootstrap token does, as long as no account of a person exists.
func grantsAdmin(ctx context.Context, tx store.Store, sess *store.UIASession) (bool, error) {
	if sess.RegistrationToken == "" {
		return false, nil
	}
	t, err := tx.RegistrationToken(ctx, sess.RegistrationToken)
	if err != nil || !t.GrantsAdmin {
		return false, err
	}
	if spent, err := uia.BootstrapSpent(ctx, tx, t.Token); err != nil || spent {
		return false, cmp.Or(err, error(errBootstrapSpent))
	}
	return true, nil
}

// recordStages records what the session's stages earned for userID: the
// registration-token use, the validated addresses and the accepted terms.
func (s *Service) recordStages(
	ctx context.Context, tx store.Store, res *uia.Result, userID mxid.UserID,
) error {
	if tok := res.Session.RegistrationToken; tok != "" {
		err := tx.CompleteRegistrationToken(ctx, tok, userID, s.now().UnixMilli())
		if err != nil {
			return err
		}
	}
	if s.cfg.ThreePIDs != nil {
		err := s.cfg.ThreePIDs.AddFromUIA(ctx, tx, res.Session.ID, userID)
		if err != nil {
			return err
		}
	}
	if slices.Contains(res.Session.Completed, uia.TypeTerms) {
		for _, p := range s.cfg.Terms {
			err := tx.RecordTermsAcceptance(ctx, userID, p.ID, p.Version,
				s.now().UnixMilli())
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeParams reads body fields into p; a field of the wrong JSON type is M_BAD_JSON.
func decodeParams(body map[string]json.RawMessage, p any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("re-encode request body: %w", err)
	}
	if err := json.Unmarshal(raw, p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return mxerr.ErrBadJSON.Msg("%s must be %s", te.Field, jsonKind(te.Type))
		}
		return mxerr.ErrBadJSON.Msg("malformed request body: %v", err)
	}
	return nil
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a number"
}

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// stringField returns body[key] when it is a string; another type is M_BAD_JSON.
func stringField(body map[string]json.RawMessage, key string) (string, bool, error) {
	raw, ok := body[key]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, mxerr.ErrBadJSON.Msg("%s must be a string", key)
	}
	return v, true, nil
}

// NewUser is an account an operator creates directly, without registration.
type NewUser struct {
	Username string
	Password string
	Admin    bool
	// Login also starts a session and returns its access token.
	Login bool
}

// CreateUser creates an account for an operator (mxaccounts user create): no UIA, no
// registration token, and the username rules of CheckOperatorLocalpart.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*Registered, error) {
	localpart := s.NormalizeUsername(nu.Username)
	if err := s.CheckOperatorLocalpart(ctx, localpart); err != nil {
		return nil, err
	}
	if nu.Password == "" {
		return nil, mxerr.ErrMissingParam.Msg("a password is required")
	}
	if err := s.cfg.Policy.Check(nu.Password, localpart, s.cfg.ServerName); err != nil {
		return nil, err
	}

	userID := mxid.NewUserID(localpart, s.cfg.ServerName)
	out := &Registered{UserID: userID}
	err := s.store.Transact(ctx, func(tx store.Store) error {
		err := tx.CreateAccount(ctx, &store.Account{UserID: userID, Localpart: localpart,
			PasswordHash: s.hasher.Hash(nu.Password), Kind: store.KindUser, Admin: nu.Admin,
			CreatedMS: s.now().UnixMilli()})
		if err != nil || !nu.Login {
			return err
		}
		out.Login, err = s.devices.StartLogin(ctx, tx, device.NewLogin{UserID: userID})
		return err
	})
	if err != nil {
		return nil, userInUse(err, localpart)
	}
	return out, nil
}
