-- +goose Up
-- People who have signed in: from the directory (source ldap) or local accounts.
-- username is the canonical, lowercased login name.
CREATE TABLE users (
    id                   BIGSERIAL PRIMARY KEY,
    username             TEXT        NOT NULL UNIQUE,
    display_name         TEXT        NOT NULL DEFAULT '',
    source               TEXT        NOT NULL CHECK (source IN ('ldap', 'local')),
    role                 TEXT        NOT NULL DEFAULT '',
    password_hash        TEXT        NOT NULL DEFAULT '',
    must_change_password BOOLEAN     NOT NULL DEFAULT FALSE,
    last_online_login_at TIMESTAMPTZ,
    last_cached_login_at TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

-- The cached-credential fallback: an argon2id hash of the directory password
-- and a snapshot of the role, written at every successful directory login.
CREATE TABLE cached_credentials (
    user_id         BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash   TEXT        NOT NULL,
    role            TEXT        NOT NULL,
    groups          TEXT        NOT NULL DEFAULT '[]',
    last_online_at  TIMESTAMPTZ NOT NULL,
    failed_attempts INTEGER     NOT NULL DEFAULT 0,
    last_failed_at  TIMESTAMPTZ,
    locked_until    TIMESTAMPTZ
);

CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   BYTEA       NOT NULL UNIQUE,
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT        NOT NULL,
    source       TEXT        NOT NULL CHECK (source IN ('ldap', 'cache', 'local')),
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    idle_seconds INTEGER     NOT NULL,
    client_ip    TEXT        NOT NULL DEFAULT '',
    user_agent   TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed logins, counted per user name and per client IP to throttle before
-- the directory is asked; shared by every replica.
CREATE TABLE login_failures (
    id        BIGSERIAL PRIMARY KEY,
    username  TEXT        NOT NULL,
    client_ip TEXT        NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at);
CREATE INDEX login_failures_ip ON login_failures (client_ip, at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE cached_credentials;
DROP TABLE users;
