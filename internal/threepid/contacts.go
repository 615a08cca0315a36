package threepid

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// errAuthFailedForbidden is how the deprecated POST /account/3pid refuses credentials,
// with the status its specification gives.
var errAuthFailedForbidden = mxerr.New(http.StatusForbidden, mxerr.CodeThreepidAuthFailed,
	"the address could not be verified")

// UnbindNoSupport is the id_server_unbind_result when no identity server could be asked
// to unbind an address.
const UnbindNoSupport = "no-support"

// List returns the 3PIDs added to user's account, oldest first; an empty list when
// there are none.
func (s *Service) List(ctx context.Context, user mxid.UserID) ([]store.ThreePID, error) {
	return s.store.ThreePIDsOf(ctx, user)
}

// Add runs POST /account/3pid/add for the requester: UIA first, then the session that
// creds name, validated for uia.OpAddThreepid, is spent and its address added, in the
// transaction that consumes the UIA session. A session that is not validated, was
// used or is another operation's is 400 M_THREEPID_AUTH_FAILED; an address another
// account took meanwhile is 400 M_THREEPID_IN_USE. The account's other addresses are
// told. It returns the address added.
func (s *Service) Add(
	ctx context.Context, req *uia.Request, rq *store.Requester, creds *Credentials,
) (*store.ThreePID, error) {
	if err := creds.Check(); err != nil {
		return nil, err
	}
	req.Operation, req.Requester = uia.OpAddThreepid, rq.UserID
	res, err := s.uia.Authenticate(ctx, req)
	if err != nil {
		return nil, err
	}

	var added *store.ThreePID
	err = s.store.Transact(ctx, func(tx store.Store) error {
		var err error
		added, err = s.addValidated(ctx, tx, rq.UserID, creds, mxerr.ErrThreepidAuthFailed)
		if err != nil {
			return err
		}
		return s.uia.Consume(ctx, tx, res)
	})
	if err != nil {
		return nil, err
	}
	s.Notify(ctx, rq.UserID, KindThreePIDAdded, added)
	return added, nil
}

// AddWithoutUIA runs the deprecated POST /account/3pid: like Add, without UIA, and with
// 403 M_THREEPID_AUTH_FAILED for credentials that name no usable session. It binds
// nothing on an identity server, as the spec now requires. It returns the address
// added.
func (s *Service) AddWithoutUIA(
	ctx context.Context, user mxid.UserID, creds *Credentials,
) (*store.ThreePID, error) {
	if err := creds.Check(); err != nil {
		return nil, err
	}
	var added *store.ThreePID
	err := s.store.Transact(ctx, func(tx store.Store) error {
		var err error
		added, err = s.addValidated(ctx, tx, user, creds, errAuthFailedForbidden)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Notify(ctx, user, KindThreePIDAdded, added)
	return added, nil
}

// addValidated spends the session creds name and adds its address to user; failure is
// the error for a session that cannot be used.
func (s *Service) addValidated(
	ctx context.Context, tx store.Store, user mxid.UserID, creds *Credentials,
	failure *mxerr.Error,
) (*store.ThreePID, error) {
	sess, err := s.validated(ctx, tx, creds, uia.OpAddThreepid, "", failure)
	if err != nil {
		return nil, err
	}
	if err := tx.ConsumeValidationSession(ctx, sess.SID, ""); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, failure.Msg("this validation session was already used")
		}
		return nil, err
	}

	t := &store.ThreePID{UserID: user, Medium: sess.Medium, Address: sess.Address,
		ValidatedMS: sess.ValidatedMS, AddedMS: s.now().UnixMilli()}
	if err := tx.AddThreePID(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, mxerr.ErrThreepidInUse.Msg("%s was added to an account since it "+
				"was validated", sess.Address)
		}
		return nil, err
	}
	return t, nil
}

