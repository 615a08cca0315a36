package password

import (
	"testing"
	"time"
)

// TestObserve checks that the observer hears every hash and verification, and which it
// was.
func TestObserve(t *testing.T) {
	h := NewHasher(cheap)
	ops := map[string]int{}
	h.Observe(func(op string, d time.Duration) {
		if d <= 0 {
			t.Errorf("%s took %v", op, d)
		}
		ops[op]++
	})

	hash := h.Hash("correct horse")
	_, _ = h.Verify(hash, "correct horse")
	_, _ = h.Verify(hash, "wrong")
	_ = h.VerifyNothing("anything")
	if ops["hash"] != 1 || ops["verify"] != 3 {
		t.Errorf("observed %v, want 1 hash and 3 verifications", ops)
	}
}
