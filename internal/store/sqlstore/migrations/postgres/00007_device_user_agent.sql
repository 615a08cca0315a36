-- The User-Agent of the request that last recorded a device as seen, kept with that
-- time and address so that the admin API can show it as Synapse does
-- (last_seen_user_agent in the device list, user_agent in whois). Existing devices
-- start with '' and gain one on their next recorded request. Kept in step with
-- migrations/sqlite/00007_device_user_agent.sql.

-- +goose Up
-- '' before the device's first request, or when its client sent none; the device
-- service stores at most 512 bytes of valid UTF-8.
ALTER TABLE devices ADD COLUMN last_seen_user_agent TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE devices DROP COLUMN last_seen_user_agent;
