package sqlstore

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxid"
)

const (
	insertDeviceIfAbsent = `
		INSERT INTO devices (user_id, device_id, display_name, created_ms)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, device_id) DO NOTHING`
	deleteDevice        = `DELETE FROM devices WHERE user_id = ? AND device_id = ?`
	deleteDeviceTokens  = `DELETE FROM access_tokens WHERE user_id = ? AND device_id = ?`
	deleteDeviceRefresh = `DELETE FROM refresh_tokens WHERE user_id = ? AND device_id = ?`
	deleteAllDevices    = `DELETE FROM devices WHERE user_id = ?`
	deleteAllTokens     = `DELETE FROM access_tokens WHERE user_id = ?`
	deleteAllRefresh    = `DELETE FROM refresh_tokens WHERE user_id = ?`
	deleteLoginTokens   = `DELETE FROM login_tokens WHERE user_id = ?`
	insertAccessToken   = `
		INSERT INTO access_tokens (digest, user_id, device_id, created_ms, expires_ms,
			pending_refresh_digest)
		VALUES (?, ?, ?, ?, ?, ?)`
	// The join reads the account with the token, so that one indexed read authenticates
	// a request.
	selectRequesterByToken = `
		SELECT a.user_id, a.localpart, a.password_hash, a.kind, a.admin, a.created_ms,
		       a.deactivated, a.locked, a.suspended, a.appservice_id, t.device_id, t.digest,
		       t.expires_ms, t.pending_refresh_digest, COALESCE(d.last_seen_ms, 0)
		FROM access_tokens t
		JOIN accounts a ON a.user_id = t.user_id
		LEFT JOIN devices d ON d.user_id = t.user_id AND d.device_id = t.device_id
		WHERE t.digest = ?`
	// The condition makes the update idempotent across instances seeing one device at
	// the same moment.
	updateDeviceSeen = `
		UPDATE devices SET last_seen_ms = ?, last_seen_ip = ?, last_seen_user_agent = ?
		WHERE user_id = ? AND device_id = ? AND last_seen_ms < ?`
)

// deviceColumns is the column list that scanDevice reads, in its order.
const deviceColumns = `user_id, device_id, display_name, created_ms, last_seen_ms,
	last_seen_ip, last_seen_user_agent`

const (
	selectDevices = `
		SELECT ` + deviceColumns + `
		FROM devices WHERE user_id = ? ORDER BY created_ms, device_id`
	selectDevice = `
		SELECT ` + deviceColumns + `
		FROM devices WHERE user_id = ? AND device_id = ?`
	deleteOtherDevices      = `DELETE FROM devices WHERE user_id = ? AND device_id <> ?`
	deleteOtherTokens       = `DELETE FROM access_tokens WHERE user_id = ? AND device_id <> ?`
	deleteOtherRefresh      = `DELETE FROM refresh_tokens WHERE user_id = ? AND device_id <> ?`
	updateDeviceDisplayName = `
		UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?`
)

// EnsureDevice implements store.Devices.
func (s *Store) EnsureDevice(ctx context.Context, d *store.Device) (bool, error) {
	n, err := s.q.exec(ctx, insertDeviceIfAbsent, d.UserID, d.DeviceID, d.DisplayName,
		d.CreatedMS)
	if err != nil {
		return false, fmt.Errorf("create device %s of %s: %w", d.DeviceID, d.UserID, err)
	}
	return n == 1, nil
}

// DeleteDevice implements store.Devices.
func (s *Store) DeleteDevice(ctx context.Context, user mxid.UserID, device mxid.DeviceID) error {
	return s.Transact(ctx, func(tx store.Store) error {
		if err := tx.DeleteDeviceTokens(ctx, user, device); err != nil {
			return err
		}
		if _, err := tx.(*Store).q.exec(ctx, deleteDevice, user, device); err != nil {
			return fmt.Errorf("delete device %s of %s: %w", device, user, err)
		}
		return nil
	})
}

// DeleteAllDevices implements store.Devices.
func (s *Store) DeleteAllDevices(ctx context.Context, user mxid.UserID) error {
	return s.Transact(ctx, func(tx store.Store) error {
		q := tx.(*Store).q
		if _, err := q.exec(ctx, deleteAllTokens, user); err != nil {
			return fmt.Errorf("delete tokens of %s: %w", user, err)
		}
		if _, err := q.exec(ctx, deleteAllRefresh, user); err != nil {
			return fmt.Errorf("delete refresh tokens of %s: %w", user, err)
		}
		if _, err := q.exec(ctx, deleteLoginTokens, user); err != nil {
			return fmt.Errorf("delete login tokens of %s: %w", user, err)
		}
		if _, err := q.exec(ctx, deleteAllDevices, user); err != nil {
			return fmt.Errorf("delete devices of %s: %w", user, err)
		}
		return nil
	})
}

