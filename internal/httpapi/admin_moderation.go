package httpapi

import (
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// The spec's account moderation endpoints (spec v1.18, "Server administration"): GET and
// PUT /_matrix/client/v1/admin/lock/{userId} and .../suspend/{userId}. Only admins may
// call them, which s.admin checks before any account is looked up, as the spec asks.

// adminGetLock serves GET /_matrix/client/v1/admin/lock/{userId}.
func (s *Server) adminGetLock(w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	return s.writeFlag(w, r, "locked", func(u *store.AccountDetails) bool { return u.Locked })
}

// adminPutLock serves PUT /_matrix/client/v1/admin/lock/{userId} ({locked}). A locked
// account's tokens are refused with 401 M_USER_LOCKED and soft_logout, and it cannot
// log in, until it is unlocked; its sessions survive.
func (s *Server) adminPutLock(w http.ResponseWriter, r *http.Request, rq *store.Requester,
) error {
	locked, err := s.decodeFlag(r, "locked")
	if err != nil {
		return err
	}
	user, err := s.pathUser(r)
	if err != nil {
		return err
	}
	if err := refuseSelf(rq, user, locked, "lock"); err != nil {
		return err
	}
	if err := s.userAdmin.SetLocked(r.Context(), user, locked); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"locked": locked})
	return nil
}

// adminGetSuspend serves GET /_matrix/client/v1/admin/suspend/{userId}.
func (s *Server) adminGetSuspend(w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	return s.writeFlag(w, r, "suspended",
		func(u *store.AccountDetails) bool { return u.Suspended })
}

// adminPutSuspend serves PUT /_matrix/client/v1/admin/suspend/{userId} ({suspended}).
// The mark is stored and reported; the actions it restricts (sending, joining,
// changing the profile) are the homeserver's, outside mxaccounts.
func (s *Server) adminPutSuspend(w http.ResponseWriter, r *http.Request, rq *store.Requester,
) error {
	suspended, err := s.decodeFlag(r, "suspended")
	if err != nil {
		return err
	}
	user, err := s.pathUser(r)
	if err != nil {
		return err
	}
	if err := refuseSelf(rq, user, suspended, "suspend"); err != nil {
		return err
	}
	if err := s.userAdmin.SetSuspended(r.Context(), user, suspended); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"suspended": suspended})
	return nil
}

// decodeFlag reads the required boolean key of a moderation body and notes it in the
// audit event.
func (s *Server) decodeFlag(r *http.Request, key string) (bool, error) {
	body, err := decodeObject(r, bodyRequired)
	if err != nil {
		return false, err
	}
	v, err := optional[bool](body, key)
	if err != nil {
		return false, err
	}
	if v == nil {
		return false, mxerr.ErrMissingParam.Msg("%s is required", key)
	}
	noteAudit(r, key, *v)
	return *v, nil
}

// writeFlag answers {key: flag(account)} for the account in the path.
func (s *Server) writeFlag(w http.ResponseWriter, r *http.Request, key string,
	flag func(*store.AccountDetails) bool,
) error {
	user, err := s.pathUser(r)
	if err != nil {
		return err
	}
	u, err := s.userAdmin.User(r.Context(), user)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{key: flag(&u.AccountDetails)})
	return nil
}

// refuseSelf keeps an admin from locking or suspending their own account through the
// API, which would cut off the session that could undo it; the CLI still can.
func refuseSelf(rq *store.Requester, user mxid.UserID, on bool, action string) error {
	if on && rq.UserID == user {
		return mxerr.ErrInvalidParam.Msg("an admin cannot %s their own account", action)
	}
	return nil
}
