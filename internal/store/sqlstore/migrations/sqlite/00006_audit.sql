-- The operators' tools: the audit log of security events, the single-use nonces of
-- shared-secret registration (in the database, so that any instance can accept a nonce
-- another one issued), and the user type an operator may give an account. Kept in step
-- with migrations/postgres/00006_audit.sql.

-- +goose Up
-- Append-only: rows are never updated, and deleted only past audit.retention.
CREATE TABLE audit_events (
    -- increasing in the order the events were stored.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ms INTEGER NOT NULL,
    -- what happened, such as login, password_change or admin.user.lock.
    action     TEXT NOT NULL,
    -- who acted: a user ID, a tool such as cli or shared_secret, or '' when unknown.
    actor      TEXT NOT NULL DEFAULT '',
    -- the user ID the event concerns, or ''.
    target     TEXT NOT NULL DEFAULT '',
    -- the client's address and User-Agent; '' from the command line.
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    -- success, failure or denied.
    outcome    TEXT NOT NULL,
    -- JSON object: what else the event records, such as the errcode of a failure.
    details    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_time ON audit_events (created_ms);
CREATE INDEX audit_events_actor ON audit_events (actor);
CREATE INDEX audit_events_target ON audit_events (target);

CREATE TABLE registration_nonces (
    -- random, from GET /_synapse/admin/v1/register; the row goes when the nonce is used.
    nonce      TEXT PRIMARY KEY,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX registration_nonces_expiry ON registration_nonces (expires_ms);

-- '' for an ordinary user; bot, support or another type an operator set.
ALTER TABLE accounts ADD COLUMN user_type TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE accounts DROP COLUMN user_type;
DROP TABLE registration_nonces;
DROP TABLE audit_events;
