package account

import "context"

// CheckOperatorLocalpart reports whether an operator may create an account with
// localpart now, through the admin API, shared-secret registration or "mxaccounts user
// create". The grammar, the digits kept for guests, application services' exclusive
// namespaces and taken names apply as at registration; the reserved names, the deny
// patterns and the leading underscore do not, since they keep users, not operators,
// off names.
func (s *Service) CheckOperatorLocalpart(ctx context.Context, localpart string) error {
	if err := s.checkGrammar(localpart); err != nil {
		return err
	}
	return s.checkUnclaimed(ctx, localpart)
}
