package store

import (
	"context"
	"encoding/json"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// UIASession is the server side of one User-Interactive Authentication session.
type UIASession struct {
	ID string
	// Operation names what the session authorises, such as "register".
	Operation string
	// UserID is the user the session acts for, once known.
	UserID mxid.UserID
	// Method and Path are those of the first request; later ones must match.
	Method string
	Path   string
	// Params is the first request's JSON body without auth and without password.
	Params json.RawMessage
	// PasswordHash is the hash of the password the first request carried, if any.
	PasswordHash string
	// Completed lists the stages done, in order.
	Completed []string
	// RegistrationToken is the token whose use this session has reserved, if any.
	RegistrationToken string
	CreatedMS         int64
	ExpiresMS         int64
	// Consumed is set once the operation ran; a consumed session never serves again.
	Consumed bool
}

// UIASessions stores UIA sessions.
type UIASessions interface {
	// CreateUIASession inserts s; ErrConflict when the ID exists.
	CreateUIASession(ctx context.Context, s *UIASession) error
	// UIASession returns the session or ErrNotFound.
	UIASession(ctx context.Context, id string) (*UIASession, error)
	// UpdateUIASession writes the mutable fields of s (user, params, password hash,
	// completed stages, reserved token); ErrConflict when the session was consumed.
	UpdateUIASession(ctx context.Context, s *UIASession) error
	// ConsumeUIASession marks the session consumed; ErrConflict when it already was.
	ConsumeUIASession(ctx context.Context, id string) error
	// DeleteExpiredUIASessions removes sessions that expired before nowMS and gives
	// back the registration-token uses they had reserved but not spent. It returns
	// how many sessions it removed.
	DeleteExpiredUIASessions(ctx context.Context, nowMS int64) (int, error)
}
