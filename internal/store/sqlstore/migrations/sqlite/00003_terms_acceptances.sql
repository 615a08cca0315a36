-- Which version of which policy each user accepted at the m.login.terms stage, and
-- when, so that an operator can show consent for the version a user saw. Kept in step
-- with migrations/postgres/00003_terms_acceptances.sql.

-- +goose Up
CREATE TABLE terms_acceptances (
    user_id     TEXT NOT NULL,
    policy      TEXT NOT NULL,
    version     TEXT NOT NULL,
    accepted_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, policy, version)
);

-- +goose Down
DROP TABLE terms_acceptances;
