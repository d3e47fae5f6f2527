-- +goose Up
CREATE TABLE feeds (
    id               BIGSERIAL PRIMARY KEY,
    name             TEXT        NOT NULL UNIQUE,
    interval_seconds INTEGER     NOT NULL DEFAULT 300 CHECK (interval_seconds > 0),
    time_field       TEXT        NOT NULL DEFAULT '_time',
    series_field     TEXT        NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE feed_tokens (
    id           BIGSERIAL PRIMARY KEY,
    feed_id      BIGINT      NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    hash         BYTEA       NOT NULL UNIQUE,
    hint         TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX feed_tokens_feed ON feed_tokens (feed_id);

CREATE TABLE deliveries (
    id             BIGSERIAL PRIMARY KEY,
    feed_id        BIGINT      NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    token_id       BIGINT,
    received_at    TIMESTAMPTZ NOT NULL,
    status         INTEGER     NOT NULL,
    outcome        TEXT        NOT NULL,
    shape          TEXT        NOT NULL DEFAULT '',
    content_type   TEXT        NOT NULL DEFAULT '',
    sid            TEXT        NOT NULL DEFAULT '',
    search_name    TEXT        NOT NULL DEFAULT '',
    results_link   TEXT        NOT NULL DEFAULT '',
    body           BYTEA       NOT NULL,
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
    id          BIGSERIAL PRIMARY KEY,
    feed_id     BIGINT      NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    series      TEXT        NOT NULL,
    ts          TIMESTAMPTZ NOT NULL,
    fields      TEXT        NOT NULL,
    delivery_id BIGINT,
    sid         TEXT        NOT NULL DEFAULT '',
    row_hash    BYTEA       NOT NULL,
    CONSTRAINT samples_feed_row UNIQUE (feed_id, row_hash)
);
CREATE INDEX samples_feed_series_ts ON samples (feed_id, series, ts);
CREATE INDEX samples_delivery ON samples (delivery_id);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT        NOT NULL,
    role         TEXT        NOT NULL CHECK (role IN ('viewer', 'sre', 'admin')),
    hash         BYTEA       NOT NULL UNIQUE,
    hint         TEXT        NOT NULL,
    created_by   TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE samples;
DROP TABLE deliveries;
DROP TABLE feed_tokens;
DROP TABLE feeds;
