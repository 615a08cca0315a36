package store

import "context"

// RateBuckets stores the token buckets of limits that every instance must share, such
// as failed passwords per account, in the form of the generic cell rate algorithm: a
// bucket is one time, when it will be full again. Spending an event moves that time
// one interval later, starting from now if the bucket was full; the bucket has room
// for another event while that time lies less than burst-1 intervals ahead. Keys are
// opaque to the store.
type RateBuckets interface {
	// RateBucketFullAt returns when key's bucket is full again, in ms, or 0 when no
	// bucket is stored for key (a full one).
	RateBucketFullAt(ctx context.Context, key string) (int64, error)
	// SpendRateBucket takes one event from key's bucket at nowMS, in one statement so
	// that concurrent spends on any instance all count: the time becomes
	// max(time, nowMS) + intervalMS.
	SpendRateBucket(ctx context.Context, key string, intervalMS, nowMS int64) error
	// DeleteFullRateBuckets removes the buckets that are full at nowMS and returns how
	// many.
	DeleteFullRateBuckets(ctx context.Context, nowMS int64) (int64, error)
}
