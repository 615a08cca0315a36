package sqlstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

// refreshColumns is the column list that scanRefreshToken reads, in its order.
const refreshColumns = `digest, user_id, device_id, access_digest, prev_digest,
	next_digest, revoked, created_ms, expires_ms`

const (
	insertRefreshToken = `
		INSERT INTO refresh_tokens (` + refreshColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	selectRefreshToken = `SELECT ` + refreshColumns + ` FROM refresh_tokens WHERE digest = ?`
	// An update that changes nothing still takes the row's write lock in PostgreSQL, and
	// a read after it sees every change committed before it. In SQLite the transaction
	// already holds the single writer.
	lockRefreshToken   = `UPDATE refresh_tokens SET revoked = revoked WHERE digest = ?`
	revokeRefreshToken = `
		UPDATE refresh_tokens
		SET revoked = TRUE,
		    expires_ms = CASE WHEN expires_ms = 0 THEN ? ELSE expires_ms END
		WHERE digest = ?`
	deletePairedAccessToken = `
		DELETE FROM access_tokens
		WHERE digest = (SELECT access_digest FROM refresh_tokens WHERE digest = ?)`
	clearPairedAccessPending = `
		UPDATE access_tokens SET pending_refresh_digest = NULL
		WHERE digest = (SELECT access_digest FROM refresh_tokens WHERE digest = ?)`
	clearRefreshPrev     = `UPDATE refresh_tokens SET prev_digest = NULL WHERE digest = ?`
	setRefreshNext       = `UPDATE refresh_tokens SET next_digest = ? WHERE digest = ?`
	deleteRefreshToken   = `DELETE FROM refresh_tokens WHERE digest = ?`
	deleteExpiredRevoked = `
		DELETE FROM refresh_tokens
		WHERE user_id = ? AND device_id = ? AND revoked = TRUE AND expires_ms <= ?`
)

// CreateRefreshToken implements store.Tokens.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	_, err := s.q.exec(ctx, insertRefreshToken, t.Digest, t.UserID, t.DeviceID,
		t.AccessDigest, nullBytes(t.Prev), nullBytes(t.Next), t.Revoked, t.CreatedMS,
		t.ExpiresMS)
	return s.conflictOr(err, fmt.Sprintf("store refresh token of %s", t.UserID))
}

// RefreshToken implements store.Tokens.
func (s *Store) RefreshToken(ctx context.Context, digest []byte) (*store.RefreshToken, error) {
	var t store.RefreshToken
	if err := scanRefreshToken(s.q.queryRow(ctx, selectRefreshToken, digest), &t); err != nil {
		return nil, fmt.Errorf("look up refresh token: %w", err)
	}

	// The index found the row; the comparison that decides is constant-time.
	if subtle.ConstantTimeCompare(t.Digest, digest) != 1 {
		return nil, fmt.Errorf("look up refresh token: %w", store.ErrNotFound)
	}
	return &t, nil
}

// scanRefreshToken reads the columns of refreshColumns into t.
func scanRefreshToken(r row, t *store.RefreshToken) error {
	return r.Scan(&t.Digest, &t.UserID, &t.DeviceID, &t.AccessDigest, &t.Prev, &t.Next,
		&t.Revoked, &t.CreatedMS, &t.ExpiresMS)
}

// RotateRefreshToken implements store.Tokens.
func (s *Store) RotateRefreshToken(
	ctx context.Context, r *store.Rotation,
) (store.RotationOutcome, error) {
	var out store.RotationOutcome
	err := s.Transact(ctx, func(tx store.Store) error {
		var err error
		out, err = tx.(*Store).rotate(ctx, r)
		return err
	})
	if err != nil {
		return 0, err
	}
	return out, nil
}

// rotate is RotateRefreshToken inside its transaction.
func (s *Store) rotate(ctx context.Context, r *store.Rotation) (store.RotationOutcome, error) {
	old, err := s.lockedRefreshToken(ctx, r.Old)
	if errors.Is(err, store.ErrNotFound) {
		return store.RotationUnknown, nil
	}
	if err != nil {
		return 0, err
	}

	switch {
	case old.Revoked:
		// The successor was used, so someone else holds this token's chain: end the
		// device's session rather than guess which holder is the rightful one.
		if err := s.DeleteDeviceTokens(ctx, old.UserID, old.DeviceID); err != nil {
			return 0, fmt.Errorf("revoke device %s of %s after refresh token reuse: %w",
				old.DeviceID, old.UserID, err)
		}
		return store.RotationReused, nil
	case old.ExpiresMS != 0 && old.ExpiresMS <= r.NowMS:
		return store.RotationExpired, nil
	}

	// Presenting the token is the first use of the pair it came with.
	if old.Prev != nil {
		if err := s.confirm(ctx, old, r.RevokedUntilMS); err != nil {
			return 0, err
		}
	}
	// An earlier refresh with this token issued a pair that was never used, or the
	// token would be revoked: the answer was lost, and this retry replaces that pair.
	if old.Next != nil {
		if err := s.discardPair(ctx, old.Next); err != nil {
			return 0, err
		}
	}

	if err := s.storePair(ctx, old, r); err != nil {
		return 0, err
	}

	_, err = s.q.exec(ctx, deleteExpiredRevoked, old.UserID, old.DeviceID, r.NowMS)
	if err != nil {
		return 0, fmt.Errorf("drop expired refresh tokens of device %s of %s: %w",
			old.DeviceID, old.UserID, err)
	}
	return store.Rotated, nil
}

