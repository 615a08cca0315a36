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
}

// Upsert creates user's account from c, or changes the existing one, in one
// transaction. A new account gets no session.
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
	err = s.store.Transact(ctx, func(tx store.Store) error {
		a, err := tx.AccountDetails(ctx, user)
		if errors.Is(err, store.ErrNotFound) {
			out.Created = true
			return s.create(ctx, tx, user, c, hash, threePIDs)
		}
		if err != nil {
			return err
		}
		out.Changed, err = s.modify(ctx, tx, actor, a, c, hash, threePIDs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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

// modify applies c to the existing account a and returns what changed.
func (s *Service) modify(ctx context.Context, tx store.Store, actor Actor,
	a *store.AccountDetails, c Change, hash string, threePIDs []store.ThreePID,
) ([]string, error) {
	var changed []string
	user := a.UserID

	if c.Admin != nil && *c.Admin != a.Admin {
		if user == actor.UserID && !*c.Admin {
			return nil, mxerr.ErrInvalidParam.Msg("you may not demote yourself")
		}
		changed = append(changed, "admin")
	}
	if c.Locked != nil && *c.Locked != a.Locked {
		changed = append(changed, "locked")
	}
	if c.UserType != nil && *c.UserType != a.UserType {
		changed = append(changed, "user_type")
	}
	u := store.AccountUpdate{Admin: c.Admin, Locked: c.Locked, UserType: c.UserType}
	if c.Deactivated != nil && !*c.Deactivated && a.Deactivated {
		u.Reactivate = true
		changed = append(changed, "deactivated")
	}
	if err := tx.UpdateAccount(ctx, user, u); err != nil {
		return nil, err
	}

	if c.Password != nil {
		if err := s.setPassword(ctx, tx, actor, user, hash, c.LogoutDevices); err != nil {
			return nil, err
		}
		changed = append(changed, "password")
	}
	if c.ThreePIDs != nil {
		same, err := s.replaceThreePIDs(ctx, tx, user, threePIDs)
		if err != nil {
			return nil, err
		}
		if !same {
			changed = append(changed, "threepids")
		}
	}
	if c.Deactivated != nil && *c.Deactivated && !a.Deactivated {
		if err := s.deactivate(ctx, tx, user, false); err != nil {
			return nil, err
		}
		changed = append(changed, "deactivated")
	}
	return changed, nil
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

// replaceThreePIDs makes pids the 3PIDs of user and reports whether they were already.
//
// TODO(threepid): unbind removed addresses from identity servers, as deactivation
// should too, once the threepid package offers the unbinding.
func (s *Service) replaceThreePIDs(ctx context.Context, tx store.Store, user mxid.UserID,
	pids []store.ThreePID,
) (bool, error) {
	current, err := tx.ThreePIDsOf(ctx, user)
	if err != nil {
		return false, err
	}
	key := func(p store.ThreePID) string { return p.Medium + "\x00" + p.Address }
	want := map[string]bool{}
	for _, p := range pids {
		want[key(p)] = true
	}

	same := len(current) == len(pids)
	have := map[string]bool{}
	for _, p := range current {
		have[key(p)] = true
		if want[key(p)] {
			continue
		}
		same = false
		if err := tx.DeleteThreePID(ctx, user, p.Medium, p.Address); err != nil {
			return false, err
		}
	}
	var added []store.ThreePID
	for _, p := range pids {
		if !have[key(p)] {
			added = append(added, p)
		}
	}
	return same && len(added) == 0, s.addThreePIDs(ctx, tx, user, added)
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