// DeleteOtherDevices implements store.Devices.
func (s *Store) DeleteOtherDevices(
	ctx context.Context, user mxid.UserID, keep mxid.DeviceID,
) error {
	return s.Transact(ctx, func(tx store.Store) error {
		q := tx.(*Store).q
		if _, err := q.exec(ctx, deleteOtherTokens, user, keep); err != nil {
			return fmt.Errorf("delete tokens of %s but device %s: %w", user, keep, err)
		}
		if _, err := q.exec(ctx, deleteOtherRefresh, user, keep); err != nil {
			return fmt.Errorf("delete refresh tokens of %s but device %s: %w", user, keep,
				err)
		}
		if _, err := q.exec(ctx, deleteLoginTokens, user); err != nil {
			return fmt.Errorf("delete login tokens of %s: %w", user, err)
		}
		if _, err := q.exec(ctx, deleteOtherDevices, user, keep); err != nil {
			return fmt.Errorf("delete devices of %s but %s: %w", user, keep, err)
		}
		return nil
	})
}

// DeleteDeviceTokens implements store.Devices.
func (s *Store) DeleteDeviceTokens(
	ctx context.Context, user mxid.UserID, device mxid.DeviceID,
) error {
	return s.Transact(ctx, func(tx store.Store) error {
		q := tx.(*Store).q
		if _, err := q.exec(ctx, deleteDeviceTokens, user, device); err != nil {
			return fmt.Errorf("delete tokens of device %s of %s: %w", device, user, err)
		}
		if _, err := q.exec(ctx, deleteDeviceRefresh, user, device); err != nil {
			return fmt.Errorf("delete refresh tokens of device %s of %s: %w", device, user,
				err)
		}
		return nil
	})
}

// Devices implements store.Devices.
func (s *Store) Devices(ctx context.Context, user mxid.UserID) ([]store.Device, error) {
	rs, err := s.q.query(ctx, selectDevices, user)
	if err != nil {
		return nil, fmt.Errorf("list devices of %s: %w", user, err)
	}
	defer rs.Close()

	var out []store.Device
	for rs.Next() {
		var d store.Device
		if err := scanDevice(rs, &d); err != nil {
			return nil, fmt.Errorf("list devices of %s: %w", user, err)
		}
		out = append(out, d)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list devices of %s: %w", user, err)
	}
	return out, nil
}

// Device implements store.Devices.
func (s *Store) Device(
	ctx context.Context, user mxid.UserID, device mxid.DeviceID,
) (*store.Device, error) {
	var d store.Device
	if err := scanDevice(s.q.queryRow(ctx, selectDevice, user, device), &d); err != nil {
		return nil, fmt.Errorf("read device %s of %s: %w", device, user, err)
	}
	return &d, nil
}

// SetDeviceDisplayName implements store.Devices.
func (s *Store) SetDeviceDisplayName(
	ctx context.Context, user mxid.UserID, device mxid.DeviceID, name *string,
) error {
	n, err := s.q.exec(ctx, updateDeviceDisplayName, name, user, device)
	if err != nil {
		return fmt.Errorf("rename device %s of %s: %w", device, user, err)
	}
	if n == 0 {
		return fmt.Errorf("rename device %s of %s: %w", device, user, store.ErrNotFound)
	}
	return nil
}

// scanDevice reads a row of deviceColumns into d.
func scanDevice(r row, d *store.Device) error {
	return r.Scan(&d.UserID, &d.DeviceID, &d.DisplayName, &d.CreatedMS, &d.LastSeenMS,
		&d.LastSeenIP, &d.LastSeenUserAgent)
}

// CreateAccessToken implements store.Devices.
func (s *Store) CreateAccessToken(ctx context.Context, t *store.AccessToken) error {
	_, err := s.q.exec(ctx, insertAccessToken, t.Digest, t.UserID, t.DeviceID, t.CreatedMS,
		t.ExpiresMS, nullBytes(t.PendingRefresh))
	return s.conflictOr(err, fmt.Sprintf("store access token of %s", t.UserID))
}

// TouchDevice implements store.Devices.
func (s *Store) TouchDevice(ctx context.Context, seen *store.Device, olderThanMS int64) error {
	_, err := s.q.exec(ctx, updateDeviceSeen, seen.LastSeenMS, seen.LastSeenIP,
		seen.LastSeenUserAgent, seen.UserID, seen.DeviceID, olderThanMS)
	if err != nil {
		return fmt.Errorf("record that device %s of %s was seen: %w", seen.DeviceID,
			seen.UserID, err)
	}
	return nil
}

// RequesterByToken implements store.Devices.
func (s *Store) RequesterByToken(ctx context.Context, digest []byte) (*store.Requester, error) {
	var r store.Requester
	err := scanAccount(s.q.queryRow(ctx, selectRequesterByToken, digest), &r.Account,
		&r.DeviceID, &r.TokenDigest, &r.ExpiresMS, &r.PendingRefresh, &r.LastSeenMS)
	if err != nil {
		return nil, fmt.Errorf("look up access token: %w", err)
	}

	// The index found the row; the comparison that decides is constant-time.
	if subtle.ConstantTimeCompare(r.TokenDigest, digest) != 1 {
		return nil, fmt.Errorf("look up access token: %w", store.ErrNotFound)
	}
	return &r, nil
}
