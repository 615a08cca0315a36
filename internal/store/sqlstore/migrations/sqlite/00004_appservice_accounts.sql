-- Which application service registered an account ('' for none), so that a service may
-- later act only as the users it made. Kept in step with
-- migrations/postgres/00004_appservice_accounts.sql.

-- +goose Up
ALTER TABLE accounts ADD COLUMN appservice_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE accounts DROP COLUMN appservice_id;
