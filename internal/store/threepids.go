package store

import (
	"context"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// ValidationSession is the server side of one 3PID validation session (a sid): proof,
// in progress or done, that someone controls an email address or phone number. It
// belongs to the client that holds its client secret and serves one purpose, such as
// registering or resetting a password, once.
type ValidationSession struct {
	SID string
	// Medium is "email" or "msisdn".
	Medium string
	// Address is the canonical address: a case-folded email address, or an MSISDN.
	Address string
	// Purpose is the UIA operation that may use the session, such as "register".
	Purpose string
	// ClientSecretDigest is the SHA-256 of the client secret.
	ClientSecretDigest []byte
	// TokenDigest and CodeDigest are the SHA-256 of the link token and of the code sent
	// in the last message; a resend replaces both.
	TokenDigest []byte
	CodeDigest  []byte
	// SendAttempt is the highest send_attempt for which a message went out.
	SendAttempt int64
	// NextLink is where the link redirects after validation; "" for nowhere.
	NextLink string
	// FailedAttempts counts the tokens submitted since the last message.
	FailedAttempts int64
	CreatedMS      int64
	// ExpiresMS ends the session: it restarts with every message and at validation.
	ExpiresMS int64
	// ValidatedMS is when the token was submitted; 0 before.
	ValidatedMS int64
	// Consumed is set once an operation used the validated address.
	Consumed bool
	// UIASessionID is the UIA session whose stage consumed it, or "".
	UIASessionID string
}

// ValidationKey is what identifies a validation session to its client besides the sid:
// requestToken with the same key finds the same session.
type ValidationKey struct {
	Medium, Address, Purpose string
	ClientSecretDigest       []byte
}

// ValidationSend is a message about to go out for a session.
type ValidationSend struct {
	SID string
	// Attempt is the request's send_attempt; the send happens only above the stored one.
	Attempt                 int64
	TokenDigest, CodeDigest []byte
	NextLink                string
	ExpiresMS               int64
}

// ThreePID is an email address or phone number added to an account (an
// administrative contact, not an identity-server binding). An address belongs to at
// most one account.
type ThreePID struct {
	UserID      mxid.UserID
	Medium      string
	Address     string
	ValidatedMS int64
	AddedMS     int64
}

// ValidationSessions stores 3PID validation sessions.
type ValidationSessions interface {
	// CreateValidationSession inserts v; ErrConflict when its key already has a
	// session.
	CreateValidationSession(ctx context.Context, v *ValidationSession) error
	// ValidationSession returns the session with this sid, or ErrNotFound.
	ValidationSession(ctx context.Context, sid string) (*ValidationSession, error)
	// ValidationSessionByKey returns the session of key, or ErrNotFound.
	ValidationSessionByKey(ctx context.Context, key ValidationKey) (*ValidationSession, error)
	// DeleteValidationSession removes a session; a missing one is no error.
	DeleteValidationSession(ctx context.Context, sid string) error
	// RecordValidationSend stores a new message's token, code, next link and expiry and
	// resets the failed attempts, if send.Attempt is above the session's send attempt
	// and the session is neither validated nor consumed; it reports whether it did.
	RecordValidationSend(ctx context.Context, send *ValidationSend) (bool, error)
	// RevertValidationSend puts a session's send attempt back from attempt to previous
	// after its message could not be sent, so that the client may ask again.
	RevertValidationSend(ctx context.Context, sid string, attempt, previous int64) error
	// CountValidationAttempt counts one submitted token if fewer than max were; it
	// reports false, counting nothing, when max were.
	CountValidationAttempt(ctx context.Context, sid string, max int64) (bool, error)
	// MarkValidated records the validation of an unconsumed session at atMS, sets its
	// new expiry and clears its failed attempts; ErrConflict when it was consumed.
	MarkValidated(ctx context.Context, sid string, atMS, expiresMS int64) error
	// ConsumeValidationSession marks a validated session used, by the UIA session
	// uiaSessionID ("" for none); ErrConflict when it is consumed or not validated.
	ConsumeValidationSession(ctx context.Context, sid, uiaSessionID string) error
	// ValidationSessionsUsedBy returns the sessions consumed by a UIA session.
	ValidationSessionsUsedBy(ctx context.Context, uiaSessionID string) (
		[]ValidationSession, error)
	// DeleteExpiredValidationSessions removes the sessions that expired before
	// beforeMS and returns how many.
	DeleteExpiredValidationSessions(ctx context.Context, beforeMS int64) (int, error)
}

// ThreePIDs stores the 3PIDs added to accounts.
type ThreePIDs interface {
	// AddThreePID adds t to its account; ErrConflict when any account holds the
	// address.
	AddThreePID(ctx context.Context, t *ThreePID) error
	// ThreePID returns the 3PID with this medium and address, or ErrNotFound.
	ThreePID(ctx context.Context, medium, address string) (*ThreePID, error)
	// ThreePIDsOf returns user's 3PIDs, oldest first.
	ThreePIDsOf(ctx context.Context, user mxid.UserID) ([]ThreePID, error)
	// DeleteThreePID removes a 3PID from user's account; ErrNotFound when user does
	// not hold it.
	DeleteThreePID(ctx context.Context, user mxid.UserID, medium, address string) error
	// DeleteThreePIDsOf removes every 3PID of user and returns how many.
	DeleteThreePIDsOf(ctx context.Context, user mxid.UserID) (int, error)
}

// ThreePIDBinding records that a user bound an address on an identity server through
// POST /account/3pid/bind, so that the homeserver can unbind it there later.
type ThreePIDBinding struct {
	UserID  mxid.UserID
	Medium  string
	Address string
	// IDServer is the identity server as the client named it, "host" or "host:port".
	IDServer string
	BoundMS  int64
}

// ThreePIDBindings stores the identity-server bindings made through this server.
type ThreePIDBindings interface {
	// AddThreePIDBinding records b; a binding already recorded gets b's time.
	AddThreePIDBinding(ctx context.Context, b *ThreePIDBinding) error
	// ThreePIDBindingsOf returns user's bindings, oldest first.
	ThreePIDBindingsOf(ctx context.Context, user mxid.UserID) ([]ThreePIDBinding, error)
	// DeleteThreePIDBinding removes the binding of b's user, medium, address and
	// identity server; a missing one is no error.
	DeleteThreePIDBinding(ctx context.Context, b *ThreePIDBinding) error
}
