package store

import (
	"context"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// RegistrationToken is a token that allows registration (MSC3231).
type RegistrationToken struct {
	Token string
	// UsesAllowed is nil for unlimited uses.
	UsesAllowed *int64
	// Pending counts uses reserved by UIA sessions that have not registered yet.
	Pending int64
	// Completed counts registrations made with the token.
	Completed int64
	// ExpiryMS is nil when the token never expires.
	ExpiryMS  *int64
	CreatedMS int64
	// GrantsAdmin makes the account registered with it an admin (the bootstrap token).
	GrantsAdmin bool
}

// Valid reports whether the token can still be used at nowMS.
func (t *RegistrationToken) Valid(nowMS int64) bool {
	if t.ExpiryMS != nil && *t.ExpiryMS <= nowMS {
		return false
	}
	return t.UsesAllowed == nil || t.Pending+t.Completed < *t.UsesAllowed
}

// RegistrationTokens stores registration tokens and their uses.
type RegistrationTokens interface {
	// CreateRegistrationToken inserts t; ErrConflict when the token exists.
	CreateRegistrationToken(ctx context.Context, t *RegistrationToken) error
	// RegistrationToken returns the token or ErrNotFound.
	RegistrationToken(ctx context.Context, token string) (*RegistrationToken, error)
	// ReserveRegistrationToken adds a pending use if the token is valid at nowMS, in one
	// conditional update; ErrExhausted otherwise.
	ReserveRegistrationToken(ctx context.Context, token string, nowMS int64) error
	// ReleaseRegistrationToken gives a pending use back.
	ReleaseRegistrationToken(ctx context.Context, token string) error
	// CompleteRegistrationToken turns a pending use into a completed one and records
	// that user registered with it at nowMS.
	CompleteRegistrationToken(ctx context.Context, token string, user mxid.UserID,
		nowMS int64) error
	// RegistrationTokens lists the tokens, oldest first; with valid set, only those whose
	// validity at nowMS equals *valid.
	RegistrationTokens(ctx context.Context, valid *bool, nowMS int64) (
		[]RegistrationToken, error)
	// UpdateRegistrationToken writes t's uses allowed and expiry; ErrNotFound when the
	// token does not exist.
	UpdateRegistrationToken(ctx context.Context, t *RegistrationToken) error
	// DeleteRegistrationToken removes a token; ErrNotFound when it does not exist.
	DeleteRegistrationToken(ctx context.Context, token string) error
	// AnyValidRegistrationToken reports whether some token is valid at nowMS.
	AnyValidRegistrationToken(ctx context.Context, nowMS int64) (bool, error)
}
