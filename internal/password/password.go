// Package password hashes and verifies account passwords: argon2id for every new hash,
// and bcrypt for hashes imported from Synapse or Dendrite.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password does not match")

// Params are the argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// Hasher makes and checks password hashes with one set of argon2id parameters.
type Hasher struct {
	params Params
	// dummy is a hash of a random password, verified when an account does not exist so
	// that a failed login costs the same either way.
	dummy string
	// observe receives the duration of each hash and verification; nil for none.
	observe func(operation string, d time.Duration)
	// slots bounds how many argon2 computations run at once, so that a burst of
	// requests queues for CPU instead of taking memory_kib each at the same moment.
	slots chan struct{}
}

// NewHasher returns a Hasher that hashes with p.
func NewHasher(p Params) *Hasher {
	h := &Hasher{params: p, slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	h.dummy = h.Hash(rand.Text())
	return h
}

// Observe makes h report the duration of every hash ("hash") and verification
// ("verify") to fn, for metrics. Call it before h is in use.
func (h *Hasher) Observe(fn func(operation string, d time.Duration)) { h.observe = fn }

// timed reports the time since start as operation, if h has an observer.
func (h *Hasher) timed(operation string, start time.Time) {
	if h.observe != nil {
		h.observe(operation, time.Since(start))
	}
}

// Hash returns the PHC-format argon2id hash of password with a fresh random salt.
func (h *Hasher) Hash(password string) string {
	defer h.timed("hash", time.Now())

	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails

	p := h.params
	key := h.idKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism,
		keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB,
		p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify checks password against hash, which may be argon2id (PHC format) or bcrypt
// ($2a$, $2b$, $2y$). It returns ErrMismatch for a wrong password or an empty hash, and
// another error for a hash it cannot read. needsRehash is true when the password was
// right but the hash uses bcrypt or other parameters than h's.
func (h *Hasher) Verify(hash, password string) (needsRehash bool, err error) {
	defer h.timed("verify", time.Now())

	switch {
	case hash == "":
		// No password (a guest, an application-service user): spend the time of a
		// verification anyway, so that timing does not tell such accounts apart.
		return false, h.VerifyNothing(password)
	case strings.HasPrefix(hash, "$argon2id$"):
		return h.verifyArgon2(hash, password)
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"),
		strings.HasPrefix(hash, "$2y$"):
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, ErrMismatch
		}
		if err != nil {
			return false, fmt.Errorf("verify bcrypt hash: %w", err)
		}
		return true, nil
	}
	return false, fmt.Errorf("verify password: unknown hash format %.10q", hash)
}

// idKey runs argon2id in one of the hasher's slots.
func (h *Hasher) idKey(pw, salt []byte, iterations, memory uint32, threads uint8,
	keyLen uint32) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return argon2.IDKey(pw, salt, iterations, memory, threads, keyLen)
}

// VerifyNothing spends the time of one verification and returns ErrMismatch; call it
// when there is no account, so that timing does not tell whether one exists.
func (h *Hasher) VerifyNothing(password string) error {
	defer h.timed("verify", time.Now())

	_, _ = h.verifyArgon2(h.dummy, password)
	return ErrMismatch
}

func (h *Hasher) verifyArgon2(hash, password string) (bool, error) {
	var (
		version int
		p       Params
	)
	parts := strings.Split(hash, "$") // "", "argon2id", "v=..", "m=..", salt, key
	if len(parts) != 6 {
		return false, fmt.Errorf("verify argon2id hash: %d fields, want 6", len(parts))
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil ||
		version != argon2.Version {
		return false, fmt.Errorf("verify argon2id hash: unsupported version %q", parts[2])
	}
	_, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations,
		&p.Parallelism)
	if err != nil {
		return false, fmt.Errorf("verify argon2id hash: parameters %q: %w", parts[3], err)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("verify argon2id hash: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("verify argon2id hash: key: %w", err)
	}

	got := h.idKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism,
		uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, ErrMismatch
	}
	return p != h.params, nil
}
