package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

const (
	selectRateBucket = `SELECT full_ms FROM rate_buckets WHERE bucket_key = ?`
	// One statement checks for room and moves the time, so that requests racing on
	// several instances cannot take more than the bucket holds; a bucket without room
	// is left as it is.
	takeRateBucket = `
		INSERT INTO rate_buckets (bucket_key, full_ms) VALUES (?, ?)
		ON CONFLICT (bucket_key) DO UPDATE SET full_ms =
			CASE WHEN rate_buckets.full_ms > ? THEN rate_buckets.full_ms ELSE ? END + ?
		WHERE rate_buckets.full_ms - ? <= ?`
	refundRateBucket      = `UPDATE rate_buckets SET full_ms = full_ms - ? WHERE bucket_key = ?`
	deleteFullRateBuckets = `DELETE FROM rate_buckets WHERE full_ms <= ?`
)

// RateBucketFullAt implements store.RateBuckets.
func (s *Store) RateBucketFullAt(ctx context.Context, key string) (int64, error) {
	var fullMS int64
	err := s.q.queryRow(ctx, selectRateBucket, key).Scan(&fullMS)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read rate bucket %s: %w", key, err)
	}
	return fullMS, nil
}

// TakeRateBucket implements store.RateBuckets.
func (s *Store) TakeRateBucket(
	ctx context.Context, key string, intervalMS, slackMS, nowMS int64,
) (bool, error) {
	n, err := s.q.exec(ctx, takeRateBucket, key, nowMS+intervalMS, nowMS, nowMS, intervalMS,
		nowMS, slackMS)
	if err != nil {
		return false, fmt.Errorf("take from rate bucket %s: %w", key, err)
	}
	return n > 0, nil
}

// RefundRateBucket implements store.RateBuckets.
func (s *Store) RefundRateBucket(ctx context.Context, key string, intervalMS int64) error {
	if _, err := s.q.exec(ctx, refundRateBucket, intervalMS, key); err != nil {
		return fmt.Errorf("refund to rate bucket %s: %w", key, err)
	}
	return nil
}

// DeleteFullRateBuckets implements store.RateBuckets.
func (s *Store) DeleteFullRateBuckets(ctx context.Context, nowMS int64) (int64, error) {
	n, err := s.q.exec(ctx, deleteFullRateBuckets, nowMS)
	if err != nil {
		return 0, fmt.Errorf("delete full rate buckets: %w", err)
	}
	return n, nil
}
