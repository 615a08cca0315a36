package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// accountDetailsColumns is accountColumns followed by what scanAccountDetails reads
// after them; last_seen_ms is the latest last-seen time of the account's devices.
const accountDetailsColumns = accountColumns + `, erased, user_type,
	COALESCE((SELECT MAX(d.last_seen_ms) FROM devices d
	          WHERE d.user_id = accounts.user_id), 0) AS last_seen_ms`

const (
	selectAccountDetails = `SELECT ` + accountDetailsColumns + ` FROM accounts WHERE user_id = ?`
	// A nil flag leaves its column as it is.
	updateAccountFlags = `
		UPDATE accounts
		SET admin = COALESCE(?, admin),
		    locked = COALESCE(?, locked),
		    suspended = COALESCE(?, suspended),
		    deactivated = CASE WHEN ? THEN FALSE ELSE deactivated END,
		    erased = CASE WHEN ? THEN FALSE ELSE erased END,
		    user_type = COALESCE(?, user_type)
		WHERE user_id = ?`
)

// accountOrderColumns maps each sort key of ListAccounts to its SQL expression.
var accountOrderColumns = map[store.AccountOrder]string{
	"":                       "user_id",
	store.OrderByUserID:      "user_id",
	store.OrderByCreated:     "created_ms",
	store.OrderByAdmin:       "admin",
	store.OrderByDeactivated: "deactivated",
	store.OrderByLocked:      "locked",
	store.OrderByGuest:       "kind = 'guest'",
	store.OrderByUserType:    "user_type",
	store.OrderByLastSeen:    "last_seen_ms",
}

// ListAccounts implements store.AccountAdmin.
func (s *Store) ListAccounts(
	ctx context.Context, f store.AccountFilter,
) ([]store.AccountDetails, int64, error) {
	order, ok := accountOrderColumns[f.OrderBy]
	if !ok {
		return nil, 0, fmt.Errorf("list accounts: unknown order %q", f.OrderBy)
	}
	where, args := accountWhere(f)

	var total int64
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM accounts`+where, args...).Scan(&total)
	if err != nil {
		return nil, 0, fmt.Errorf("count accounts: %w", err)
	}

	dir := "ASC"
	if f.Descending {
		dir = "DESC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = math.MaxInt64
	}
	query := `SELECT ` + accountDetailsColumns + ` FROM accounts` + where +
		` ORDER BY ` + order + ` ` + dir + `, user_id ASC LIMIT ? OFFSET ?`
	rs, err := s.q.query(ctx, query, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list accounts: %w", err)
	}
	defer rs.Close()

	var out []store.AccountDetails
	for rs.Next() {
		var a store.AccountDetails
		if err := scanAccountDetails(rs, &a); err != nil {
			return nil, 0, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		return nil, 0, fmt.Errorf("list accounts: %w", err)
	}
	return out, total, nil
}

// accountWhere returns the WHERE clause (with a leading space, or "") and its arguments
// for the conditions of f.
func accountWhere(f store.AccountFilter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if f.UserIDContains != "" {
		conds = append(conds, `user_id LIKE ? ESCAPE '\'`)
		args = append(args, "%"+escapeLike(f.UserIDContains)+"%")
	}
	if f.LocalpartContains != "" {
		conds = append(conds, `localpart LIKE ? ESCAPE '\'`)
		args = append(args, "%"+escapeLike(strings.ToLower(f.LocalpartContains))+"%")
	}
	if !f.Guests {
		conds = append(conds, "kind <> 'guest'")
	}
	if !f.Deactivated {
		conds = append(conds, "deactivated = FALSE")
	}
	if !f.Locked {
		conds = append(conds, "locked = FALSE")
	}
	if f.Admins != nil {
		conds = append(conds, "admin = ?")
		args = append(args, *f.Admins)
	}

	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// escapeLike escapes the wildcards of a LIKE pattern with a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// scanAccountDetails reads the columns of accountDetailsColumns into a.
func scanAccountDetails(r row, a *store.AccountDetails) error {
	return scanAccount(r, &a.Account, &a.Erased, &a.UserType, &a.LastSeenMS)
}

// AccountDetails implements store.AccountAdmin.
func (s *Store) AccountDetails(
	ctx context.Context, user mxid.UserID,
) (*store.AccountDetails, error) {
	var a store.AccountDetails
	if err := scanAccountDetails(s.q.queryRow(ctx, selectAccountDetails, user), &a); err != nil {
		return nil, fmt.Errorf("read account %s: %w", user, err)
	}
	return &a, nil
}

// UpdateAccount implements store.AccountAdmin.
func (s *Store) UpdateAccount(
	ctx context.Context, user mxid.UserID, u store.AccountUpdate,
) error {
	n, err := s.q.exec(ctx, updateAccountFlags, u.Admin, u.Locked, u.Suspended,
		u.Reactivate, u.Reactivate, u.UserType, user)
	if err != nil {
		return fmt.Errorf("update account %s: %w", user, err)
	}
	if n == 0 {
		return fmt.Errorf("update account %s: %w", user, store.ErrNotFound)
	}
	return nil
}
