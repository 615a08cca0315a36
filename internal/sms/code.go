package sms

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// codeSpace is the number of distinct 6-digit codes.
const codeSpace = 1_000_000

// NewCode returns a random 6-digit code, leading zeros kept ("004217"), drawn uniformly
// from all million codes with crypto/rand.
func NewCode() string {
	// Values at or above limit would make the low codes likelier; draw again.
	const limit = (1 << 32) / codeSpace * codeSpace

	var b [4]byte
	for {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%06d", v%codeSpace)
		}
	}
}
