package account

import (
	"cmp"
	"context"

	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
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

	// The user who must act is known when the request has a token or the session a
	// user: another identifier fails like a wrong password, before any password is
	// checked, so that the stage tests no other account's password.
	user := cmp.Or(a.Requester, a.Session.UserID)
	if user != "" && mxid.NewUserID(localpart, p.s.cfg.ServerName) != user {
		return errBadCredentials
	}

	acct, _, err := p.s.checkPassword(ctx, localpart, subject, *auth.Password)
	if err != nil {
		return err
	}
	a.Proven = acct.UserID
	return nil
}

// Complete implements uia.Stage: it binds the session to the proven user.
func (passwordStage) Complete(_ context.Context, a *uia.Attempt) error {
	a.Session.UserID = a.Proven
	return nil
}
