// Package token makes the opaque secrets mxaccounts hands out (access tokens and, later,
// refresh and login tokens) and the IDs it generates (devices, UIA sessions).
//
// A secret looks like mxa_at_<52 base32 characters>_<7 character checksum>: the prefix
// tells secret scanners what leaked, and the CRC-32 checksum lets a mistyped or forged
// token be refused without a database read. Only the SHA-256 digest is ever stored.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// Kind is the type prefix of a secret.
type Kind string

// The kinds of secret.
const (
	Access  Kind = "mxa_at_"
	Refresh Kind = "mxa_rt_"
	Login   Kind = "mxa_lt_"
)

const (
	entropyBytes = 32
	bodyLen      = 52 // base32 of 32 bytes, unpadded
	checksumLen  = 7  // base32 of 4 bytes, unpadded
)

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns a fresh secret of the given kind.
func New(kind Kind) string {
	b := make([]byte, entropyBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	body := strings.ToLower(enc.EncodeToString(b))
	return string(kind) + body + "_" + checksum(string(kind)+body)
}

// WellFormed reports whether s has the shape and checksum of a secret of this kind.
func WellFormed(kind Kind, s string) bool {
	if len(s) != len(kind)+bodyLen+1+checksumLen || !strings.HasPrefix(s, string(kind)) {
		return false
	}
	cut := len(s) - checksumLen - 1
	if s[cut] != '_' {
		return false
	}
	return checksum(s[:cut]) == s[cut+1:]
}

// Digest returns the SHA-256 digest under which a secret is stored.
func Digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

func checksum(s string) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE([]byte(s)))
	return strings.ToLower(enc.EncodeToString(b[:]))
}

// DeviceID returns a fresh device ID of ten upper-case letters.
func DeviceID() string {
	return letters(10)
}

// SessionID returns a fresh UIA session ID (opaque-ID grammar, 128 bits of entropy).
func SessionID() string {
	return rand.Text()
}

// RegistrationToken returns a fresh registration token (opaque grammar, 128 bits).
func RegistrationToken() string {
	return rand.Text()
}

// letters returns n random upper-case ASCII letters.
func letters(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		// 256 is not a multiple of 26; the slight bias is harmless for an identifier.
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// ValidationToken returns the token of a 3PID validation link (128 bits, upper-case
// letters and digits, so that it survives mail clients and line breaks).
func ValidationToken() string {
	return rand.Text()
}
