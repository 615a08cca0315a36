-- The first schema: accounts, devices with their access tokens, UIA sessions and
-- registration tokens. Times are milliseconds since the epoch; secrets are SHA-256
-- digests. Kept in step with migrations/sqlite/00001_accounts.sql.

-- +goose Up
CREATE TABLE accounts (
    -- localpart is unique and lower case; user_id is '@' || localpart || ':' || server.
    localpart     TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL UNIQUE,
    -- PHC argon2id or bcrypt; '' when the account has no password.
    password_hash TEXT NOT NULL DEFAULT '',
    -- user, guest or appservice.
    kind          TEXT NOT NULL,
    admin         BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms    BIGINT NOT NULL,
    deactivated   BOOLEAN NOT NULL DEFAULT FALSE,
    erased        BOOLEAN NOT NULL DEFAULT FALSE,
    locked        BOOLEAN NOT NULL DEFAULT FALSE,
    suspended     BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE devices (
    user_id      TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    display_name TEXT,
    created_ms   BIGINT NOT NULL,
    -- when and from where the device was last seen; 0 and '' before its first request.
    last_seen_ms BIGINT NOT NULL DEFAULT 0,
    last_seen_ip TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, device_id)
);

CREATE TABLE access_tokens (
    -- SHA-256 of the token; the token itself is never stored.
    digest     BYTEA PRIMARY KEY,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    -- 0: never expires.
    expires_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);

CREATE TABLE uia_sessions (
    session_id         TEXT PRIMARY KEY,
    operation          TEXT NOT NULL,
    -- the user the session acts for; '' until known.
    user_id            TEXT NOT NULL DEFAULT '',
    method             TEXT NOT NULL,
    path               TEXT NOT NULL,
    -- JSON: the first request's body without auth and password.
    params             TEXT NOT NULL,
    password_hash      TEXT NOT NULL DEFAULT '',
    -- JSON array of completed stage types, in order.
    completed          TEXT NOT NULL DEFAULT '[]',
    -- the registration token whose use this session reserved; '' for none.
    registration_token TEXT NOT NULL DEFAULT '',
    created_ms         BIGINT NOT NULL,
    expires_ms         BIGINT NOT NULL,
    consumed           BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX uia_sessions_expiry ON uia_sessions (expires_ms);

CREATE TABLE registration_tokens (
    token        TEXT PRIMARY KEY,
    -- NULL: unlimited.
    uses_allowed BIGINT,
    pending      BIGINT NOT NULL DEFAULT 0,
    completed    BIGINT NOT NULL DEFAULT 0,
    -- NULL: never expires.
    expiry_ms    BIGINT,
    created_ms   BIGINT NOT NULL,
    grants_admin BOOLEAN NOT NULL DEFAULT FALSE
);

-- Who registered with which token, and when.
CREATE TABLE registration_token_uses (
    token   TEXT NOT NULL,
    user_id TEXT NOT NULL,
    used_ms BIGINT NOT NULL,
    PRIMARY KEY (token, user_id)
);

-- +goose Down
DROP TABLE registration_token_uses;
DROP TABLE registration_tokens;
DROP TABLE uia_sessions;
DROP TABLE access_tokens;
DROP TABLE devices;
DROP TABLE accounts;
