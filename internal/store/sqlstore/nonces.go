package sqlstore

import (
	"context"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

const (
	insertRegistrationNonce = `
		INSERT INTO registration_nonces (nonce, expires_ms) VALUES (?, ?)`
	// One statement checks and spends the nonce, so that two instances cannot both
	// accept it.
	deleteValidNonce    = `DELETE FROM registration_nonces WHERE nonce = ? AND expires_ms > ?`
	deleteExpiredNonces = `DELETE FROM registration_nonces WHERE expires_ms <= ?`
)

// CreateRegistrationNonce implements store.SharedSecretNonces.
func (s *Store) CreateRegistrationNonce(ctx context.Context, nonce string, expiresMS int64) error {
	_, err := s.q.exec(ctx, insertRegistrationNonce, nonce, expiresMS)
	return s.conflictOr(err, "store registration nonce")
}

// ConsumeRegistrationNonce implements store.SharedSecretNonces.
func (s *Store) ConsumeRegistrationNonce(ctx context.Context, nonce string, nowMS int64) error {
	n, err := s.q.exec(ctx, deleteValidNonce, nonce, nowMS)
	if err != nil {
		return fmt.Errorf("use registration nonce: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("use registration nonce: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteExpiredRegistrationNonces implements store.SharedSecretNonces.
func (s *Store) DeleteExpiredRegistrationNonces(ctx context.Context, nowMS int64) (int64, error) {
	n, err := s.q.exec(ctx, deleteExpiredNonces, nowMS)
	if err != nil {
		return 0, fmt.Errorf("delete expired registration nonces: %w", err)
	}
	return n, nil
}
