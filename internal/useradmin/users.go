package useradmin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// User is an account as an operator sees it.
type User struct {
	store.AccountDetails
	// ThreePIDs are the email addresses and phone numbers added to the account.
	ThreePIDs []store.ThreePID
}

// List returns the page of accounts f selects and how many match in all.
func (s *Service) List(ctx context.Context, f store.AccountFilter) (
	[]store.AccountDetails, int64, error,
) {
	return s.store.ListAccounts(ctx, f)
}

// User returns user's account, or M_NOT_FOUND.
func (s *Service) User(ctx context.Context, user mxid.UserID) (*User, error) {
	a, err := s.details(ctx, s.store, user)
	if err != nil {
		return nil, err
	}
	pids, err := s.store.ThreePIDsOf(ctx, user)
	if err != nil {
		return nil, err
	}
	return &User{AccountDetails: *a, ThreePIDs: pids}, nil
}

// ThreePIDInput is an address an operator gives an account.
type ThreePIDInput struct {
	Medium  string
	Address string
}

// Change describes what PUT /_synapse/admin/v2/users/{userId} asks for; a nil field is
// left as it is (or, for a new account, at its default).
type Change struct {
	// Password sets the password; with LogoutDevices the account's sessions end too.
	Password      *string
	LogoutDevices bool
	Admin         *bool
	// Deactivated deactivates (true) or reactivates (false) an existing account.
	Deactivated *bool
	Locked      *bool
	// UserType sets the user type; a pointer to "" clears it.
	UserType *string
	// ThreePIDs, when not nil, replaces the account's 3PIDs.
	ThreePIDs *[]ThreePIDInput
}

// Outcome says what Upsert did.
type Outcome struct {
	Created bool
	// Changed names what changed, in the words of the admin API (password, admin,
	// deactivated, locked, user_type, threepids), for the audit log.
	Changed []string
	// IDServerUnbindResult is the id_server_unbind_result of unbinding, from identity
	// servers, the addresses the change removed, or every binding when it deactivated
	// the account; "" when it did neither.
	IDServerUnbindResult string
}

// modification is what modify did to an existing account: what changed, and what is
// left to unbind once the transaction has committed.
type modification struct {
	changed []string
	// removed are the 3PIDs taken off the account.
	removed []store.ThreePID
	// deactivated is set when the account was deactivated.
	deactivated bool
}

// Upsert creates user's account from c, or changes the existing one, in one
// transaction. A new account gets no session. Once the change is committed, the
// addresses it removed (or, when it deactivated the account, all of them) are unbound
// from the identity servers they were bound on through this server; an identity server
// that does not unbind is reported in the Outcome, never as an error.
func (s *Service) Upsert(ctx context.Context, actor Actor, user mxid.UserID, c Change) (
	*Outcome, error,
) {
	if err := s.checkChange(c); err != nil {
		return nil, err
	}
	var hash string
	if c.Password != nil {
		hash = s.hasher.Hash(*c.Password)
	}
	threePIDs, err := canonicalThreePIDs(c.ThreePIDs)
	if err != nil {
		return nil, err
	}

	out := &Outcome{}
	var m modification
	err = s.store.Transact(ctx, func(tx store.Store) error {
		a, err := tx.AccountDetails(ctx, user)
		if errors.Is(err, store.ErrNotFound) {
			out.Created = true
			return s.create(ctx, tx, user, c, hash, threePIDs)
		}
		if err != nil {
			return err
		}
		m, err = s.modify(ctx, tx, actor, a, c, hash, threePIDs)
		return err
	})
	if err != nil {
		return nil, err
	}

	// Unbinding talks to other servers, so it waits for the commit: an identity server
	// that is slow or down delays the answer but changes nothing here.
	out.Changed = m.changed
	out.IDServerUnbindResult = s.unbindModified(ctx, user, &m)
	return out, nil
}

