package sqlstore

import (
	"context"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// validationColumns is the column list that scanValidationSession reads, in its order.
const validationColumns = `sid, medium, address, purpose, client_secret_digest,
	token_digest, code_digest, send_attempt, next_link, failed_attempts, created_ms,
	expires_ms, validated_ms, consumed, uia_session_id`

const (
	insertValidationSession = `
		INSERT INTO validation_sessions (sid, medium, address, purpose,
			client_secret_digest, token_digest, code_digest, send_attempt, next_link,
			created_ms, expires_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	selectValidationSession = `
		SELECT ` + validationColumns + ` FROM validation_sessions WHERE sid = ?`
	selectValidationSessionByKey = `
		SELECT ` + validationColumns + ` FROM validation_sessions
		WHERE medium = ? AND address = ? AND purpose = ? AND client_secret_digest = ?`
	selectValidationSessionsUsedBy = `
		SELECT ` + validationColumns + ` FROM validation_sessions
		WHERE uia_session_id = ? AND consumed = TRUE
		ORDER BY validated_ms, sid`
	deleteValidationSession = `DELETE FROM validation_sessions WHERE sid = ?`
	// The condition on send_attempt makes concurrent requests with the same attempt
	// send one message between them.
	updateValidationSend = `
		UPDATE validation_sessions
		SET send_attempt = ?, token_digest = ?, code_digest = ?, next_link = ?,
		    expires_ms = ?, failed_attempts = 0
		WHERE sid = ? AND send_attempt < ? AND validated_ms = 0 AND consumed = FALSE`
	revertValidationSend = `
		UPDATE validation_sessions SET send_attempt = ?
		WHERE sid = ? AND send_attempt = ?`
	countValidationAttempt = `
		UPDATE validation_sessions SET failed_attempts = failed_attempts + 1
		WHERE sid = ? AND failed_attempts < ?`
	updateValidated = `
		UPDATE validation_sessions
		SET validated_ms = ?, expires_ms = ?, failed_attempts = 0
		WHERE sid = ? AND consumed = FALSE`
	consumeValidationSession = `
		UPDATE validation_sessions SET consumed = TRUE, uia_session_id = ?
		WHERE sid = ? AND consumed = FALSE AND validated_ms > 0`
	deleteExpiredValidationSessions = `
		DELETE FROM validation_sessions WHERE expires_ms < ?`
)

// CreateValidationSession implements store.ValidationSessions.
func (s *Store) CreateValidationSession(ctx context.Context, v *store.ValidationSession) error {
	_, err := s.q.exec(ctx, insertValidationSession, v.SID, v.Medium, v.Address, v.Purpose,
		v.ClientSecretDigest, v.TokenDigest, v.CodeDigest, v.SendAttempt, v.NextLink,
		v.CreatedMS, v.ExpiresMS)
	return s.conflictOr(err, "create validation session for "+v.Medium+" "+v.Address)
}

// ValidationSession implements store.ValidationSessions.
func (s *Store) ValidationSession(
	ctx context.Context, sid string,
) (*store.ValidationSession, error) {
	var v store.ValidationSession
	r := s.q.queryRow(ctx, selectValidationSession, sid)
	if err := scanValidationSession(r, &v); err != nil {
		return nil, fmt.Errorf("read validation session %q: %w", sid, err)
	}
	return &v, nil
}

// ValidationSessionByKey implements store.ValidationSessions.
func (s *Store) ValidationSessionByKey(
	ctx context.Context, key store.ValidationKey,
) (*store.ValidationSession, error) {
	var v store.ValidationSession
	r := s.q.queryRow(ctx, selectValidationSessionByKey, key.Medium, key.Address,
		key.Purpose, key.ClientSecretDigest)
	if err := scanValidationSession(r, &v); err != nil {
		return nil, fmt.Errorf("read %s validation session of %s %s: %w", key.Purpose,
			key.Medium, key.Address, err)
	}
	return &v, nil
}

// scanValidationSession reads the columns of validationColumns into v.
func scanValidationSession(r row, v *store.ValidationSession) error {
	return r.Scan(&v.SID, &v.Medium, &v.Address, &v.Purpose, &v.ClientSecretDigest,
		&v.TokenDigest, &v.CodeDigest, &v.SendAttempt, &v.NextLink, &v.FailedAttempts,
		&v.CreatedMS, &v.ExpiresMS, &v.ValidatedMS, &v.Consumed, &v.UIASessionID)
}

// DeleteValidationSession implements store.ValidationSessions.
func (s *Store) DeleteValidationSession(ctx context.Context, sid string) error {
	if _, err := s.q.exec(ctx, deleteValidationSession, sid); err != nil {
		return fmt.Errorf("delete validation session %q: %w", sid, err)
	}
	return nil
}

// RecordValidationSend implements store.ValidationSessions.
func (s *Store) RecordValidationSend(
	ctx context.Context, send *store.ValidationSend,
) (bool, error) {
	n, err := s.q.exec(ctx, updateValidationSend, send.Attempt, send.TokenDigest,
		send.CodeDigest, send.NextLink, send.ExpiresMS, send.SID, send.Attempt)
	if err != nil {
		return false, fmt.Errorf("record send attempt %d of validation session %q: %w",
			send.Attempt, send.SID, err)
	}
	return n > 0, nil
}

// RevertValidationSend implements store.ValidationSessions.
func (s *Store) RevertValidationSend(
	ctx context.Context, sid string, attempt, previous int64,
) error {
	if _, err := s.q.exec(ctx, revertValidationSend, previous, sid, attempt); err != nil {
		return fmt.Errorf("revert send attempt %d of validation session %q: %w", attempt,
			sid, err)
	}
	return nil
}

// CountValidationAttempt implements store.ValidationSessions.
func (s *Store) CountValidationAttempt(ctx context.Context, sid string, max int64) (bool, error) {
	n, err := s.q.exec(ctx, countValidationAttempt, sid, max)
	if err != nil {
		return false, fmt.Errorf("count a token for validation session %q: %w", sid, err)
	}
	return n > 0, nil
}

// MarkValidated implements store.ValidationSessions.
func (s *Store) MarkValidated(ctx context.Context, sid string, atMS, expiresMS int64) error {
	n, err := s.q.exec(ctx, updateValidated, atMS, expiresMS, sid)
	if err != nil {
		return fmt.Errorf("validate session %q: %w", sid, err)
	}
	if n == 0 {
		return fmt.Errorf("validate session %q: %w", sid, store.ErrConflict)
	}
	return nil
}

// ConsumeValidationSession implements store.ValidationSessions.
func (s *Store) ConsumeValidationSession(ctx context.Context, sid, uiaSessionID string) error {
	n, err := s.q.exec(ctx, consumeValidationSession, uiaSessionID, sid)
	if err != nil {
		return fmt.Errorf("consume validation session %q: %w", sid, err)
	}
	if n == 0 {
		return fmt.Errorf("consume validation session %q: %w", sid, store.ErrConflict)
	}
	return nil
}

// ValidationSessionsUsedBy implements store.ValidationSessions.
func (s *Store) ValidationSessionsUsedBy(
	ctx context.Context, uiaSessionID string,
) ([]store.ValidationSession, error) {
	rs, err := s.q.query(ctx, selectValidationSessionsUsedBy, uiaSessionID)
	if err != nil {
		return nil, fmt.Errorf("read validation sessions of UIA session %q: %w",
			uiaSessionID, err)
	}
	defer rs.Close()

	var out []store.ValidationSession
	for rs.Next() {
		var v store.ValidationSession
		if err := scanValidationSession(rs, &v); err != nil {
			return nil, fmt.Errorf("read validation session of UIA session %q: %w",
				uiaSessionID, err)
		}
		out = append(out, v)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read validation sessions of UIA session %q: %w",
			uiaSessionID, err)
	}
	return out, nil
}

// DeleteExpiredValidationSessions implements store.ValidationSessions.
func (s *Store) DeleteExpiredValidationSessions(ctx context.Context, beforeMS int64) (int, error) {
	n, err := s.q.exec(ctx, deleteExpiredValidationSessions, beforeMS)
	if err != nil {
		return 0, fmt.Errorf("delete expired validation sessions: %w", err)
	}
	return int(n), nil
}

// threepidColumns is the column list that scanThreePID reads, in its order.
const threepidColumns = `user_id, medium, address, validated_ms, added_ms`

const (
	insertThreePID = `
		INSERT INTO threepids (user_id, medium, address, validated_ms, added_ms)
		VALUES (?, ?, ?, ?, ?)`
	selectThreePID = `
		SELECT ` + threepidColumns + ` FROM threepids WHERE medium = ? AND address = ?`
	selectThreePIDsOf = `
		SELECT ` + threepidColumns + ` FROM threepids WHERE user_id = ?
		ORDER BY added_ms, medium, address`
	deleteThreePID = `
		DELETE FROM threepids WHERE user_id = ? AND medium = ? AND address = ?`
	deleteThreePIDsOf = `DELETE FROM threepids WHERE user_id = ?`
)

// AddThreePID implements store.ThreePIDs.
func (s *Store) AddThreePID(ctx context.Context, t *store.ThreePID) error {
	_, err := s.q.exec(ctx, insertThreePID, t.UserID, t.Medium, t.Address, t.ValidatedMS,
		t.AddedMS)
	return s.conflictOr(err, fmt.Sprintf("add %s %s to %s", t.Medium, t.Address, t.UserID))
}

// ThreePID implements store.ThreePIDs.
func (s *Store) ThreePID(ctx context.Context, medium, address string) (*store.ThreePID, error) {
	var t store.ThreePID
	if err := scanThreePID(s.q.queryRow(ctx, selectThreePID, medium, address), &t); err != nil {
		return nil, fmt.Errorf("read %s %s: %w", medium, address, err)
	}
	return &t, nil
}

// scanThreePID reads the columns of threepidColumns into t.
func scanThreePID(r row, t *store.ThreePID) error {
	return r.Scan(&t.UserID, &t.Medium, &t.Address, &t.ValidatedMS, &t.AddedMS)
}

// ThreePIDsOf implements store.ThreePIDs.
func (s *Store) ThreePIDsOf(ctx context.Context, user mxid.UserID) ([]store.ThreePID, error) {
	rs, err := s.q.query(ctx, selectThreePIDsOf, user)
	if err != nil {
		return nil, fmt.Errorf("read the 3PIDs of %s: %w", user, err)
	}
	defer rs.Close()

	out := []store.ThreePID{}
	for rs.Next() {
		var t store.ThreePID
		if err := scanThreePID(rs, &t); err != nil {
			return nil, fmt.Errorf("read a 3PID of %s: %w", user, err)
		}
		out = append(out, t)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read the 3PIDs of %s: %w", user, err)
	}
	return out, nil
}

// DeleteThreePID implements store.ThreePIDs.
func (s *Store) DeleteThreePID(
	ctx context.Context, user mxid.UserID, medium, address string,
) error {
	n, err := s.q.exec(ctx, deleteThreePID, user, medium, address)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("remove %s %s from %s: %w", medium, address, user, err)
	}
	return nil
}

// DeleteThreePIDsOf implements store.ThreePIDs.
func (s *Store) DeleteThreePIDsOf(ctx context.Context, user mxid.UserID) (int, error) {
	n, err := s.q.exec(ctx, deleteThreePIDsOf, user)
	if err != nil {
		return 0, fmt.Errorf("remove the 3PIDs of %s: %w", user, err)
	}
	return int(n), nil
}

// bindingColumns is the column list that scanBinding reads, in its order.
const bindingColumns = `user_id, medium, address, id_server, bound_ms`

const (
	upsertThreePIDBinding = `
		INSERT INTO threepid_bindings (user_id, medium, address, id_server, bound_ms)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, medium, address, id_server)
		DO UPDATE SET bound_ms = excluded.bound_ms`
	selectThreePIDBindingsOf = `
		SELECT ` + bindingColumns + ` FROM threepid_bindings WHERE user_id = ?
		ORDER BY bound_ms, medium, address, id_server`
	deleteThreePIDBinding = `
		DELETE FROM threepid_bindings
		WHERE user_id = ? AND medium = ? AND address = ? AND id_server = ?`
)

// AddThreePIDBinding implements store.ThreePIDBindings.
func (s *Store) AddThreePIDBinding(ctx context.Context, b *store.ThreePIDBinding) error {
	_, err := s.q.exec(ctx, upsertThreePIDBinding, b.UserID, b.Medium, b.Address,
		b.IDServer, b.BoundMS)
	if err != nil {
		return fmt.Errorf("record the binding of %s %s on %s for %s: %w", b.Medium,
			b.Address, b.IDServer, b.UserID, err)
	}
	return nil
}

// ThreePIDBindingsOf implements store.ThreePIDBindings.
func (s *Store) ThreePIDBindingsOf(
	ctx context.Context, user mxid.UserID,
) ([]store.ThreePIDBinding, error) {
	rs, err := s.q.query(ctx, selectThreePIDBindingsOf, user)
	if err != nil {
		return nil, fmt.Errorf("read the bindings of %s: %w", user, err)
	}
	defer rs.Close()

	out := []store.ThreePIDBinding{}
	for rs.Next() {
		var b store.ThreePIDBinding
		err := rs.Scan(&b.UserID, &b.Medium, &b.Address, &b.IDServer, &b.BoundMS)
		if err != nil {
			return nil, fmt.Errorf("read a binding of %s: %w", user, err)
		}
		out = append(out, b)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read the bindings of %s: %w", user, err)
	}
	return out, nil
}

// DeleteThreePIDBinding implements store.ThreePIDBindings.
func (s *Store) DeleteThreePIDBinding(ctx context.Context, b *store.ThreePIDBinding) error {
	_, err := s.q.exec(ctx, deleteThreePIDBinding, b.UserID, b.Medium, b.Address,
		b.IDServer)
	if err != nil {
		return fmt.Errorf("remove the binding of %s %s on %s for %s: %w", b.Medium,
			b.Address, b.IDServer, b.UserID, err)
	}
	return nil
}
