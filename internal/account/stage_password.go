package account

import (
	"context"

	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TypePassword is the auth type of the password stage.
const TypePassword = "m.login.password"

// passwordAuth is the auth dict of m.login.password, in its current form (identifier)
// and the legacy flat form (user, or medium and address) that test suites still send.
type passwordAuth struct {
	Identifier *Identifier `json:"identifier"`
	User       string      `json:"user"`
	Medium     string      `json:"medium"`
	Address    string      `json:"address"`
	Password   *string     `json:"password"`
}

// PasswordStage returns m.login.password as a UIA stage. It proves the user who acts:
// on an endpoint called with an access token, that must be the token's owner; and a
// session, once it knows its user, accepts no other.
func (s *Service) PasswordStage() uia.Stage { return passwordStage{s} }

type passwordStage struct{ s *Service }

// Type implements uia.Stage.
func (passwordStage) Type() string { return TypePassword }

// Params implements uia.Stage.
func (passwordStage) Params() any { return nil }

// Prepare implements uia.Preparer: it checks the password outside the transaction.
func (p passwordStage) Prepare(ctx context.Context, a *uia.Attempt) error {
	var auth passwordAuth
	if err := decodeParams(a.Auth, &auth); err != nil {
		return err
	}
	if auth.Password == nil {
		return mxerr.ErrMissingParam.Msg("auth.password is required")
	}

	localpart, subject, err := p.s.identifiedLocalpart(ctx, auth.Identifier, auth.User,
		auth.Medium, auth.Address)
	if err != nil {
		return err
	}
	acct, _, err := p.s.checkPassword(ctx, localpart, subject, *auth.Password)
	if err != nil {
		return err
	}

	switch {
	case a.Requester != "" && acct.UserID != a.Requester:
		return mxerr.ErrForbidden.Msg("authenticate as the owner of the access token")
	case a.Session.UserID != "" && acct.UserID != a.Session.UserID:
		return mxerr.ErrForbidden.Msg("this UIA session belongs to another user")
	}
	a.Proven = acct.UserID
	return nil
}

// Complete implements uia.Stage: it binds the session to the proven user.
func (passwordStage) Complete(_ context.Context, a *uia.Attempt) error {
	a.Session.UserID = a.Proven
	return nil
}
