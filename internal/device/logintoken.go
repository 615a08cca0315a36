package device

import (
	"context"
	"errors"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// ErrBadLoginToken is the one answer to a login token that is ill-formed, unknown, used
// or expired (spec: 403 M_FORBIDDEN).
var ErrBadLoginToken = mxerr.ErrForbidden.Msg("invalid or expired login token")

// LoginToken is a fresh login token (m.login.token, spec v1.7).
type LoginToken struct {
	Token       string
	ExpiresInMS int64
}

// IssueLoginToken creates a single-use login token for user in tx, and drops the login
// tokens of every user that have expired.
func (s *Service) IssueLoginToken(
	ctx context.Context, tx store.Store, user mxid.UserID,
) (*LoginToken, error) {
	now := s.now()
	if _, err := tx.DeleteExpiredLoginTokens(ctx, now.UnixMilli()); err != nil {
		return nil, err
	}

	out := &LoginToken{Token: token.New(token.Login),
		ExpiresInMS: s.cfg.LoginTokenLifetime.Milliseconds()}
	err := tx.CreateLoginToken(ctx, &store.LoginToken{Digest: token.Digest(out.Token),
		UserID: user, CreatedMS: now.UnixMilli(),
		ExpiresMS: now.Add(s.cfg.LoginTokenLifetime).UnixMilli()})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RedeemLoginToken uses up a login token in tx and returns the user it logs in. A
// token that is ill-formed, unknown, used or expired is ErrBadLoginToken.
func (s *Service) RedeemLoginToken(
	ctx context.Context, tx store.Store, loginToken string,
) (mxid.UserID, error) {
	if !token.WellFormed(token.Login, loginToken) {
		return "", ErrBadLoginToken
	}

	t, err := tx.ConsumeLoginToken(ctx, token.Digest(loginToken))
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrBadLoginToken
	}
	if err != nil {
		return "", fmt.Errorf("redeem login token: %w", err)
	}
	if t.ExpiresMS <= s.now().UnixMilli() {
		return "", ErrBadLoginToken
	}
	return t.UserID, nil
}
