package account

import (
	"context"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// ThreePIDs is what accounts need of third-party identifiers; *threepid.Service has
// it.
type ThreePIDs interface {
	// Owner returns the user whose account holds the address, or "" when none does.
	Owner(ctx context.Context, medium threepid.Medium, address string) (mxid.UserID, error)
	// AddFromUIA adds to user, in the registration's transaction tx, the addresses that
	// the stages of a UIA session validated.
	AddFromUIA(ctx context.Context, tx store.Store, uiaSessionID string,
		user mxid.UserID) error
	// Notify tells user's addresses of a change to the account.
	Notify(ctx context.Context, user mxid.UserID, kind threepid.Kind,
		about *store.ThreePID)
	// UnbindAll removes user's identity-server bindings and returns the
	// id_server_unbind_result; it never fails.
	UnbindAll(ctx context.Context, user mxid.UserID) string
}

// threePIDOwner returns the localpart of the account that holds the address, or ""
// when none does or no medium is validated; "" then fails the password check as an
// unknown user does, at the same cost.
func (s *Service) threePIDOwner(ctx context.Context, medium, address string) (string, error) {
	if s.cfg.ThreePIDs == nil {
		return "", nil
	}
	user, err := s.cfg.ThreePIDs.Owner(ctx, threepid.Medium(medium), address)
	if err != nil || user == "" {
		return "", err
	}
	if user.ServerName() != s.cfg.ServerName {
		return "", nil
	}
	return user.Localpart(), nil
}

// notify tells user's addresses of kind, if any medium is validated.
func (s *Service) notify(ctx context.Context, user mxid.UserID, kind threepid.Kind) {
	if s.cfg.ThreePIDs != nil {
		s.cfg.ThreePIDs.Notify(ctx, user, kind, nil)
	}
}
