package threepid

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// stage is m.login.email.identity or m.login.msisdn
// (https://spec.matrix.org/v1.13/client-server-api/#email-based-identity--homeserver):
// the auth dict names a validation session with threepid_creds, and completing the
// stage spends it. The session must have been validated for the UIA session's
// operation, within its lifetime, and never used before. For a registration the
// address must still be free (the account gets it, see AddFromUIA); for any other
// operation it names the user who acts, as a password would.
type stage struct {
	s      *Service
	medium Medium
}

// Type implements uia.Stage.
func (st stage) Type() string { return st.medium.StageType() }

// Params implements uia.Stage.
func (stage) Params() any { return nil }

// Credentials name a validation session: threepid_creds in UIA, the body of
// /account/3pid/add, three_pid_creds of the deprecated /account/3pid.
type Credentials struct {
	SID          string `json:"sid"`
	ClientSecret string `json:"client_secret"`
	// IDServer and IDAccessToken name an identity server's session. This server
	// validates addresses itself, so they are ignored.
	IDServer      string `json:"id_server"`
	IDAccessToken string `json:"id_access_token"`
}

// Check returns M_MISSING_PARAM or M_INVALID_PARAM unless both fields are present and
// keep to the grammar.
func (c *Credentials) Check() error {
	if c.SID == "" || c.ClientSecret == "" {
		return mxerr.ErrMissingParam.Msg("sid and client_secret are required")
	}
	if err := checkSecret("sid", c.SID); err != nil {
		return err
	}
	return checkSecret("client_secret", c.ClientSecret)
}

// Complete implements uia.Stage.
func (st stage) Complete(ctx context.Context, a *uia.Attempt) error {
	creds, err := stageCredentials(a.Auth)
	if err != nil {
		return err
	}
	sess, err := st.s.validated(ctx, a.Store, creds, uia.Operation(a.Session.Operation),
		st.medium, mxerr.ErrThreepidAuthFailed)
	if err != nil {
		return err
	}

	owner, err := a.Store.ThreePID(ctx, sess.Medium, sess.Address)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if uia.Operation(a.Session.Operation) == uia.OpRegister {
		if owner != nil {
			return mxerr.ErrThreepidInUse.Msg("%s has been added to an account since it "+
				"was validated", sess.Address)
		}
	} else if err := actingUser(a, owner); err != nil {
		return err
	}

	err = a.Store.ConsumeValidationSession(ctx, sess.SID, a.Session.ID)
	if errors.Is(err, store.ErrConflict) {
		return mxerr.ErrThreepidAuthFailed.Msg("this validation session was already used")
	}
	return err
}

// actingUser makes the owner of the address the session's user, as long as that is
// the access token's owner and the user the session already knows, if any.
func actingUser(a *uia.Attempt, owner *store.ThreePID) error {
	var user mxid.UserID
	if owner != nil {
		user = owner.UserID
	}
	switch {
	case user == "":
		return mxerr.ErrThreepidNotFound.Msg("no account on this server has this address")
	case a.Requester != "" && user != a.Requester:
		return mxerr.ErrForbidden.Msg("this address belongs to another account than the " +
			"access token's")
	case a.Session.UserID != "" && user != a.Session.UserID:
		return mxerr.ErrForbidden.Msg("this UIA session belongs to another user")
	}
	a.Session.UserID = user
	return nil
}

// stageCredentials reads threepid_creds from an auth dict, or threepidCreds, as clients
// older than spec v1.1 call it.
func stageCredentials(auth map[string]json.RawMessage) (*Credentials, error) {
	raw, ok := auth["threepid_creds"]
	if !ok {
		raw, ok = auth["threepidCreds"]
	}
	if !ok {
		return nil, mxerr.ErrMissingParam.Msg("auth.threepid_creds is required")
	}
	var creds Credentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		return nil, mxerr.ErrBadJSON.Msg("auth.threepid_creds must be an object of strings")
	}
	if err := creds.Check(); err != nil {
		return nil, err
	}
	return &creds, nil
}

// validated returns the session that creds name if it is validated, unused, within its
// lifetime and for purpose (and, unless medium is "", of medium). Anything else is
// failure, with the errcode and status of the caller's choice.
func (s *Service) validated(
	ctx context.Context, st store.Store, creds *Credentials, purpose uia.Operation,
	medium Medium, failure *mxerr.Error,
) (*store.ValidationSession, error) {
	sess, err := st.ValidationSession(ctx, creds.SID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, failure.Msg("no validation session has this sid and client_secret")
	case err != nil:
		return nil, err
	case (medium != "" && sess.Medium != string(medium)) ||
		!sameDigest(token.Digest(creds.ClientSecret), sess.ClientSecretDigest):
		return nil, failure.Msg("no validation session has this sid and client_secret")
	case sess.Purpose != string(purpose):
		return nil, failure.Msg("this address was validated for another purpose; ask " +
			"for a token at the requestToken endpoint of this operation")
	case sess.ValidatedMS == 0:
		return nil, failure.Msg("this address has not been validated yet: follow the " +
			"link or submit the code that was sent to it")
	case sess.Consumed:
		return nil, failure.Msg("this validation session was already used")
	case sess.ExpiresMS <= s.now().UnixMilli():
		return nil, mxerr.ErrSessionExpired.Msg("this validation session has expired; " +
			"validate the address again")
	}
	return sess, nil
}
