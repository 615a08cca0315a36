package sqlstore

import (
	"context"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// accountColumns is the column list that scanAccount reads, in its order.
const accountColumns = `user_id, localpart, password_hash, kind, admin, created_ms,
	deactivated, locked, suspended, appservice_id`

const (
	insertAccount = `
		INSERT INTO accounts (user_id, localpart, password_hash, kind, admin, created_ms,
			appservice_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	selectAccountByLocalpart = `SELECT ` + accountColumns + ` FROM accounts WHERE localpart = ?`
	selectLocalpartTaken     = `SELECT COUNT(*) FROM accounts WHERE localpart = ?`
	selectAccountCount       = `SELECT COUNT(*) FROM accounts`
	updatePasswordHash       = `UPDATE accounts SET password_hash = ? WHERE user_id = ?`
	updateGuestToUser        = `
		UPDATE accounts SET kind = 'user', password_hash = ?
		WHERE user_id = ? AND kind = 'guest' AND NOT deactivated AND NOT locked`
	insertTermsAcceptance = `
		INSERT INTO terms_acceptances (user_id, policy, version, accepted_ms)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, policy, version) DO NOTHING`
	// The password goes, so that a deactivated account confirms no password guesses;
	// an erasure, once asked for, stays.
	updateDeactivated = `
		UPDATE accounts
		SET deactivated = TRUE, erased = (erased OR ?), password_hash = ''
		WHERE user_id = ?`
)

// CreateAccount implements store.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a *store.Account) error {
	_, err := s.q.exec(ctx, insertAccount, a.UserID, a.Localpart, a.PasswordHash,
		a.Kind, a.Admin, a.CreatedMS, a.AppServiceID)
	return s.conflictOr(err, "create account "+string(a.UserID))
}

// AccountByLocalpart implements store.Accounts.
func (s *Store) AccountByLocalpart(ctx context.Context, localpart string) (*store.Account, error) {
	var a store.Account
	if err := scanAccount(s.q.queryRow(ctx, selectAccountByLocalpart, localpart), &a); err != nil {
		return nil, fmt.Errorf("read account %q: %w", localpart, err)
	}
	return &a, nil
}

const selectAccountByUserID = `SELECT ` + accountColumns + ` FROM accounts WHERE user_id = ?`

// LockAccount implements store.Accounts.
func (s *Store) LockAccount(ctx context.Context, user mxid.UserID) (*store.Account, error) {
	var a store.Account
	q := selectAccountByUserID + s.b.lockSuffix()
	if err := scanAccount(s.q.queryRow(ctx, q, user), &a); err != nil {
		return nil, fmt.Errorf("lock account %s: %w", user, err)
	}
	return &a, nil
}

// scanAccount reads the columns of accountColumns into a.
func scanAccount(r row, a *store.Account, extra ...any) error {
	dest := append([]any{&a.UserID, &a.Localpart, &a.PasswordHash, &a.Kind, &a.Admin,
		&a.CreatedMS, &a.Deactivated, &a.Locked, &a.Suspended, &a.AppServiceID}, extra...)
	return r.Scan(dest...)
}

// LocalpartTaken implements store.Accounts.
func (s *Store) LocalpartTaken(ctx context.Context, localpart string) (bool, error) {
	var n int64
	if err := s.q.queryRow(ctx, selectLocalpartTaken, localpart).Scan(&n); err != nil {
		return false, fmt.Errorf("look up localpart %q: %w", localpart, err)
	}
	return n > 0, nil
}

const selectPeopleCount = `SELECT COUNT(*) FROM accounts WHERE kind <> 'appservice'`

// CountPeople implements store.Accounts.
func (s *Store) CountPeople(ctx context.Context) (int64, error) {
	var n int64
	if err := s.q.queryRow(ctx, selectPeopleCount).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// CountAccounts implements store.Accounts.
func (s *Store) CountAccounts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.q.queryRow(ctx, selectAccountCount).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// SetPasswordHash implements store.Accounts.
func (s *Store) SetPasswordHash(ctx context.Context, user mxid.UserID, hash string) error {
	n, err := s.q.exec(ctx, updatePasswordHash, hash, user)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", user, err)
	}
	if n == 0 {
		return fmt.Errorf("set password of %s: %w", user, store.ErrNotFound)
	}
	return nil
}

// UpgradeGuest implements store.Accounts.
func (s *Store) UpgradeGuest(ctx context.Context, user mxid.UserID, hash string) error {
	n, err := s.q.exec(ctx, updateGuestToUser, hash, user)
	if err != nil {
		return fmt.Errorf("upgrade guest %s: %w", user, err)
	}
	if n == 0 {
		return fmt.Errorf("upgrade guest %s: %w", user, store.ErrNotFound)
	}
	return nil
}

// Deactivate implements store.Accounts.
func (s *Store) Deactivate(ctx context.Context, user mxid.UserID, erase bool) error {
	n, err := s.q.exec(ctx, updateDeactivated, erase, user)
	if err != nil {
		return fmt.Errorf("deactivate %s: %w", user, err)
	}
	if n == 0 {
		return fmt.Errorf("deactivate %s: %w", user, store.ErrNotFound)
	}
	return nil
}

const selectTermsAcceptances = `
	SELECT policy, version FROM terms_acceptances WHERE user_id = ?
	ORDER BY accepted_ms, policy, version`

// TermsAcceptances implements store.Accounts.
func (s *Store) TermsAcceptances(
	ctx context.Context, user mxid.UserID,
) (map[string][]string, error) {
	rs, err := s.q.query(ctx, selectTermsAcceptances, user)
	if err != nil {
		return nil, fmt.Errorf("read terms accepted by %s: %w", user, err)
	}
	defer rs.Close()

	out := map[string][]string{}
	for rs.Next() {
		var policy, version string
		if err := rs.Scan(&policy, &version); err != nil {
			return nil, fmt.Errorf("read terms accepted by %s: %w", user, err)
		}
		out[policy] = append(out[policy], version)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read terms accepted by %s: %w", user, err)
	}
	return out, nil
}

// RecordTermsAcceptance implements store.Accounts.
func (s *Store) RecordTermsAcceptance(
	ctx context.Context, user mxid.UserID, policy, version string, atMS int64,
) error {
	if _, err := s.q.exec(ctx, insertTermsAcceptance, user, policy, version, atMS); err != nil {
		return fmt.Errorf("record acceptance of %s %s by %s: %w", policy, version, user, err)
	}
	return nil
}
