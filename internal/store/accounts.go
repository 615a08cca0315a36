package store

import (
	"context"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// AccountKind says what kind of user an account belongs to.
type AccountKind string

// The account kinds.
const (
	KindUser       AccountKind = "user"
	KindGuest      AccountKind = "guest"
	KindAppService AccountKind = "appservice"
)

// Account is the login record of one local user ID.
type Account struct {
	UserID mxid.UserID
	// Localpart is unique; new localparts are lower case by grammar.
	Localpart string
	// PasswordHash is a PHC-format argon2id or a bcrypt hash; empty means no password.
	PasswordHash string
	Kind         AccountKind
	Admin        bool
	CreatedMS    int64
	Deactivated  bool
	Locked       bool
	Suspended    bool
	// AppServiceID names the application service that registered the account, or "".
	AppServiceID string
}

// Accounts stores accounts.
type Accounts interface {
	// CreateAccount inserts a; ErrConflict when the localpart is taken.
	CreateAccount(ctx context.Context, a *Account) error
	// AccountByLocalpart returns the account or ErrNotFound.
	AccountByLocalpart(ctx context.Context, localpart string) (*Account, error)
	// LockAccount reads user's account inside a transaction and keeps others from
	// changing it until the transaction ends; ErrNotFound when no such account.
	LockAccount(ctx context.Context, user mxid.UserID) (*Account, error)
	// LocalpartTaken reports whether any account, deactivated ones included, holds
	// localpart.
	LocalpartTaken(ctx context.Context, localpart string) (bool, error)
	// CountPeople returns how many accounts exist that are not application services'
	// own (their senders), deactivated ones included.
	CountPeople(ctx context.Context) (int64, error)
	// CountAccounts returns how many accounts exist, of every kind.
	CountAccounts(ctx context.Context) (int64, error)
	// Deactivate marks user deactivated for good and drops the password hash; with erase
	// it also marks the account erased (for good too), keeping only what reserves the
	// user ID. ErrNotFound when no such account.
	Deactivate(ctx context.Context, user mxid.UserID, erase bool) error
	// RecordTermsAcceptance records that user accepted version of the policy at atMS.
	RecordTermsAcceptance(ctx context.Context, user mxid.UserID, policy, version string,
		atMS int64) error
	// TermsAcceptances returns the policy versions user accepted: policy → versions.
	TermsAcceptances(ctx context.Context, user mxid.UserID) (map[string][]string, error)
	// SetPasswordHash replaces the hash of user's password; ErrNotFound when no such
	// account exists.
	SetPasswordHash(ctx context.Context, user mxid.UserID, hash string) error
	// UpgradeGuest turns user's guest account into a user account with the password
	// hash; ErrNotFound unless user is a guest whose account is neither deactivated
	// nor locked.
	UpgradeGuest(ctx context.Context, user mxid.UserID, hash string) error
}
