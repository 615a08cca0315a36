package password

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var cheap = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func TestHashVerify(t *testing.T) {
	h := NewHasher(cheap)
	hash := h.Hash("übers3kr1t")

	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id with the configured parameters", hash)
	}
	if h.Hash("übers3kr1t") == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if rehash, err := h.Verify(hash, "übers3kr1t"); err != nil || rehash {
		t.Errorf("Verify(right password) = %v, %v; want false, nil", rehash, err)
	}
	if _, err := h.Verify(hash, "ubers3kr1t"); !errors.Is(err, ErrMismatch) {
		t.Errorf("Verify(wrong password) = %v; want ErrMismatch", err)
	}
}

func TestVerifyOlderParamsNeedsRehash(t *testing.T) {
	old := NewHasher(cheap).Hash("pw")
	h := NewHasher(Params{MemoryKiB: 128, Iterations: 1, Parallelism: 1})

	rehash, err := h.Verify(old, "pw")
	if err != nil || !rehash {
		t.Errorf("Verify(hash with older parameters) = %v, %v; want true, nil", rehash, err)
	}
}

func TestVerifyBcrypt(t *testing.T) {
	h := NewHasher(cheap)
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		b, err := bcrypt.GenerateFromPassword([]byte("imported"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		hash := prefix + string(b[4:])

		if rehash, err := h.Verify(hash, "imported"); err != nil || !rehash {
			t.Errorf("%s: Verify(right) = %v, %v; want true, nil", prefix, rehash, err)
		}
		if _, err := h.Verify(hash, "wrong"); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: Verify(wrong) = %v; want ErrMismatch", prefix, err)
		}
	}
}

func TestVerifyBadHashes(t *testing.T) {
	h := NewHasher(cheap)
	tests := []struct {
		name, hash string
		mismatch   bool
	}{
		{"empty hash means no password", "", true},
		{"unknown scheme", "$md5$abc", false},
		{"truncated argon2id", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA", false},
		{"bad parameters", "$argon2id$v=19$m=x,t=1,p=1$c2FsdA$a2V5", false},
		{"other version", "$argon2id$v=16$m=64,t=1,p=1$c2FsdA$a2V5", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Verify(tt.hash, "pw")
			if err == nil {
				t.Fatal("Verify succeeded")
			}
			if got := errors.Is(err, ErrMismatch); got != tt.mismatch {
				t.Errorf("errors.Is(%v, ErrMismatch) = %v, want %v", err, got, tt.mismatch)
			}
		})
	}
}

func TestVerifyNothing(t *testing.T) {
	if err := NewHasher(cheap).VerifyNothing("pw"); !errors.Is(err, ErrMismatch) {
		t.Errorf("VerifyNothing = %v, want ErrMismatch", err)
	}
}