// AddFromUIA adds to user the addresses whose sessions the stages of the UIA session
// uiaSessionID spent, inside the registration's transaction tx. An address another
// account took meanwhile is 400 M_THREEPID_IN_USE, which rolls the registration back.
func (s *Service) AddFromUIA(
	ctx context.Context, tx store.Store, uiaSessionID string, user mxid.UserID,
) error {
	used, err := tx.ValidationSessionsUsedBy(ctx, uiaSessionID)
	if err != nil {
		return err
	}
	for _, v := range used {
		err := tx.AddThreePID(ctx, &store.ThreePID{UserID: user, Medium: v.Medium,
			Address: v.Address, ValidatedMS: v.ValidatedMS, AddedMS: s.now().UnixMilli()})
		if errors.Is(err, store.ErrConflict) {
			return mxerr.ErrThreepidInUse.Msg("%s was added to another account meanwhile",
				v.Address)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkMediumAddress returns the errors of /account/3pid/delete and /unbind for a
// medium outside the spec's or an empty address.
func checkMediumAddress(medium Medium, address string) error {
	if medium != MediumEmail && medium != MediumMSISDN {
		return mxerr.ErrInvalidParam.Msg("medium must be email or msisdn, not %q", medium)
	}
	if address == "" {
		return mxerr.ErrMissingParam.Msg("address is required")
	}
	return nil
}

// Delete runs POST /account/3pid/delete: it removes the address from user's account,
// if the account holds it (another account's address stays where it is), and tells
// the account's addresses and the removed one; then it unbinds user's bindings of the
// address, as Unbind does. It returns the id_server_unbind_result.
func (s *Service) Delete(
	ctx context.Context, user mxid.UserID, medium Medium, address, idServer string,
) (string, error) {
	if err := checkMediumAddress(medium, address); err != nil {
		return "", err
	}
	canonical, ok := Canonical(medium, address)
	if !ok {
		// No account can hold it, but an identity server may have bound it as written.
		return s.unbind(ctx, user, medium, address, idServer)
	}

	// Another account's address is left alone; a missing one was never added or was
	// removed by a concurrent request.
	t, err := s.store.ThreePID(ctx, string(medium), canonical)
	if err == nil && t.UserID == user {
		err = s.store.DeleteThreePID(ctx, user, string(medium), canonical)
		if err == nil {
			s.Notify(ctx, user, KindThreePIDRemoved, t)
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return s.unbind(ctx, user, medium, canonical, idServer)
}

// Unbind runs POST /account/3pid/unbind: the address stays on the account, and user's
// bindings of it go, from idServer when the client named one, else from every
// identity server where this server recorded one. It returns the
// id_server_unbind_result: success when all went, no-support when an identity server
// did not unbind or none is known for the address.
func (s *Service) Unbind(
	ctx context.Context, user mxid.UserID, medium Medium, address, idServer string,
) (string, error) {
	if err := checkMediumAddress(medium, address); err != nil {
		return "", err
	}
	if canonical, ok := Canonical(medium, address); ok {
		address = canonical
	}
	return s.unbind(ctx, user, medium, address, idServer)
}

// Owner returns the user whose account holds the address, or "" when none does.
func (s *Service) Owner(ctx context.Context, medium Medium, address string) (mxid.UserID, error) {
	canonical, ok := Canonical(medium, address)
	if !ok {
		return "", nil
	}
	t, err := s.store.ThreePID(ctx, string(medium), canonical)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return t.UserID, nil
}

// Notify sends a notice of kind about user's account to its addresses: for an added
// address to the others, for a removed one to the rest and to it. The language is that
// of the context's Accept-Language (WithAcceptLanguage). Failures are logged: a notice
// never fails the operation it reports.
func (s *Service) Notify(
	ctx context.Context, user mxid.UserID, kind Kind, about *store.ThreePID,
) {
	to, err := s.store.ThreePIDsOf(ctx, user)
	if err != nil {
		s.log.WarnContext(ctx, "could not list addresses to notify", "user_id", user,
			"kind", kind, "error", err)
		return
	}
	switch {
	case kind == KindThreePIDRemoved && about != nil:
		to = append(to, *about)
	case kind == KindThreePIDAdded && about != nil:
		to = slices.DeleteFunc(to, func(t store.ThreePID) bool {
			return t.Medium == about.Medium && t.Address == about.Address
		})
	}

	for _, t := range to {
		m, ok := s.cfg.Media[Medium(t.Medium)]
		if !ok {
			continue
		}
		msg := &Message{Kind: kind, To: t.Address, UserID: user, ThreePID: about,
			AcceptLanguage: AcceptLanguage(ctx)}
		if err := m.Sender.Send(ctx, msg); err != nil {
			s.log.WarnContext(ctx, "could not send a notice", "user_id", user,
				"kind", kind, "error", err)
		}
	}
}
