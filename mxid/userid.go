// Package mxid holds the Matrix identifiers that the server and the client package share:
// user IDs, device IDs and the grammar rules that decide which of them are valid.
//
// The rules follow the Client-Server API appendix on identifier grammar
// (https://spec.matrix.org/v1.13/appendices/#user-identifiers).
package mxid

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxUserIDLength is the longest user ID the spec allows, in bytes, sigil and server
// name included.
const MaxUserIDLength = 255

// UserID is a full Matrix user ID such as "@alice:example.org".
type UserID string

// ErrInvalidUserID is wrapped by every error that ParseUserID returns.
var ErrInvalidUserID = errors.New("invalid user ID")

// NewUserID joins a localpart and a server name into a user ID. It does not validate
// either part; use ValidateLocalpart for new accounts.
func NewUserID(localpart, serverName string) UserID {
	return UserID("@" + localpart + ":" + serverName)
}

// ParseUserID splits a user ID into its localpart and server name. It accepts the
// historical grammar (any code point but ':' and NUL in the localpart, as spec v1.14
// allows for IDs this server did not create) and fails with an error wrapping
// ErrInvalidUserID when the sigil, the colon or the server name is missing, or when the
// ID is longer than MaxUserIDLength bytes.
func ParseUserID(s string) (localpart, serverName string, err error) {
	if len(s) > MaxUserIDLength {
		return "", "", fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidUserID, len(s),
			MaxUserIDLength)
	}
	if !strings.HasPrefix(s, "@") {
		return "", "", fmt.Errorf("%w: %q does not start with @", ErrInvalidUserID, s)
	}

	localpart, serverName, ok := strings.Cut(s[1:], ":")
	if !ok || serverName == "" {
		return "", "", fmt.Errorf("%w: %q has no server name", ErrInvalidUserID, s)
	}
	if strings.ContainsRune(localpart, 0) {
		return "", "", fmt.Errorf("%w: %q contains NUL", ErrInvalidUserID, s)
	}
	return localpart, serverName, nil
}

// Localpart returns the part between the sigil and the first colon, or "" when the ID
// does not parse.
func (u UserID) Localpart() string {
	lp, _, err := ParseUserID(string(u))
	if err != nil {
		return ""
	}
	return lp
}

// ServerName returns the part after the first colon, or "" when the ID does not parse.
func (u UserID) ServerName() string {
	_, sn, err := ParseUserID(string(u))
	if err != nil {
		return ""
	}
	return sn
}

// String returns the user ID as written.
func (u UserID) String() string { return string(u) }

// ValidateLocalpart reports whether localpart may name a new account on serverName: it
// must be non-empty, use only the characters a-z, 0-9 and ._=-/+ and make a user ID of
// at most MaxUserIDLength bytes. The error says which rule failed.
func ValidateLocalpart(localpart, serverName string) error {
	if localpart == "" {
		return errors.New("the localpart is empty")
	}
	for _, r := range localpart {
		if r >= utf8.RuneSelf || !isLocalpartByte(byte(r)) {
			return fmt.Errorf("the localpart contains %q, which is not allowed; "+
				"use only a-z, 0-9 and . _ = - / +", r)
		}
	}
	if n := len(NewUserID(localpart, serverName)); n > MaxUserIDLength {
		return fmt.Errorf("the user ID would be %d bytes long, more than %d", n,
			MaxUserIDLength)
	}
	return nil
}

func isLocalpartByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	case c == '.', c == '_', c == '=', c == '-', c == '/', c == '+':
		return true
	}
	return false
}

// DeviceID names one device (one login session) of a user. The spec allows any string.
type DeviceID string

// String returns the device ID as written.
func (d DeviceID) String() string { return string(d) }

// MaxDeviceIDLength is the longest device ID this project accepts from clients, in bytes.
const MaxDeviceIDLength = 255

// ValidateDeviceID reports whether a client may choose id as a device ID: 1 to
// MaxDeviceIDLength bytes of printable characters without spaces, and not "." or "..",
// which no URL path can address. The spec allows any string; these limits keep IDs
// storable and addressable.
func ValidateDeviceID(id string) error {
	if id == "" || len(id) > MaxDeviceIDLength {
		return fmt.Errorf("a device ID must be 1 to %d bytes long", MaxDeviceIDLength)
	}
	if id == "." || id == ".." {
		return errors.New("a device ID cannot be . or ..")
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("a device ID cannot contain %q", r)
		}
	}
	return nil
}
