// Package ratelimit keeps token-bucket limiters per key (a client address, an account),
// so that endpoints that can be brute-forced answer 429 M_LIMIT_EXCEEDED.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limiter holds one bucket per key, in memory. A bucket follows the generic cell rate
// algorithm, as Shared's do: it is one time, when it will be full again; taking an
// event moves that time one interval later, from now if it was full, and the bucket has
// room while that time lies at most burst-1 intervals ahead. Unlike a token count, this
// lets an event be given back (Take's refund). A disabled or nil Limiter allows
// everything.
//
// TODO(ratelimit): the buckets are per instance, so n instances behind one address allow
// a client n times the rate; Shared, which bounds password guessing per account, keeps
// its buckets in the database, and the per-address limits could move there too at the
// cost of a write per limited request.
type Limiter struct {
	interval time.Duration
	// slack is how far ahead a bucket's time may lie while it has room: burst-1
	// intervals.
	slack   time.Duration
	enabled bool

	// onReject is called for every refusal; nil for none.
	onReject func()

	mu sync.Mutex
	// fullAt holds each key's time; a key without one has a full bucket.
	fullAt    map[string]time.Time
	lastSweep time.Time
	now       func() time.Time
}

// New returns a Limiter that refills perSecond events and holds burst.
func New(perSecond float64, burst int, enabled bool) *Limiter {
	interval := time.Duration(math.Ceil(float64(time.Second) / perSecond))
	return &Limiter{interval: interval, slack: time.Duration(max(burst, 1)-1) * interval,
		enabled: enabled, fullAt: map[string]time.Time{}, now: time.Now}
}

// OnReject makes l call fn each time Allow, Check or Take refuses, for metrics. Call it
// before l is in use.
func (l *Limiter) OnReject(fn func()) { l.onReject = fn }

// Allow takes one event from key's bucket. When the bucket is empty it takes nothing
// and returns false with how long to wait.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	ok, wait, _ := l.Take(key)
	return ok, wait
}

// Check reports, without taking anything, whether key's bucket has an event left, and
// if not how long to wait. Use it with Spend for limits on failures only.
func (l *Limiter) Check(key string) (bool, time.Duration) {
	if l == nil || !l.enabled {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	if wait := l.waitLocked(key, l.now()); wait > 0 {
		return l.reject(wait)
	}
	return true, 0
}

// Take takes one event from key's bucket for an attempt about to be tried, so that
// racing attempts cannot all pass a check that only one had room for. When the bucket
// is empty it takes nothing and returns false with how long to wait. refund gives the
// event back, for an attempt that turned out not to be a failure.
func (l *Limiter) Take(key string) (ok bool, wait time.Duration, refund func()) {
	if l == nil || !l.enabled {
		return true, 0, func() {}
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	now := l.now()
	if wait := l.waitLocked(key, now); wait > 0 {
		ok, wait := l.reject(wait)
		return ok, wait, func() {}
	}
	l.spendLocked(key, now)
	return true, 0, func() { l.refund(key) }
}

// Spend takes one event from key's bucket, as a failure does, room or not.
func (l *Limiter) Spend(key string) {
	if l == nil || !l.enabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spendLocked(key, l.now())
}

// reject reports a refusal and returns how long to wait.
func (l *Limiter) reject(wait time.Duration) (bool, time.Duration) {
	if l.onReject != nil {
		l.onReject()
	}
	ms := math.Ceil(float64(wait) / float64(time.Millisecond)) // never 0
	return false, time.Duration(ms) * time.Millisecond
}

// waitLocked returns how long key's bucket needs until it has room, 0 when it has.
func (l *Limiter) waitLocked(key string, now time.Time) time.Duration {
	l.sweepLocked(now)
	at, ok := l.fullAt[key]
	if !ok || !at.After(now) {
		return 0 // full
	}
	return max(at.Sub(now)-l.slack, 0)
}

// spendLocked moves key's time one interval later, from now if the bucket was full.
func (l *Limiter) spendLocked(key string, now time.Time) {
	at := l.fullAt[key]
	if at.Before(now) {
		at = now
	}
	l.fullAt[key] = at.Add(l.interval)
}

// refund gives back an event that Take took.
func (l *Limiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at, ok := l.fullAt[key]; ok {
		l.fullAt[key] = at.Add(-l.interval)
	}
}

// sweepLocked forgets, once a minute at most, the buckets that are full again.
func (l *Limiter) sweepLocked(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	for k, at := range l.fullAt {
		if !at.After(now) {
			delete(l.fullAt, k)
		}
	}
	l.lastSweep = now
}
