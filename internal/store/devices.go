package store

import (
	"context"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// Device is one login session of a user.
type Device struct {
	UserID      mxid.UserID
	DeviceID    mxid.DeviceID
	DisplayName *string
	CreatedMS   int64
	// LastSeenMS, LastSeenIP and LastSeenUserAgent describe the request that last
	// recorded the device as seen; 0 and "" before its first one. LastSeenUserAgent is
	// also "" when that request had no User-Agent.
	LastSeenMS        int64
	LastSeenIP        string
	LastSeenUserAgent string
}

// AccessToken is the stored form of an access token: its SHA-256 digest, never the token.
type AccessToken struct {
	Digest    []byte
	UserID    mxid.UserID
	DeviceID  mxid.DeviceID
	CreatedMS int64
	// ExpiresMS is when the token stops working; 0 means never.
	ExpiresMS int64
	// PendingRefresh is the digest of the refresh token issued with this access token by
	// a refresh that is not confirmed yet: the first use of either token confirms it
	// (Tokens.ConfirmRotation). nil otherwise.
	PendingRefresh []byte
}

// Requester is who an access token speaks for: the account and the device it belongs to.
type Requester struct {
	Account
	DeviceID mxid.DeviceID
	// TokenDigest is the digest the requester was found by.
	TokenDigest []byte
	// ExpiresMS is when the token stops working; 0 means never.
	ExpiresMS int64
	// PendingRefresh is the token's AccessToken.PendingRefresh: when set, this request is
	// the first use of a refreshed access token.
	PendingRefresh []byte
	// LastSeenMS is when the token's device was last recorded as seen.
	LastSeenMS int64
	// AppService is the ID of the application service whose as_token made the request,
	// acting as Account; "" for an ordinary access token.
	AppService string
}

// Devices stores devices and their access tokens. Each deletion of tokens below removes
// the refresh tokens of the same devices too.
type Devices interface {
	// EnsureDevice creates the device d unless the user already has one with that ID,
	// in which case it is kept as it is (its display name included). It reports
	// whether it created one.
	EnsureDevice(ctx context.Context, d *Device) (created bool, err error)
	// DeleteDevice removes the device and every token issued to it. Deleting a device
	// that does not exist is not an error.
	DeleteDevice(ctx context.Context, user mxid.UserID, device mxid.DeviceID) error
	// DeleteAllDevices removes every device of user and every token issued to them, with
	// the user's unused login tokens.
	DeleteAllDevices(ctx context.Context, user mxid.UserID) error
	// DeleteOtherDevices removes every device of user but keep, with their tokens and the
	// user's unused login tokens.
	DeleteOtherDevices(ctx context.Context, user mxid.UserID, keep mxid.DeviceID) error
	// DeleteDeviceTokens removes the tokens of one device and keeps the device.
	DeleteDeviceTokens(ctx context.Context, user mxid.UserID, device mxid.DeviceID) error
	// Devices lists the devices of user, oldest first.
	Devices(ctx context.Context, user mxid.UserID) ([]Device, error)
	// Device returns one device of user, or ErrNotFound.
	Device(ctx context.Context, user mxid.UserID, device mxid.DeviceID) (*Device, error)
	// SetDeviceDisplayName renames a device; ErrNotFound when the user has no such
	// device.
	SetDeviceDisplayName(ctx context.Context, user mxid.UserID, device mxid.DeviceID,
		name *string) error
	// TouchDevice records the LastSeenMS, LastSeenIP and LastSeenUserAgent of seen on
	// the device of seen's UserID and DeviceID, unless that device was already recorded
	// as seen at or after olderThanMS. A device that does not exist is not an error.
	TouchDevice(ctx context.Context, seen *Device, olderThanMS int64) error
	// CreateAccessToken stores t.
	CreateAccessToken(ctx context.Context, t *AccessToken) error
	// RequesterByToken returns the owner of the token with this digest, or ErrNotFound.
	RequesterByToken(ctx context.Context, digest []byte) (*Requester, error)
}
