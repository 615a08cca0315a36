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
	SpendRateBucket(ctx context.Context, key string, intervalMS, nowMS int64) error
}

// Shared is a limiter on failures whose buckets live in the database, so that every
// instance counts against the same ones: more instances allow no more attempts. Each
// check is a read and each failure a write, so it suits limits on failures (wrong
// passwords), not on every request. A disabled or nil Shared allows everything.
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

// OnReject makes l call fn each time Check refuses, for metrics. Call it before l is in
// use.
func (l *Shared) OnReject(fn func()) { l.onReject = fn }

// Check reports, without taking anything, whether key's bucket has an event left, and
// if not how long to wait.
func (l *Shared) Check(ctx context.Context, key string) (bool, time.Duration, error) {
	if l == nil || !l.enabled {
		return true, 0, nil
	}
	fullAt, err := l.buckets.RateBucketFullAt(ctx, l.key(key))
	if err != nil {
		return false, 0, err
	}

	// The bucket has room while it fills up again in at most burst-1 intervals.
	over := fullAt - l.now().UnixMilli() - (l.burst-1)*l.intervalMS
	if over <= 0 {
		return true, 0, nil
	}
	if l.onReject != nil {
		l.onReject()
	}
	return false, time.Duration(over) * time.Millisecond, nil
}

// Spend takes one event from key's bucket, as a failure does.
func (l *Shared) Spend(ctx context.Context, key string) error {
	if l == nil || !l.enabled {
		return nil
	}
	return l.buckets.SpendRateBucket(ctx, l.key(key), l.intervalMS, l.now().UnixMilli())
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
