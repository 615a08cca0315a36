package store

import (
	"context"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// RefreshToken is the stored form of a refresh token (spec v1.3): its SHA-256 digest,
// never the token, bound to one device and paired with the access token issued with it.
//
// Refreshing replaces a token by a successor, but the replaced token keeps working
// until the successor or its access token is first used, so that a client whose answer
// was lost can retry. That first use confirms the rotation: the replaced token is then
// revoked, and its row stays, marked Revoked, so that presenting it again is recognised
// as reuse.
type RefreshToken struct {
	Digest   []byte
	UserID   mxid.UserID
	DeviceID mxid.DeviceID
	// AccessDigest is the digest of the access token issued with this refresh token.
	AccessDigest []byte
	// Prev is the refresh token this one replaced while that one still works, that is
	// until this token or its access token is first used; nil once the rotation is
	// confirmed, and for a refresh token issued at login.
	Prev []byte
	// Next is the latest refresh token issued in exchange for this one; nil before any.
	Next []byte
	// Revoked is set once the successor was used; such a token refreshes nothing.
	Revoked bool
	// CreatedMS is when the token was issued.
	CreatedMS int64
	// ExpiresMS is when the token stops working, 0 for never; for a revoked token, when
	// its row is dropped.
	ExpiresMS int64
}

// Rotation is one refresh: the refresh token presented and the pair issued for it.
type Rotation struct {
	// Old is the digest of the refresh token presented.
	Old []byte
	// Access is the new access token; the store marks it pending (PendingRefresh) until
	// its rotation is confirmed. Its user and device are taken from the old token.
	Access *AccessToken
	// Refresh is the new refresh token; the store sets its user, device, access digest
	// and Prev.
	Refresh *RefreshToken
	// NowMS is the time of the refresh.
	NowMS int64
	// RevokedUntilMS is when the row of a token revoked by this call is dropped, if the
	// token has no expiry of its own.
	RevokedUntilMS int64
}

// RotationOutcome says what a refresh did.
type RotationOutcome int

// The outcomes of RotateRefreshToken.
const (
	// Rotated: the new pair was stored.
	Rotated RotationOutcome = iota + 1
	// RotationUnknown: no such refresh token.
	RotationUnknown
	// RotationExpired: the refresh token has expired.
	RotationExpired
	// RotationReused: the refresh token had been replaced and its successor used; every
	// token of its device has been revoked.
	RotationReused
)

// LoginToken is the stored form of a single-use login token (m.login.token, spec v1.7):
// its SHA-256 digest and the user it logs in.
type LoginToken struct {
	Digest    []byte
	UserID    mxid.UserID
	CreatedMS int64
	ExpiresMS int64
}

// Tokens stores refresh tokens and login tokens. Access tokens are in Devices; deleting
// a device there deletes its refresh tokens too.
type Tokens interface {
	// CreateRefreshToken stores t, as issued at login; ErrConflict when the digest
	// exists.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// RefreshToken returns the refresh token with this digest, or ErrNotFound.
	RefreshToken(ctx context.Context, digest []byte) (*RefreshToken, error)
	// RotateRefreshToken performs the refresh r in one transaction. An expired or
	// unknown token changes nothing. A revoked token (reuse) deletes every access and
	// refresh token of its device. Otherwise the new pair is stored, replacing an unused
	// successor of an earlier refresh of the same token, and, when the old token was
	// itself unconfirmed, the rotation that issued it is confirmed first (see
	// ConfirmRotation).
	RotateRefreshToken(ctx context.Context, r *Rotation) (RotationOutcome, error)
	// ConfirmRotation records the first use of the access token paired with the refresh
	// token successor: the token that successor replaced is revoked (its row kept until
	// revokedUntilMS if it had no expiry) and its access token deleted, and the pair's
	// pending marks are cleared. It reports false when successor no longer exists (a
	// retried refresh replaced it).
	ConfirmRotation(ctx context.Context, successor []byte, revokedUntilMS int64) (bool, error)

	// CreateLoginToken stores t; ErrConflict when the digest exists.
	CreateLoginToken(ctx context.Context, t *LoginToken) error
	// ConsumeLoginToken deletes the login token with this digest and returns it, expired
	// or not; ErrNotFound when there is none, so that a token serves at most once.
	ConsumeLoginToken(ctx context.Context, digest []byte) (*LoginToken, error)
	// DeleteExpiredLoginTokens removes the login tokens that expired at or before nowMS
	// and returns how many.
	DeleteExpiredLoginTokens(ctx context.Context, nowMS int64) (int64, error)
}
