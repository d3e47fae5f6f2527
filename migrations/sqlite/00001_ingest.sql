-- +goose Up
CREATE TABLE feeds (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT        NOT NULL UNIQUE,
    interval_seconds INTEGER     NOT NULL DEFAULT 300 CHECK (interval_seconds > 0),
    time_field       TEXT        NOT NULL DEFAULT '_time',
    series_field     TEXT        NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);

CREATE TABLE feed_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    feed_id      INTEGER      NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    hash         BLOB       NOT NULL UNIQUE,
    hint         TEXT        NOT NULL,
    created_at   DATETIME NOT NULL,
    revoked_at   DATETIME
);
CREATE INDEX feed_tokens_feed ON feed_tokens (feed_id);

CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    feed_id        INTEGER      NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    token_id       INTEGER,
    received_at    DATETIME NOT NULL,
    status         INTEGER     NOT NULL,
    outcome        TEXT        NOT NULL,
    shape          TEXT        NOT NULL DEFAULT '',
    content_type   TEXT        NOT NULL DEFAULT '',
    sid            TEXT        NOT NULL DEFAULT '',
    search_name    TEXT        NOT NULL DEFAULT '',
    results_link   TEXT        NOT NULL DEFAULT '',
    body           BLOB       NOT NULL,
    body_bytes     INTEGER     NOT NULL,
    body_truncated BOOLEAN     NOT NULL DEFAULT FALSE,
    rows_total     INTEGER     NOT NULL DEFAULT 0,
    accepted       INTEGER     NOT NULL DEFAULT 0,
    duplicates     INTEGER     NOT NULL DEFAULT 0,
    rejected       INTEGER     NOT NULL DEFAULT 0,
    error          TEXT        NOT NULL DEFAULT '',
    rejections     TEXT        NOT NULL DEFAULT '[]'
);
CREATE INDEX deliveries_feed_received ON deliveries (feed_id, received_at DESC, id DESC);

-- delivery_id has no foreign key: old deliveries are pruned, their samples stay.
CREATE TABLE samples (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    feed_id     INTEGER      NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    series      TEXT        NOT NULL,
    ts          DATETIME NOT NULL,
    fields      TEXT        NOT NULL,
    delivery_id INTEGER,
    sid         TEXT        NOT NULL DEFAULT '',
    row_hash    BLOB       NOT NULL,
    CONSTRAINT samples_feed_row UNIQUE (feed_id, row_hash)
);
CREATE INDEX samples_feed_series_ts ON samples (feed_id, series, ts);
CREATE INDEX samples_delivery ON samples (delivery_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT        NOT NULL,
    role         TEXT        NOT NULL CHECK (role IN ('viewer', 'sre', 'admin')),
    hash         BLOB       NOT NULL UNIQUE,
    hint         TEXT        NOT NULL,
    created_by   TEXT        NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE samples;
DROP TABLE deliveries;
DROP TABLE feed_tokens;
DROP TABLE feeds;
