package ratelimit

import (
	"testing"
	"time"
)

// TestOnRejectCountsRefusals checks that the hook hears every refusal of Allow and
// Check, and nothing else.
func TestOnRejectCountsRefusals(t *testing.T) {
	l := New(1, 1, true)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	rejected := 0
	l.OnReject(func() { rejected++ })

	l.Allow("a")   // allowed
	l.Allow("a")   // refused
	l.Check("a")   // refused
	l.Check("b")   // allowed
	l.Spend("b")   // a spend is no refusal
	l.Allow("off") // allowed
	if rejected != 2 {
		t.Errorf("OnReject heard %d refusals, want 2", rejected)
	}

	off := New(1, 1, false)
	off.OnReject(func() { t.Error("a disabled limiter refused") })
	off.Allow("a")
	off.Allow("a")
}
