-- Third-party identifiers: validation sessions (the sid of requestToken and the token
-- sent to the address), the addresses added to accounts, and the identity-server
-- bindings to undo later. Times are milliseconds since the epoch; secrets are SHA-256
-- digests. Kept in step with migrations/postgres/00005_threepids.sql.

-- +goose Up
CREATE TABLE validation_sessions (
    sid                  TEXT PRIMARY KEY,
    -- email or msisdn.
    medium               TEXT NOT NULL,
    -- the canonical address: a case-folded email address or an MSISDN.
    address              TEXT NOT NULL,
    -- the UIA operation that may use the session: register, password_reset, 3pid_add.
    purpose              TEXT NOT NULL,
    client_secret_digest BLOB NOT NULL,
    -- the link token and the code of the last message sent.
    token_digest         BLOB NOT NULL,
    code_digest          BLOB NOT NULL,
    -- the highest send_attempt a message went out for.
    send_attempt         INTEGER NOT NULL,
    -- where the link redirects after validation; '' for nowhere.
    next_link            TEXT NOT NULL DEFAULT '',
    -- tokens submitted since the last message, capped by configuration.
    failed_attempts      INTEGER NOT NULL DEFAULT 0,
    created_ms           INTEGER NOT NULL,
    -- restarts with every message and at validation.
    expires_ms           INTEGER NOT NULL,
    -- 0 until validated.
    validated_ms         INTEGER NOT NULL DEFAULT 0,
    consumed             INTEGER NOT NULL DEFAULT 0,
    -- the UIA session whose stage consumed it; '' otherwise.
    uia_session_id       TEXT NOT NULL DEFAULT '',
    -- requestToken with the same medium, address, purpose and client secret finds the
    -- same session.
    UNIQUE (medium, address, purpose, client_secret_digest)
);
CREATE INDEX validation_sessions_expiry ON validation_sessions (expires_ms);
CREATE INDEX validation_sessions_uia ON validation_sessions (uia_session_id);

-- The addresses added to accounts; one account per address.
CREATE TABLE threepids (
    medium       TEXT NOT NULL,
    address      TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    validated_ms INTEGER NOT NULL,
    added_ms     INTEGER NOT NULL,
    PRIMARY KEY (medium, address)
);
CREATE INDEX threepids_user ON threepids (user_id);

-- Which identity server each address was bound on, so that it can be unbound there
-- later; several users may have bound the same address.
CREATE TABLE threepid_bindings (
    user_id   TEXT NOT NULL,
    medium    TEXT NOT NULL,
    address   TEXT NOT NULL,
    id_server TEXT NOT NULL,
    bound_ms  INTEGER NOT NULL,
    PRIMARY KEY (user_id, medium, address, id_server)
);

-- +goose Down
DROP TABLE threepid_bindings;
DROP TABLE threepids;
DROP TABLE validation_sessions;
