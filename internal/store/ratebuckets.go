package store

import "context"

// RateBuckets stores the token buckets of limits that every instance must share, such
// as failed passwords per account, in the form of the generic cell rate algorithm: a
// bucket is one time, when it will be full again. Taking an event moves that time one
// interval later, starting from now if the bucket was full; the bucket has room for
// an event while that time lies at most burst-1 intervals (slack) ahead. Keys are
// opaque to the store.
type RateBuckets interface {
	// RateBucketFullAt returns when key's bucket is full again, in ms, or 0 when no
	// bucket is stored for key (a full one).
	RateBucketFullAt(ctx context.Context, key string) (int64, error)
	// TakeRateBucket takes one event from key's bucket at nowMS if it has room, that is
	// if its time is at most slackMS ahead, and reports whether it did. One statement
	// checks and takes, so that racing requests on any instance cannot take more than
	// the bucket holds: the time becomes max(time, nowMS) + intervalMS.
	TakeRateBucket(ctx context.Context, key string, intervalMS, slackMS, nowMS int64) (
		bool, error)
	// RefundRateBucket gives back an event taken from key's bucket.
	RefundRateBucket(ctx context.Context, key string, intervalMS int64) error
	// DeleteFullRateBuckets removes the buckets that are full at nowMS and returns how
	// many.
	DeleteFullRateBuckets(ctx context.Context, nowMS int64) (int64, error)
}
