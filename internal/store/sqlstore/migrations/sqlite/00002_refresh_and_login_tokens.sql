-- Refresh tokens (spec v1.3) and single-use login tokens (m.login.token, spec v1.7).
-- A refresh replaces a refresh token by a successor, but the replaced token must keep
-- working until the new pair is first used, so that a client whose answer was lost can
-- retry; the columns below record that chain per device, and the first use of a
-- refreshed access token is found by the same indexed read that authenticates it.
-- Times are milliseconds since the epoch; tokens are stored as SHA-256 digests. Kept in
-- step with migrations/postgres/00002_refresh_and_login_tokens.sql.

-- +goose Up
CREATE TABLE refresh_tokens (
    -- SHA-256 of the token; the token itself is never stored.
    digest        BLOB PRIMARY KEY,
    user_id       TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    -- the access token issued with this refresh token.
    access_digest BLOB NOT NULL,
    -- the refresh token this one replaced, while that one still works: until this token
    -- or its access token is first used. NULL once confirmed, and for tokens from login.
    prev_digest   BLOB,
    -- the latest refresh token issued in exchange for this one; NULL before any.
    next_digest   BLOB,
    -- 1 once the successor was used. The row stays so that presenting the token again
    -- is recognised as reuse, which revokes every token of the device.
    revoked       INTEGER NOT NULL DEFAULT 0,
    created_ms    INTEGER NOT NULL,
    -- 0: never expires. For a revoked token: when its row is dropped.
    expires_ms    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_device ON refresh_tokens (user_id, device_id);

-- The digest of the refresh token issued with an access token by a refresh that is not
-- confirmed yet; the first use of the access token confirms it. NULL otherwise.
ALTER TABLE access_tokens ADD COLUMN pending_refresh_digest BLOB;

CREATE TABLE login_tokens (
    -- SHA-256 of the token; the row is deleted when the token is used.
    digest     BLOB PRIMARY KEY,
    -- the user the token logs in.
    user_id    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX login_tokens_user ON login_tokens (user_id);
CREATE INDEX login_tokens_expiry ON login_tokens (expires_ms);

-- +goose Down
DROP TABLE login_tokens;
ALTER TABLE access_tokens DROP COLUMN pending_refresh_digest;
DROP TABLE refresh_tokens;
