package account

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/mxaccounts/mxaccounts/internal/device"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// RegisterGuest runs POST /register?kind=guest: no authentication, and every field but
// the device display name ignored, as the spec requires.
func (s *Service) RegisterGuest(ctx context.Context, displayName *string) (*Registered, error) {
	if !s.cfg.GuestsEnabled {
		return nil, mxerr.ErrForbidden.Msg("guest access is disabled on this server")
	}

	for attempt := 0; ; attempt++ {
		localpart := randomString("0123456789", 12)
		userID := mxid.NewUserID(localpart, s.cfg.ServerName)
		out := &Registered{UserID: userID}

		err := s.store.Transact(ctx, func(tx store.Store) error {
			err := tx.CreateAccount(ctx, &store.Account{UserID: userID, Localpart: localpart,
				Kind: store.KindGuest, CreatedMS: s.now().UnixMilli()})
			if err != nil {
				return err
			}
			out.Login, err = s.devices.StartLogin(ctx, tx,
				device.NewLogin{UserID: userID, DisplayName: displayName})
			return err
		})
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// errNotThisGuest refuses an upgrade whose guest_access_token does not belong to a live
// guest account named by the username; it says no more, so that it reveals nothing
// about other accounts.
var errNotThisGuest = mxerr.ErrForbidden.Msg("guest_access_token is not the access " +
	"token of the guest account named by username")

// checkGuestUpgrade reads the body's guest_access_token, which turns a registration into
// the upgrade of that guest's account (spec: Guest Access module): the guest keeps its
// user ID and gets a password. The token must be a guest's and username (normalised;
// hasUsername false when the body has none) that guest's localpart. It then replaces
// the token in body by its digest, so that the UIA session never stores the token, and
// reports true; with no token in body it reports false.
func (s *Service) checkGuestUpgrade(
	ctx context.Context, body map[string]json.RawMessage, hasUsername bool, username string,
) (bool, error) {
	tok, ok, err := stringField(body, "guest_access_token")
	if err != nil || !ok {
		return false, err
	}
	if !hasUsername {
		return false, mxerr.ErrMissingParam.Msg("username is required with " +
			"guest_access_token: send the guest's own localpart")
	}

	rq, err := s.devices.Authenticate(ctx, tok)
	var me *mxerr.Error
	if errors.As(err, &me) {
		return false, errNotThisGuest
	}
	if err != nil {
		return false, err
	}
	if rq.Kind != store.KindGuest || rq.Localpart != username {
		return false, errNotThisGuest
	}
	if rq.Locked {
		return false, mxerr.ErrUserLocked // as the guest's token gets everywhere else
	}

	digest, err := json.Marshal(hex.EncodeToString(token.Digest(tok)))
	if err != nil {
		return false, err
	}
	body["guest_access_token"] = digest
	return true, nil
}

// upgradeGuest finishes a registration that upgrades a guest account: in the
// registration's transaction it checks again that the token still belongs to that
// guest, and gives the account the session's password.
func (s *Service) upgradeGuest(
	ctx context.Context, res *uia.Result, p *RegisterParams,
) (*Registered, error) {
	digest, err := hex.DecodeString(*p.GuestAccessToken)
	if err != nil || p.Username == nil {
		return nil, errNotThisGuest
	}
	userID := mxid.NewUserID(s.NormalizeUsername(*p.Username), s.cfg.ServerName)

	return s.completeRegistration(ctx, res, p, userID, func(tx store.Store, admin bool) error {
		rq, err := tx.RequesterByToken(ctx, digest)
		if errors.Is(err, store.ErrNotFound) {
			return errNotThisGuest
		}
		if err != nil {
			return err
		}
		expired := rq.ExpiresMS != 0 && rq.ExpiresMS <= s.now().UnixMilli()
		if rq.UserID != userID || expired {
			return errNotThisGuest
		}
		if rq.Locked {
			return mxerr.ErrUserLocked
		}

		err = tx.UpgradeGuest(ctx, userID, res.SecretHash)
		if errors.Is(err, store.ErrNotFound) {
			return errNotThisGuest
		}
		if err != nil || !admin {
			return err
		}
		return tx.UpdateAccount(ctx, userID, store.AccountUpdate{Admin: &admin})
	})
}
