// Package store defines what mxaccounts keeps: the domain records, the storage
// interface per aggregate and the errors every implementation returns. The SQL
// implementations live in store/sqlstore; services use only this package.
package store

import (
	"context"
	"errors"
)

// ErrNotFound means the record asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict means a write would break a uniqueness rule (a taken localpart, a device
// ID in use) or a record changed under a conditional update (a consumed UIA session).
var ErrConflict = errors.New("conflict")

// ErrExhausted means a registration token has no use left, has expired or is unknown.
var ErrExhausted = errors.New("registration token exhausted")

// Store is the whole storage: every aggregate's methods, plus transactions.
type Store interface {
	Accounts
	Devices
	UIASessions
	RegistrationTokens
	Tokens
	ValidationSessions
	ThreePIDs
	ThreePIDBindings
	AccountAdmin
	SharedSecretNonces
	AuditLog
	RateBuckets

	// Transact runs fn in one transaction and commits when fn returns nil; any error
	// rolls everything back and is returned. The Store given to fn must not be used
	// after fn returns.
	Transact(ctx context.Context, fn func(tx Store) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the connections.
	Close() error
}