// unbindModified removes from identity servers the bindings that m left without an
// address: all of user's when m deactivated the account, else those of the removed
// addresses. It returns the id_server_unbind_result, or "" when there was nothing to
// unbind or nothing to unbind with.
func (s *Service) unbindModified(ctx context.Context, user mxid.UserID, m *modification) string {
	switch {
	case s.cfg.Unbinder == nil:
		return ""
	case m.deactivated:
		return s.cfg.Unbinder.UnbindAll(ctx, user)
	case len(m.removed) > 0:
		return s.cfg.Unbinder.UnbindAddresses(ctx, user, m.removed)
	}
	return ""
}

// checkChange refuses what no account may become.
func (s *Service) checkChange(c Change) error {
	if c.Password != nil {
		if err := checkPassword(*c.Password); err != nil {
			return err
		}
	}
	if c.UserType != nil {
		if err := checkUserType(*c.UserType); err != nil {
			return err
		}
	}
	if c.Deactivated != nil && *c.Deactivated && c.Locked != nil && *c.Locked {
		return mxerr.ErrInvalidParam.Msg("an account cannot be deactivated and locked")
	}
	return nil
}

// create makes a new account for user. Deactivated is ignored, as Synapse does.
func (s *Service) create(ctx context.Context, tx store.Store, user mxid.UserID, c Change,
	hash string, threePIDs []store.ThreePID,
) error {
	if err := s.accounts.CheckOperatorLocalpart(ctx, user.Localpart()); err != nil {
		return err
	}

	a := &store.Account{UserID: user, Localpart: user.Localpart(), PasswordHash: hash,
		Kind: store.KindUser, Admin: c.Admin != nil && *c.Admin,
		CreatedMS: s.now().UnixMilli()}
	if err := tx.CreateAccount(ctx, a); errors.Is(err, store.ErrConflict) {
		return mxerr.ErrUserInUse.Msg("the user ID %s is taken", user)
	} else if err != nil {
		return err
	}
	if c.Locked != nil || c.UserType != nil {
		err := tx.UpdateAccount(ctx, user, store.AccountUpdate{Locked: c.Locked,
			UserType: c.UserType})
		if err != nil {
			return err
		}
	}
	return s.addThreePIDs(ctx, tx, user, threePIDs)
}

// modify applies c to the existing account a and returns what it did.
func (s *Service) modify(ctx context.Context, tx store.Store, actor Actor,
	a *store.AccountDetails, c Change, hash string, threePIDs []store.ThreePID,
) (modification, error) {
	var m modification
	user := a.UserID

	if c.Admin != nil && *c.Admin != a.Admin {
		if user == actor.UserID && !*c.Admin {
			return m, mxerr.ErrInvalidParam.Msg("you may not demote yourself")
		}
		m.changed = append(m.changed, "admin")
	}
	if c.Locked != nil && *c.Locked != a.Locked {
		m.changed = append(m.changed, "locked")
	}
	if c.UserType != nil && *c.UserType != a.UserType {
		m.changed = append(m.changed, "user_type")
	}
	u := store.AccountUpdate{Admin: c.Admin, Locked: c.Locked, UserType: c.UserType}
	if c.Deactivated != nil && !*c.Deactivated && a.Deactivated {
		if c.Password == nil {
			// Deactivation dropped the password: without one the account could never
			// log in again. Synapse asks for one too.
			return m, mxerr.ErrMissingParam.Msg("give a password to reactivate %s", user)
		}
		u.Reactivate = true
		m.changed = append(m.changed, "deactivated")
	}
	if err := tx.UpdateAccount(ctx, user, u); err != nil {
		return m, err
	}

	if c.Password != nil {
		if err := s.setPassword(ctx, tx, actor, user, hash, c.LogoutDevices); err != nil {
			return m, err
		}
		m.changed = append(m.changed, "password")
	}
	if c.ThreePIDs != nil {
		removed, replaced, err := s.replaceThreePIDs(ctx, tx, user, threePIDs)
		if err != nil {
			return m, err
		}
		m.removed = removed
		if replaced {
			m.changed = append(m.changed, "threepids")
		}
	}
	if c.Deactivated != nil && *c.Deactivated && !a.Deactivated {
		if err := s.deactivate(ctx, tx, user, false); err != nil {
			return m, err
		}
		m.deactivated = true
		m.changed = append(m.changed, "deactivated")
	}
	return m, nil
}

