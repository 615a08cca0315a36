package uia

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"regexp"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// The auth types of the stages in this file.
const (
	TypeDummy             = "m.login.dummy"
	TypeRegistrationToken = "m.login.registration_token"
)

// Dummy is m.login.dummy, which always succeeds. It lets a server offer a flow that
// needs nothing, and tells apart flows that would otherwise be prefixes of each other.
type Dummy struct{}

// Type implements Stage.
func (Dummy) Type() string { return TypeDummy }

// Params implements Stage.
func (Dummy) Params() any { return nil }

// Complete implements Stage.
func (Dummy) Complete(context.Context, *Attempt) error { return nil }

// registrationTokenGrammar is the opaque-identifier grammar, at most 64 characters.
var registrationTokenGrammar = regexp.MustCompile(`^[0-9A-Za-z._~-]{1,64}$`)

// RegistrationToken is m.login.registration_token (spec v1.2): completing it reserves
// one use of the token for the session, which the registration then spends or the
// session's expiry gives back.
type RegistrationToken struct{}

// Type implements Stage.
func (RegistrationToken) Type() string { return TypeRegistrationToken }

// Params implements Stage.
func (RegistrationToken) Params() any { return nil }

// Complete implements Stage.
func (RegistrationToken) Complete(ctx context.Context, a *Attempt) error {
	raw, ok := a.Auth["token"]
	if !ok {
		return mxerr.ErrMissingParam.Msg("auth.token is missing")
	}
	var tok string
	if err := json.Unmarshal(raw, &tok); err != nil {
		return mxerr.ErrInvalidParam.Msg("auth.token must be a string")
	}
	if !registrationTokenGrammar.MatchString(tok) {
		return mxerr.ErrInvalidParam.Msg("auth.token must be 1 to 64 characters of " +
			"A-Z, a-z, 0-9 and ._~-")
	}

	errExhausted := mxerr.New(401, mxerr.CodeForbidden,
		"this registration token is unknown, expired or used up")
	err := a.Store.ReserveRegistrationToken(ctx, tok, a.Now.UnixMilli())
	if errors.Is(err, store.ErrExhausted) {
		return errExhausted
	}
	if err != nil {
		return err
	}

	// The bootstrap token, which makes an admin, is for the first account only.
	if spent, err := BootstrapSpent(ctx, a.Store, tok); err != nil || spent {
		return cmp.Or(err, error(errExhausted))
	}
	a.Session.RegistrationToken = tok
	return nil
}

// BootstrapSpent reports whether tok grants admin rights (the bootstrap token printed
// at the first start) while accounts of people exist already: such a token registers
// the first user only, so it is spent once anyone registered, by whatever means.
func BootstrapSpent(ctx context.Context, st store.Store, tok string) (bool, error) {
	t, err := st.RegistrationToken(ctx, tok)
	if err != nil || !t.GrantsAdmin {
		return false, err
	}
	n, err := st.CountPeople(ctx)
	return n > 0, err
}
