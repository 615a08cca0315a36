package useradmin

import (
	"context"
	"errors"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// ResetPassword sets user's password; with logout, every session of the user ends but
// the one the actor acts from. M_NOT_FOUND when there is no such account.
func (s *Service) ResetPassword(
	ctx context.Context, actor Actor, user mxid.UserID, pw string, logout bool,
) error {
	if err := checkPassword(pw); err != nil {
		return err
	}
	hash := s.hasher.Hash(pw)

	return s.store.Transact(ctx, func(tx store.Store) error {
		if _, err := s.details(ctx, tx, user); err != nil {
			return err
		}
		return s.setPassword(ctx, tx, actor, user, hash, logout)
	})
}

// setPassword stores hash as user's password hash and, with logout, ends the user's
// sessions, keeping the actor's own when the actor changes their own password.
func (s *Service) setPassword(ctx context.Context, tx store.Store, actor Actor,
	user mxid.UserID, hash string, logout bool,
) error {
	if err := tx.SetPasswordHash(ctx, user, hash); err != nil {
		return err
	}
	switch {
	case !logout:
		return nil
	case actor.UserID == user && actor.DeviceID != "":
		return tx.DeleteOtherDevices(ctx, user, actor.DeviceID)
	}
	return tx.DeleteAllDevices(ctx, user)
}

// Deactivate deactivates user for good, as POST /_synapse/admin/v1/deactivate does:
// sessions, password and 3PIDs go; with erase the account is marked erased. An account
// deactivated already is deactivated again without error. M_NOT_FOUND when there is no
// such account. It returns the id_server_unbind_result of removing the user's
// identity-server bindings, which are unbound before the account changes.
func (s *Service) Deactivate(
	ctx context.Context, user mxid.UserID, erase bool,
) (string, error) {
	if _, err := s.details(ctx, s.store, user); err != nil {
		return "", err
	}
	result := "success"
	if s.cfg.Unbinder != nil {
		result = s.cfg.Unbinder.UnbindAll(ctx, user)
	}
	err := s.store.Transact(ctx, func(tx store.Store) error {
		return s.deactivate(ctx, tx, user, erase)
	})
	return result, err
}

// deactivate marks user deactivated (erased with erase) and removes what could let the
// account act or be found again: devices and tokens, the password hash, the 3PIDs.
func (s *Service) deactivate(ctx context.Context, tx store.Store, user mxid.UserID,
	erase bool,
) error {
	if err := tx.Deactivate(ctx, user, erase); err != nil {
		return err
	}
	if err := tx.SetPasswordHash(ctx, user, ""); err != nil {
		return err
	}
	if err := tx.DeleteAllDevices(ctx, user); err != nil {
		return err
	}
	_, err := tx.DeleteThreePIDsOf(ctx, user)
	return err
}

// SetLocked locks or unlocks user: a locked account's tokens are refused with
// M_USER_LOCKED (soft logout, so the sessions survive an unlock) and it cannot log in.
// M_NOT_FOUND when there is no such account.
func (s *Service) SetLocked(ctx context.Context, user mxid.UserID, locked bool) error {
	return s.setFlag(ctx, user, store.AccountUpdate{Locked: &locked})
}

// SetSuspended suspends or unsuspends user. The mark is stored and reported; the
// actions a suspended account may not take (sending messages, joining rooms, changing
// its profile) are the homeserver's, outside mxaccounts. M_NOT_FOUND when there is no
// such account.
func (s *Service) SetSuspended(ctx context.Context, user mxid.UserID, suspended bool) error {
	return s.setFlag(ctx, user, store.AccountUpdate{Suspended: &suspended})
}

func (s *Service) setFlag(ctx context.Context, user mxid.UserID, u store.AccountUpdate) error {
	return s.store.Transact(ctx, func(tx store.Store) error {
		if _, err := s.details(ctx, tx, user); err != nil {
			return err
		}
		return tx.UpdateAccount(ctx, user, u)
	})
}

// Devices returns user's devices, oldest first, or M_NOT_FOUND when there is no such
// account.
func (s *Service) Devices(ctx context.Context, user mxid.UserID) ([]store.Device, error) {
	if _, err := s.details(ctx, s.store, user); err != nil {
		return nil, err
	}
	return s.store.Devices(ctx, user)
}

// errDeviceNotFound is the answer for a device the user does not have, in Synapse's
// words.
var errDeviceNotFound = mxerr.ErrNotFound.Msg("No device found")

// Device returns one device of user, read alone; M_NOT_FOUND when there is no such
// account or the account has no such device.
func (s *Service) Device(
	ctx context.Context, user mxid.UserID, device mxid.DeviceID,
) (*store.Device, error) {
	if _, err := s.details(ctx, s.store, user); err != nil {
		return nil, err
	}
	d, err := s.store.Device(ctx, user, device)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errDeviceNotFound
	}
	return d, err
}

// DeleteDevice ends one session of user: the device and its tokens go. A device that
// does not exist is no error; an account that does not exist is M_NOT_FOUND.
func (s *Service) DeleteDevice(
	ctx context.Context, user mxid.UserID, device mxid.DeviceID,
) error {
	return s.store.Transact(ctx, func(tx store.Store) error {
		if _, err := s.details(ctx, tx, user); err != nil {
			return err
		}
		return tx.DeleteDevice(ctx, user, device)
	})
}
