package ratelimit

import (
	"testing"
	"time"
)

func TestAllowEmptiesTheBucketPerKey(t *testing.T) {
	l := New(1, 3, true)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }

	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Errorf("4th event: Allow = %v, %v; want false and a wait of at most 1s", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key shares the bucket")
	}

	now = now.Add(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("no event allowed after the refill time")
	}
}

func TestCheckAndSpend(t *testing.T) {
	l := New(0.5, 2, true)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }

	for range 5 {
		if ok, _ := l.Check("k"); !ok {
			t.Fatal("Check took an event")
		}
	}
	l.Spend("k")
	l.Spend("k")
	ok, wait := l.Check("k")
	if ok || wait != 2*time.Second {
		t.Errorf("after two failures: Check = %v, %v; want false, 2s", ok, wait)
	}
}

func TestDisabled(t *testing.T) {
	l := New(0.001, 1, false)
	for range 100 {
		l.Spend("k")
		if ok, _ := l.Allow("k"); !ok {
			t.Fatal("a disabled limiter refused")
		}
	}
}

func TestTakeAndRefund(t *testing.T) {
	l := New(1, 2, true)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }

	ok1, _, refund1 := l.Take("a")
	ok2, _, _ := l.Take("a")
	ok3, wait, _ := l.Take("a")
	if !ok1 || !ok2 || ok3 || wait <= 0 || wait > time.Second {
		t.Fatalf("takes of a burst of 2: %v %v %v (wait %v); want true, true, false with "+
			"a wait of at most 1s", ok1, ok2, ok3, wait)
	}

	now = now.Add(100 * time.Millisecond) // the attempt takes a while; then it is settled
	refund1()
	if ok, _, _ := l.Take("a"); !ok {
		t.Error("no room after a refund")
	}
	if ok, _, _ := l.Take("a"); ok {
		t.Error("a refused take took an event, or a refund gave back two")
	}

	var none *Limiter
	ok, _, refund := none.Take("a")
	refund()
	if !ok {
		t.Error("a nil limiter refused")
	}
}
