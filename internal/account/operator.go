package account

import (
	"context"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// CheckOperatorLocalpart reports whether an operator may create an account with
// localpart now, through the admin API or shared-secret registration. The grammar,
// the digits kept for guests, application services' exclusive namespaces and taken
// names apply as at registration; the reserved names, the deny patterns and the
// leading underscore do not, since they keep users, not operators, off names.
func (s *Service) CheckOperatorLocalpart(ctx context.Context, localpart string) error {
	if err := s.checkGrammar(localpart); err != nil {
		return err
	}
	if s.cfg.AppServices != nil &&
		s.cfg.AppServices.ExclusiveOwner(s.userID(localpart)) != nil {
		return mxerr.ErrExclusive.Msg("the username %q is reserved by an application "+
			"service", localpart)
	}
	return s.checkFree(ctx, localpart)
}
