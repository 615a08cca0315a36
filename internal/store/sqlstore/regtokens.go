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
	err := s.q.queryRow(ctx, selectRegistrationToken, token).Scan(&t.Token, &t.UsesAllowed,
		&t.Pending, &t.Completed, &t.ExpiryMS, &t.CreatedMS, &t.GrantsAdmin)
	if err != nil {
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
		if _, err := q.exec(ctx, insertRegistrationTokenUse, token, user, nowMS); err != nil {
			return fmt.Errorf("record the registration token use by %s: %w", user, err)
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
