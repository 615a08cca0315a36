package sqlstore

import (
	"context"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxid"
)

const (
	insertRegistrationToken = `
		INSERT INTO registration_tokens (token, uses_allowed, expiry_ms, created_ms,
			grants_admin)
		VALUES (?, ?, ?, ?, ?)`
	selectRegistrationToken = `
		SELECT token, uses_allowed, pending, completed, expiry_ms, created_ms, grants_admin
		FROM registration_tokens WHERE token = ?`
	// One conditional update decides a race for the last use: the row lock makes the
	// second updater see the first one's pending count.
	reserveRegistrationToken = `
		UPDATE registration_tokens SET pending = pending + 1
		WHERE token = ?
		  AND (uses_allowed IS NULL OR pending + completed < uses_allowed)
		  AND (expiry_ms IS NULL OR expiry_ms > ?)`
	releaseRegistrationToken = `
		UPDATE registration_tokens SET pending = pending - 1
		WHERE token = ? AND pending > 0`
	completeRegistrationToken = `
		UPDATE registration_tokens SET pending = pending - 1, completed = completed + 1
		WHERE token = ? AND pending > 0`
	insertRegistrationTokenUse = `
		INSERT INTO registration_token_uses (token, user_id, used_ms) VALUES (?, ?, ?)`
	selectRegistrationTokens = `
		SELECT token, uses_allowed, pending, completed, expiry_ms, created_ms, grants_admin
		FROM registration_tokens ORDER BY created_ms, token`
	updateRegistrationToken = `
		UPDATE registration_tokens SET uses_allowed = ?, expiry_ms = ? WHERE token = ?`
	deleteRegistrationToken         = `DELETE FROM registration_tokens WHERE token = ?`
	selectAnyValidRegistrationToken = `
		SELECT COUNT(*) FROM registration_tokens
		WHERE (uses_allowed IS NULL OR pending + completed < uses_allowed)
		  AND (expiry_ms IS NULL OR expiry_ms > ?)`
)

// CreateRegistrationToken implements store.RegistrationTokens.
func (s *Store) CreateRegistrationToken(ctx context.Context, t *store.RegistrationToken) error {
	_, err := s.q.exec(ctx, insertRegistrationToken, t.Token, t.UsesAllowed, t.ExpiryMS,
		t.CreatedMS, t.GrantsAdmin)
	return s.conflictOr(err, "create registration token")
}

// RegistrationToken implements store.RegistrationTokens.
func (s *Store) RegistrationToken(
	ctx context.Context, token string,
) (*store.RegistrationToken, error) {
	var t store.RegistrationToken
	if err := scanRegistrationToken(s.q.queryRow(ctx, selectRegistrationToken, token),
		&t); err != nil {
		return nil, fmt.Errorf("read registration token: %w", err)
	}
	return &t, nil
}

// ReserveRegistrationToken implements store.RegistrationTokens.
func (s *Store) ReserveRegistrationToken(ctx context.Context, token string, nowMS int64) error {
	n, err := s.q.exec(ctx, reserveRegistrationToken, token, nowMS)
	if err != nil {
		return fmt.Errorf("reserve a registration token use: %w", err)
	}
	if n == 0 {
		return store.ErrExhausted
	}
	return nil
}

// ReleaseRegistrationToken implements store.RegistrationTokens.
func (s *Store) ReleaseRegistrationToken(ctx context.Context, token string) error {
	if _, err := s.q.exec(ctx, releaseRegistrationToken, token); err != nil {
		return fmt.Errorf("release a registration token use: %w", err)
	}
	return nil
}

// CompleteRegistrationToken implements store.RegistrationTokens.
func (s *Store) CompleteRegistrationToken(
	ctx context.Context, token string, user mxid.UserID, nowMS int64,
) error {
	return s.Transact(ctx, func(tx store.Store) error {
		q := tx.(*Store).q
		n, err := q.exec(ctx, completeRegistrationToken, token)
		if err != nil {
			return fmt.Errorf("count a registration token use: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("count a registration token use by %s: no use was reserved: %w",
				user, store.ErrExhausted)
		}
		_, err = q.exec(ctx, insertRegistrationTokenUse, token, user, nowMS)
		if err := s.conflictOr(err, "record the registration token use by "+
			string(user)); err != nil {
			return err
		}
		return nil
	})
}

// AnyValidRegistrationToken implements store.RegistrationTokens.
func (s *Store) AnyValidRegistrationToken(ctx context.Context, nowMS int64) (bool, error) {
	var n int64
	if err := s.q.queryRow(ctx, selectAnyValidRegistrationToken, nowMS).Scan(&n); err != nil {
		return false, fmt.Errorf("count valid registration tokens: %w", err)
	}
	return n > 0, nil
}

func scanRegistrationToken(r row, t *store.RegistrationToken) error {
	return r.Scan(&t.Token, &t.UsesAllowed, &t.Pending, &t.Completed, &t.ExpiryMS,
		&t.CreatedMS, &t.GrantsAdmin)
}

// RegistrationTokens implements store.RegistrationTokens.
func (s *Store) RegistrationTokens(
	ctx context.Context, valid *bool, nowMS int64,
) ([]store.RegistrationToken, error) {
	rs, err := s.q.query(ctx, selectRegistrationTokens)
	if err != nil {
		return nil, fmt.Errorf("list registration tokens: %w", err)
	}
	defer rs.Close()

	var out []store.RegistrationToken
	for rs.Next() {
		var t store.RegistrationToken
		if err := scanRegistrationToken(rs, &t); err != nil {
			return nil, fmt.Errorf("list registration tokens: %w", err)
		}
		if valid == nil || t.Valid(nowMS) == *valid {
			out = append(out, t)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list registration tokens: %w", err)
	}
	return out, nil
}

// UpdateRegistrationToken implements store.RegistrationTokens.
func (s *Store) UpdateRegistrationToken(ctx context.Context, t *store.RegistrationToken) error {
	n, err := s.q.exec(ctx, updateRegistrationToken, t.UsesAllowed, t.ExpiryMS, t.Token)
	if err != nil {
		return fmt.Errorf("update registration token: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("update registration token: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteRegistrationToken implements store.RegistrationTokens.
func (s *Store) DeleteRegistrationToken(ctx context.Context, token string) error {
	n, err := s.q.exec(ctx, deleteRegistrationToken, token)
	if err != nil {
		return fmt.Errorf("delete registration token: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delete registration token: %w", store.ErrNotFound)
	}
	return nil
}
