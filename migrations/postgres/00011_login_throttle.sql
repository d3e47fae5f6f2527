-- +goose Up
-- The sign-in throttle: one row per (user name, client address) counting its
-- failures and when the next attempt may go ahead, and one row per address
-- (username '') counting its failures over every user name. A sign-in is
-- admitted by locking and updating these rows in one transaction, so
-- parallel attempts on any number of replicas cannot all slip through.
-- It replaces login_failures, whose check-then-record could be raced.
CREATE TABLE login_throttle (
    username  TEXT        NOT NULL,
    client_ip TEXT        NOT NULL,
    failures  INTEGER     NOT NULL DEFAULT 0,
    last_at   TIMESTAMPTZ NOT NULL,
    next_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (username, client_ip)
);
CREATE INDEX login_throttle_last ON login_throttle (last_at);
DROP TABLE login_failures;

-- +goose Down
CREATE TABLE login_failures (
    id        BIGSERIAL PRIMARY KEY,
    username  TEXT        NOT NULL,
    client_ip TEXT        NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at);
CREATE INDEX login_failures_ip ON login_failures (client_ip, at);
DROP TABLE login_throttle;
