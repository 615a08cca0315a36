package account

import (
	"context"
	"errors"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// NormalizeUsername maps a requested username to the localpart it would get: ASCII
// capitals are lowered (the spec lets servers map names onto the grammar; clients may
// not assume localpart == username). A username given as a full user ID of this
// server is taken by its localpart.
func (s *Service) NormalizeUsername(username string) string {
	if strings.HasPrefix(username, "@") {
		if lp, server, err := mxid.ParseUserID(username); err == nil &&
			server == s.cfg.ServerName {
			username = lp
		}
	}
	return asciiLower(username)
}

// asciiLower lowers A-Z and leaves every other byte alone.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// CheckLocalpart reports whether a user may register localpart now. It returns
// M_INVALID_USERNAME for names outside the grammar, all-digit names (kept for guests),
// names starting with '_' (kept for application services) and names the operator
// denies; M_EXCLUSIVE for names an application service claims; M_USER_IN_USE for taken
// and reserved names. The answer reserves nothing.
func (s *Service) CheckLocalpart(ctx context.Context, localpart string) error {
	if err := s.checkUserGrammar(localpart); err != nil {
		return err
	}
	for _, re := range s.cfg.Deny {
		if re.MatchString(localpart) {
			return mxerr.ErrInvalidUsername.Msg("the username %q is not allowed here",
				localpart)
		}
	}
	if s.reserved[localpart] {
		return mxerr.ErrUserInUse.Msg("the username %q is reserved", localpart)
	}
	return s.checkUnclaimed(ctx, localpart)
}

// checkUserGrammar is checkGrammar plus the rule that leaves '_' to application
// services.
func (s *Service) checkUserGrammar(localpart string) error {
	if err := s.checkGrammar(localpart); err != nil {
		return err
	}
	if strings.HasPrefix(localpart, "_") {
		return mxerr.ErrInvalidUsername.Msg("usernames starting with _ are kept for " +
			"application services")
	}
	return nil
}

// checkUnclaimed refuses names an application service claims exclusively and names
// already taken.
func (s *Service) checkUnclaimed(ctx context.Context, localpart string) error {
	if s.cfg.AppServices != nil &&
		s.cfg.AppServices.ExclusiveOwner(s.userID(localpart)) != nil {
		return mxerr.ErrExclusive.Msg("the username %q is reserved by an application "+
			"service", localpart)
	}
	return s.checkFree(ctx, localpart)
}

// checkGrammar applies the rules every new localpart obeys, whoever registers it.
func (s *Service) checkGrammar(localpart string) error {
	if err := mxid.ValidateLocalpart(localpart, s.cfg.ServerName); err != nil {
		return mxerr.ErrInvalidUsername.Msg("invalid username: %v", err)
	}
	if strings.Trim(localpart, "0123456789") == "" {
		return mxerr.ErrInvalidUsername.Msg("all-digit usernames are kept for guests")
	}
	return nil
}

// checkFree refuses taken localparts.
func (s *Service) checkFree(ctx context.Context, localpart string) error {
	taken, err := s.store.LocalpartTaken(ctx, localpart)
	if err != nil {
		return err
	}
	if taken {
		return mxerr.ErrUserInUse.Msg("the username %q is taken", localpart)
	}
	return nil
}

func (s *Service) userID(localpart string) mxid.UserID {
	return mxid.NewUserID(localpart, s.cfg.ServerName)
}

// Available answers GET /register/available for username.
func (s *Service) Available(ctx context.Context, username string) error {
	return s.CheckLocalpart(ctx, s.NormalizeUsername(username))
}

// userInUse maps a unique violation on the localpart to M_USER_IN_USE: someone else
// registered the name between the check and the insert.
func userInUse(err error, localpart string) error {
	if errors.Is(err, store.ErrConflict) {
		return mxerr.ErrUserInUse.Msg("the username %q is taken", localpart)
	}
	return err
}
