-- The token buckets of the rate limits that every instance shares, such as failed
-- passwords per account, so that running more instances does not allow more guesses.
-- Kept in step with migrations/postgres/00008_rate_buckets.sql.

-- +goose Up
CREATE TABLE rate_buckets (
    -- a digest of the limit's name and its key (an account, an address).
    bucket_key TEXT PRIMARY KEY,
    -- when the bucket is full again, in ms; the row is useless from then on.
    full_ms    INTEGER NOT NULL
);
CREATE INDEX rate_buckets_full ON rate_buckets (full_ms);

-- +goose Down
DROP TABLE rate_buckets;
