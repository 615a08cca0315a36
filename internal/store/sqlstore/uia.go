package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

const (
	insertUIASession = `
		INSERT INTO uia_sessions (session_id, operation, user_id, method, path, params,
			password_hash, completed, registration_token, created_ms, expires_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	selectUIASession = `
		SELECT session_id, operation, user_id, method, path, params, password_hash,
		       completed, registration_token, created_ms, expires_ms, consumed
		FROM uia_sessions WHERE session_id = ?`
	updateUIASession = `
		UPDATE uia_sessions
		SET user_id = ?, params = ?, password_hash = ?, completed = ?, registration_token = ?
		WHERE session_id = ? AND consumed = FALSE`
	consumeUIASession = `
		UPDATE uia_sessions SET consumed = TRUE WHERE session_id = ? AND consumed = FALSE`
	// DELETE ... RETURNING hands each expired row to exactly one caller, so instances
	// that clean up at the same moment never release one reservation twice.
	deleteExpiredUIASessions = `
		DELETE FROM uia_sessions WHERE expires_ms < ?
		RETURNING registration_token, consumed`
)

// CreateUIASession implements store.UIASessions.
func (s *Store) CreateUIASession(ctx context.Context, u *store.UIASession) error {
	completed, err := json.Marshal(nonNil(u.Completed))
	if err != nil {
		return fmt.Errorf("encode completed stages: %w", err)
	}
	_, err = s.q.exec(ctx, insertUIASession, u.ID, u.Operation, u.UserID, u.Method, u.Path,
		string(u.Params), u.PasswordHash, string(completed), u.RegistrationToken, u.CreatedMS,
		u.ExpiresMS)
	return s.conflictOr(err, "create UIA session")
}

// UIASession implements store.UIASessions.
func (s *Store) UIASession(ctx context.Context, id string) (*store.UIASession, error) {
	var (
		u                 store.UIASession
		params, completed string
	)
	err := s.q.queryRow(ctx, selectUIASession, id).Scan(&u.ID, &u.Operation, &u.UserID,
		&u.Method, &u.Path, &params, &u.PasswordHash, &completed, &u.RegistrationToken,
		&u.CreatedMS, &u.ExpiresMS, &u.Consumed)
	if err != nil {
		return nil, fmt.Errorf("read UIA session %q: %w", id, err)
	}

	u.Params = json.RawMessage(params)
	if err := json.Unmarshal([]byte(completed), &u.Completed); err != nil {
		return nil, fmt.Errorf("decode completed stages of UIA session %q: %w", id, err)
	}
	return &u, nil
}

// UpdateUIASession implements store.UIASessions.
func (s *Store) UpdateUIASession(ctx context.Context, u *store.UIASession) error {
	completed, err := json.Marshal(nonNil(u.Completed))
	if err != nil {
		return fmt.Errorf("encode completed stages: %w", err)
	}
	n, err := s.q.exec(ctx, updateUIASession, u.UserID, string(u.Params), u.PasswordHash,
		string(completed), u.RegistrationToken, u.ID)
	if err != nil {
		return fmt.Errorf("update UIA session %q: %w", u.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update UIA session %q: %w", u.ID, store.ErrConflict)
	}
	return nil
}

// ConsumeUIASession implements store.UIASessions.
func (s *Store) ConsumeUIASession(ctx context.Context, id string) error {
	n, err := s.q.exec(ctx, consumeUIASession, id)
	if err != nil {
		return fmt.Errorf("consume UIA session %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("consume UIA session %q: %w", id, store.ErrConflict)
	}
	return nil
}

// DeleteExpiredUIASessions implements store.UIASessions.
func (s *Store) DeleteExpiredUIASessions(ctx context.Context, nowMS int64) (int, error) {
	removed := 0
	err := s.Transact(ctx, func(tx store.Store) error {
		var release []string
		rs, err := tx.(*Store).q.query(ctx, deleteExpiredUIASessions, nowMS)
		if err != nil {
			return fmt.Errorf("delete expired UIA sessions: %w", err)
		}
		for rs.Next() {
			var (
				token    string
				consumed bool
			)
			if err := rs.Scan(&token, &consumed); err != nil {
				rs.Close()
				return fmt.Errorf("read expired UIA session: %w", err)
			}
			removed++
			if token != "" && !consumed {
				release = append(release, token)
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("delete expired UIA sessions: %w", err)
		}

		for _, token := range release {
			if err := tx.ReleaseRegistrationToken(ctx, token); err != nil {
				return err
			}
		}
		return nil
	})
	return removed, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