// storePair stores the pair that r issues in exchange for old, and links old to it.
func (s *Store) storePair(ctx context.Context, old *store.RefreshToken, r *store.Rotation) error {
	a, rt := r.Access, r.Refresh
	a.UserID, a.DeviceID, a.PendingRefresh = old.UserID, old.DeviceID, rt.Digest
	if err := s.CreateAccessToken(ctx, a); err != nil {
		return err
	}

	rt.UserID, rt.DeviceID = old.UserID, old.DeviceID
	rt.AccessDigest, rt.Prev, rt.Next, rt.Revoked = a.Digest, old.Digest, nil, false
	if err := s.CreateRefreshToken(ctx, rt); err != nil {
		return err
	}

	if _, err := s.q.exec(ctx, setRefreshNext, rt.Digest, old.Digest); err != nil {
		return fmt.Errorf("link refresh token of %s to its successor: %w", old.UserID, err)
	}
	return nil
}

// ConfirmRotation implements store.Tokens.
func (s *Store) ConfirmRotation(
	ctx context.Context, successor []byte, revokedUntilMS int64,
) (bool, error) {
	found := false
	err := s.Transact(ctx, func(tx store.Store) error {
		ts := tx.(*Store)
		t, err := ts.lockedRefreshToken(ctx, successor)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}

		found = true
		if t.Prev != nil {
			return ts.confirm(ctx, t, revokedUntilMS)
		}
		// Confirmed already, by the refresh token; only the access token's mark is left.
		if _, err := ts.q.exec(ctx, clearPairedAccessPending, t.Digest); err != nil {
			return fmt.Errorf("confirm refresh of %s: %w", t.UserID, err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return found, nil
}

// confirm records the first use of the pair of t, whose rotation is pending: the token t
// replaced is revoked and its access token deleted, and the pending marks go.
func (s *Store) confirm(ctx context.Context, t *store.RefreshToken, revokedUntilMS int64) error {
	steps := []struct {
		query string
		args  []any
	}{
		{revokeRefreshToken, []any{revokedUntilMS, t.Prev}},
		{deletePairedAccessToken, []any{t.Prev}},
		{clearRefreshPrev, []any{t.Digest}},
		{clearPairedAccessPending, []any{t.Digest}},
	}
	for _, st := range steps {
		if _, err := s.q.exec(ctx, st.query, st.args...); err != nil {
			return fmt.Errorf("confirm refresh of device %s of %s: %w", t.DeviceID,
				t.UserID, err)
		}
	}
	return nil
}

// discardPair deletes the refresh token with this digest and its access token.
func (s *Store) discardPair(ctx context.Context, digest []byte) error {
	if _, err := s.q.exec(ctx, deletePairedAccessToken, digest); err != nil {
		return fmt.Errorf("discard an unused refreshed access token: %w", err)
	}
	if _, err := s.q.exec(ctx, deleteRefreshToken, digest); err != nil {
		return fmt.Errorf("discard an unused refresh token: %w", err)
	}
	return nil
}

// lockedRefreshToken reads a refresh token under its write lock, inside a transaction.
// Locks are taken along the chain, the token a row replaced before the row itself, as
// every writer here does, so that two refreshes of one chain cannot deadlock.
func (s *Store) lockedRefreshToken(
	ctx context.Context, digest []byte,
) (*store.RefreshToken, error) {
	t, err := s.RefreshToken(ctx, digest)
	if err != nil {
		return nil, err
	}

	if t.Prev != nil {
		if _, err := s.q.exec(ctx, lockRefreshToken, t.Prev); err != nil {
			return nil, fmt.Errorf("lock refresh token of %s: %w", t.UserID, err)
		}
	}
	n, err := s.q.exec(ctx, lockRefreshToken, digest)
	if err != nil {
		return nil, fmt.Errorf("lock refresh token of %s: %w", t.UserID, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("lock refresh token of %s: %w", t.UserID, store.ErrNotFound)
	}

	// Read again: the row may have changed while the lock was awaited.
	return s.RefreshToken(ctx, digest)
}

// nullBytes returns b, or an untyped nil when b is nil, since a nil []byte would be
// stored as an empty blob rather than NULL by some drivers.
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
