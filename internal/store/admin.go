package store

import (
	"context"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// AccountDetails is an account with what only operators see of it.
type AccountDetails struct {
	Account
	// Erased is set when the account was deactivated with erasure.
	Erased bool
	// UserType is "" for an ordinary user, or a type such as "bot" or "support" that an
	// operator gave the account.
	UserType string
	// LastSeenMS is the latest last-seen time of the account's devices, 0 for none.
	LastSeenMS int64
}

// AccountOrder names the key that ListAccounts sorts by; ties are broken by user ID.
type AccountOrder string

// The keys ListAccounts sorts by.
const (
	OrderByUserID      AccountOrder = "user_id"
	OrderByCreated     AccountOrder = "created"
	OrderByAdmin       AccountOrder = "admin"
	OrderByDeactivated AccountOrder = "deactivated"
	OrderByLocked      AccountOrder = "locked"
	OrderByGuest       AccountOrder = "guest"
	OrderByUserType    AccountOrder = "user_type"
	OrderByLastSeen    AccountOrder = "last_seen"
)

// AccountFilter selects a page of accounts. Its zero value lists the first page of
// active, unlocked, non-guest accounts of every admin status by user ID; Limit 0 means
// no limit.
type AccountFilter struct {
	// UserIDContains keeps accounts whose user ID contains it.
	UserIDContains string
	// LocalpartContains keeps accounts whose localpart contains it.
	LocalpartContains string
	// Guests, Deactivated and Locked include guest, deactivated and locked accounts.
	Guests      bool
	Deactivated bool
	Locked      bool
	// Admins keeps only admins when true, only non-admins when false; nil keeps both.
	Admins *bool
	// OrderBy is the sort key; "" sorts by user ID.
	OrderBy    AccountOrder
	Descending bool
	Offset     int64
	Limit      int64
}

// AccountUpdate changes the flags of an account; a nil field is left as it is.
type AccountUpdate struct {
	Admin     *bool
	Locked    *bool
	Suspended *bool
	// Reactivate clears the deactivated and erased marks. Deactivation itself goes
	// through Accounts.Deactivate.
	Reactivate bool
	// UserType sets the user type; a pointer to "" clears it.
	UserType *string
}

// AccountAdmin holds what operators' tools read and change of accounts beyond what
// clients do.
type AccountAdmin interface {
	// ListAccounts returns the page of accounts that f selects and how many accounts
	// match f in all.
	ListAccounts(ctx context.Context, f AccountFilter) ([]AccountDetails, int64, error)
	// AccountDetails returns one account with its operator-only fields, or ErrNotFound.
	AccountDetails(ctx context.Context, user mxid.UserID) (*AccountDetails, error)
	// UpdateAccount applies u to user's account; ErrNotFound when there is none.
	UpdateAccount(ctx context.Context, user mxid.UserID, u AccountUpdate) error
}

// SharedSecretNonces stores the single-use nonces of shared-secret registration, so
// that any instance can accept a nonce that another one issued.
type SharedSecretNonces interface {
	// CreateRegistrationNonce stores nonce, valid until expiresMS.
	CreateRegistrationNonce(ctx context.Context, nonce string, expiresMS int64) error
	// ConsumeRegistrationNonce deletes nonce if it is valid at nowMS; ErrNotFound when it
	// is unknown, used or expired, so that a nonce serves at most once.
	ConsumeRegistrationNonce(ctx context.Context, nonce string, nowMS int64) error
	// DeleteExpiredRegistrationNonces removes the nonces that expired at or before nowMS
	// and returns how many.
	DeleteExpiredRegistrationNonces(ctx context.Context, nowMS int64) (int64, error)
}