// canonicalThreePIDs returns the canonical 3PIDs of in, or M_INVALID_PARAM for an
// unknown medium or an address that is not one; nil when in is nil.
func canonicalThreePIDs(in *[]ThreePIDInput) ([]store.ThreePID, error) {
	if in == nil {
		return nil, nil
	}
	out := []store.ThreePID{}
	for _, t := range *in {
		m := threepid.Medium(t.Medium)
		if m != threepid.MediumEmail && m != threepid.MediumMSISDN {
			return nil, mxerr.ErrInvalidParam.Msg("medium must be email or msisdn, not %q",
				t.Medium)
		}
		addr, ok := threepid.Canonical(m, t.Address)
		if !ok {
			return nil, mxerr.ErrInvalidParam.Msg("%q is not a valid %s address",
				t.Address, t.Medium)
		}
		p := store.ThreePID{Medium: string(m), Address: addr}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// addThreePIDs adds pids to user's account as validated now; an address another account
// holds is M_THREEPID_IN_USE.
func (s *Service) addThreePIDs(ctx context.Context, tx store.Store, user mxid.UserID,
	pids []store.ThreePID,
) error {
	now := s.now().UnixMilli()
	for _, p := range pids {
		p.UserID, p.ValidatedMS, p.AddedMS = user, now, now
		err := tx.AddThreePID(ctx, &p)
		if errors.Is(err, store.ErrConflict) {
			return mxerr.New(400, mxerr.CodeThreepidInUse,
				fmt.Sprintf("%s %s is already in use", p.Medium, p.Address))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// replaceThreePIDs makes pids the 3PIDs of user. It returns the 3PIDs it removed, for
// their identity-server bindings to go too, and whether the 3PIDs changed.
func (s *Service) replaceThreePIDs(ctx context.Context, tx store.Store, user mxid.UserID,
	pids []store.ThreePID,
) ([]store.ThreePID, bool, error) {
	current, err := tx.ThreePIDsOf(ctx, user)
	if err != nil {
		return nil, false, err
	}
	key := func(p store.ThreePID) string { return p.Medium + "\x00" + p.Address }
	want := map[string]bool{}
	for _, p := range pids {
		want[key(p)] = true
	}

	var removed []store.ThreePID
	have := map[string]bool{}
	for _, p := range current {
		have[key(p)] = true
		if want[key(p)] {
			continue
		}
		if err := tx.DeleteThreePID(ctx, user, p.Medium, p.Address); err != nil {
			return nil, false, err
		}
		removed = append(removed, p)
	}

	var added []store.ThreePID
	for _, p := range pids {
		if !have[key(p)] {
			added = append(added, p)
		}
	}
	if err := s.addThreePIDs(ctx, tx, user, added); err != nil {
		return nil, false, err
	}
	return removed, len(removed) > 0 || len(added) > 0, nil
}

// UserByThreePID returns the user who holds the address, or M_NOT_FOUND.
func (s *Service) UserByThreePID(ctx context.Context, medium, address string) (
	mxid.UserID, error,
) {
	addr, ok := threepid.Canonical(threepid.Medium(medium), address)
	if !ok {
		return "", errUserNotFound
	}
	p, err := s.store.ThreePID(ctx, medium, addr)
	if errors.Is(err, store.ErrNotFound) {
		return "", errUserNotFound
	}
	if err != nil {
		return "", err
	}
	return p.UserID, nil
}

// UsernameAvailable answers as GET /register/available does, whether or not
// registration is enabled.
func (s *Service) UsernameAvailable(ctx context.Context, username string) error {
	return s.accounts.Available(ctx, username)
}
