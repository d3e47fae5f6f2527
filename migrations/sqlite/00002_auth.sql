-- +goose Up
-- People who have signed in: from the directory (source ldap) or local accounts.
-- username is the canonical, lowercased login name.
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    username             TEXT        NOT NULL UNIQUE,
    display_name         TEXT        NOT NULL DEFAULT '',
    source               TEXT        NOT NULL CHECK (source IN ('ldap', 'local')),
    role                 TEXT        NOT NULL DEFAULT '',
    password_hash        TEXT        NOT NULL DEFAULT '',
    must_change_password BOOLEAN     NOT NULL DEFAULT FALSE,
    last_online_login_at DATETIME,
    last_cached_login_at DATETIME,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL
);

-- The cached-credential fallback: an argon2id hash of the directory password
-- and a snapshot of the role, written at every successful directory login.
CREATE TABLE cached_credentials (
    user_id         INTEGER      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash   TEXT        NOT NULL,
    role            TEXT        NOT NULL,
    groups          TEXT        NOT NULL DEFAULT '[]',
    last_online_at  DATETIME NOT NULL,
    failed_attempts INTEGER     NOT NULL DEFAULT 0,
    last_failed_at  DATETIME,
    locked_until    DATETIME
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   BLOB       NOT NULL UNIQUE,
    user_id      INTEGER      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT        NOT NULL,
    source       TEXT        NOT NULL CHECK (source IN ('ldap', 'cache', 'local')),
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    idle_seconds INTEGER     NOT NULL,
    client_ip    TEXT        NOT NULL DEFAULT '',
    user_agent   TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed logins, counted per user name and per client IP to throttle before
-- the directory is asked; shared by every replica.
CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    username  TEXT        NOT NULL,
    client_ip TEXT        NOT NULL,
    at        DATETIME NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at);
CREATE INDEX login_failures_ip ON login_failures (client_ip, at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE cached_credentials;
DROP TABLE users;
