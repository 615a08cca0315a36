package sqlstore

import (
	"context"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

const (
	insertLoginToken = `
		INSERT INTO login_tokens (digest, user_id, created_ms, expires_ms)
		VALUES (?, ?, ?, ?)`
	selectLoginToken = `
		SELECT digest, user_id, created_ms, expires_ms FROM login_tokens WHERE digest = ?`
	deleteLoginToken         = `DELETE FROM login_tokens WHERE digest = ?`
	deleteExpiredLoginTokens = `DELETE FROM login_tokens WHERE expires_ms <= ?`
)

// CreateLoginToken implements store.Tokens.
func (s *Store) CreateLoginToken(ctx context.Context, t *store.LoginToken) error {
	_, err := s.q.exec(ctx, insertLoginToken, t.Digest, t.UserID, t.CreatedMS, t.ExpiresMS)
	return s.conflictOr(err, fmt.Sprintf("store login token of %s", t.UserID))
}

// ConsumeLoginToken implements store.Tokens. The delete decides between two concurrent
// uses: only one of them removes the row.
func (s *Store) ConsumeLoginToken(ctx context.Context, digest []byte) (*store.LoginToken, error) {
	var t store.LoginToken
	err := s.Transact(ctx, func(tx store.Store) error {
		q := tx.(*Store).q
		err := q.queryRow(ctx, selectLoginToken, digest).Scan(&t.Digest, &t.UserID,
			&t.CreatedMS, &t.ExpiresMS)
		if err != nil {
			return fmt.Errorf("look up login token: %w", err)
		}

		n, err := q.exec(ctx, deleteLoginToken, digest)
		if err != nil {
			return fmt.Errorf("use login token of %s: %w", t.UserID, err)
		}
		if n == 0 {
			return fmt.Errorf("use login token of %s: used concurrently: %w", t.UserID,
				store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteExpiredLoginTokens implements store.Tokens.
func (s *Store) DeleteExpiredLoginTokens(ctx context.Context, nowMS int64) (int64, error) {
	n, err := s.q.exec(ctx, deleteExpiredLoginTokens, nowMS)
	if err != nil {
		return 0, fmt.Errorf("delete expired login tokens: %w", err)
	}
	return n, nil
}
