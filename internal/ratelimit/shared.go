package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"time"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// Buckets is where a Shared limiter keeps its buckets; store.RateBuckets describes the
// algorithm.
type Buckets interface {
	RateBucketFullAt(ctx context.Context, key string) (int64, error)
	TakeRateBucket(ctx context.Context, key string, intervalMS, slackMS, nowMS int64) (
		bool, error)
	RefundRateBucket(ctx context.Context, key string, intervalMS int64) error
}

// Shared is a limiter on failures whose buckets live in the database, so that every
// instance counts against the same ones: more instances allow no more attempts. An
// attempt takes an event before it is tried, so that racing attempts cannot pass
// together, and one that turns out not to be a failure is refunded. Each attempt is a
// write, so it suits attempts that cost more than that (a password hash), not every
// request. A disabled or nil Shared allows everything.
type Shared struct {
	name       string
	intervalMS int64
	burst      int64
	enabled    bool
	buckets    Buckets

	// onReject is called for every refusal; nil for none.
	onReject func()
	now      func() time.Time
}

// NewShared returns a Shared limiter named name (which keeps its buckets apart from
// other limiters' in b) that refills perSecond events and holds burst.
func NewShared(name string, perSecond float64, burst int, enabled bool, b Buckets) *Shared {
	interval := int64(math.Ceil(1000 / perSecond))
	return &Shared{name: name, intervalMS: max(interval, 1), burst: int64(max(burst, 1)),
		enabled: enabled, buckets: b, now: time.Now}
}

// OnReject makes l call fn each time Take refuses, for metrics. Call it before l is in
// use.
func (l *Shared) OnReject(fn func()) { l.onReject = fn }

// Take takes an event from key's bucket for an attempt about to be tried. When the
// bucket is empty it takes nothing and returns false with how long to wait.
func (l *Shared) Take(ctx context.Context, key string) (bool, time.Duration, error) {
	if l == nil || !l.enabled {
		return true, 0, nil
	}
	k, now := l.key(key), l.now().UnixMilli()
	slack := (l.burst - 1) * l.intervalMS // room while it fills up within this
	ok, err := l.buckets.TakeRateBucket(ctx, k, l.intervalMS, slack, now)
	if err != nil || ok {
		return ok, 0, err
	}

	if l.onReject != nil {
		l.onReject()
	}
	fullAt, err := l.buckets.RateBucketFullAt(ctx, k)
	if err != nil {
		return false, 0, err
	}
	return false, time.Duration(max(fullAt-now-slack, 1)) * time.Millisecond, nil
}

// Refund gives back the event that Take took for an attempt that was no failure.
func (l *Shared) Refund(ctx context.Context, key string) error {
	if l == nil || !l.enabled {
		return nil
	}
	return l.buckets.RefundRateBucket(ctx, l.key(key), l.intervalMS)
}

// key is the stored key of key's bucket: a digest, so that what clients send (a user
// name, an address) is neither stored nor able to make a long or odd key.
func (l *Shared) key(key string) string {
	sum := sha256.Sum256([]byte(l.name + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// Exceeded is the answer to a client over a limit: 429 M_LIMIT_EXCEEDED that says how
// long to wait.
func Exceeded(wait time.Duration) *mxerr.Error {
	ms := wait.Milliseconds()
	e := mxerr.ErrLimitExceeded.Msg("too many requests; retry in %d ms", ms)
	e.RetryAfterMS = max(ms, 1)
	return e
}
