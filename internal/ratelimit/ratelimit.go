// Package ratelimit keeps token-bucket limiters per key (a client address, an account),
// so that endpoints that can be brute-forced answer 429 M_LIMIT_EXCEEDED.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// idleAfter is how long a key's bucket lives without use; by then it is full again.
const idleAfter = 10 * time.Minute

// Limiter holds one bucket per key, in memory. A disabled or nil Limiter allows
// everything.
//
// TODO(ratelimit): the buckets are per instance, so n instances behind one address allow
// a client n times the rate; Shared, which bounds password guessing per account, keeps
// its buckets in the database, and the per-address limits could move there too at the
// cost of a write per limited request.
type Limiter struct {
	limit   rate.Limit
	burst   int
	enabled bool

	// onReject is called for every refusal; nil for none.
	onReject func()

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
	now       func() time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a Limiter that refills perSecond events and holds burst.
func New(perSecond float64, burst int, enabled bool) *Limiter {
	return &Limiter{limit: rate.Limit(perSecond), burst: burst, enabled: enabled,
		buckets: map[string]*bucket{}, now: time.Now}
}

// OnReject makes l call fn each time Allow or Check refuses, for metrics. Call it before
// l is in use.
func (l *Limiter) OnReject(fn func()) { l.onReject = fn }

// reject reports a refusal and returns how long to wait.
func (l *Limiter) reject(b *rate.Limiter, now time.Time) (bool, time.Duration) {
	if l.onReject != nil {
		l.onReject()
	}
	return false, l.wait(b, now)
}

// Allow takes one event from key's bucket. When the bucket is empty it takes nothing
// and returns false with how long to wait.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil || !l.enabled {
		return true, 0
	}
	b, now := l.bucket(key)
	if b.AllowN(now, 1) {
		return true, 0
	}
	return l.reject(b, now)
}

// Check reports, without taking anything, whether key's bucket has an event left, and
// if not how long to wait. Use it with Spend for limits on failures only.
func (l *Limiter) Check(key string) (bool, time.Duration) {
	if l == nil || !l.enabled {
		return true, 0
	}
	b, now := l.bucket(key)
	if b.TokensAt(now) >= 1 {
		return true, 0
	}
	return l.reject(b, now)
}

// Take takes one event from key's bucket for an attempt about to be tried, so that
// racing attempts cannot all pass a check that only one had room for. When the bucket
// is empty it takes nothing and returns false with how long to wait. refund gives the
// event back, for an attempt that turned out not to be a failure.
func (l *Limiter) Take(key string) (ok bool, wait time.Duration, refund func()) {
	if l == nil || !l.enabled {
		return true, 0, func() {}
	}
	b, now := l.bucket(key)
	r := b.ReserveN(now, 1)
	if delay := r.DelayFrom(now); !r.OK() || delay > 0 {
		r.CancelAt(now)
		if l.onReject != nil {
			l.onReject()
		}
		return false, delay, func() {}
	}
	return true, 0, func() { r.CancelAt(l.now()) }
}

// Spend takes one event from key's bucket, as a failure does.
func (l *Limiter) Spend(key string) {
	if l == nil || !l.enabled {
		return
	}
	b, now := l.bucket(key)
	b.AllowN(now, 1)
}

func (l *Limiter) wait(b *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - b.TokensAt(now)
	secs := missing / float64(l.limit)
	return time.Duration(math.Ceil(secs*1000)) * time.Millisecond
}

func (l *Limiter) bucket(key string) (*rate.Limiter, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()

	now := l.now()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idleAfter {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}

	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim, now
}
