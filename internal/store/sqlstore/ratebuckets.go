package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

const (
	selectRateBucket = `SELECT full_ms FROM rate_buckets WHERE bucket_key = ?`
	// One statement reads and moves the time, so that spends racing on several
	// instances each count.
	upsertRateBucket = `
		INSERT INTO rate_buckets (bucket_key, full_ms) VALUES (?, ?)
		ON CONFLICT (bucket_key) DO UPDATE SET full_ms =
			CASE WHEN rate_buckets.full_ms > ? THEN rate_buckets.full_ms ELSE ? END + ?`
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

// SpendRateBucket implements store.RateBuckets.
func (s *Store) SpendRateBucket(ctx context.Context, key string, intervalMS, nowMS int64) error {
	_, err := s.q.exec(ctx, upsertRateBucket, key, nowMS+intervalMS, nowMS, nowMS, intervalMS)
	if err != nil {
		return fmt.Errorf("spend from rate bucket %s: %w", key, err)
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
