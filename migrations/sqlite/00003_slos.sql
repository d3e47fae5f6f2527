-- +goose Up
CREATE TABLE services (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT        NOT NULL UNIQUE,
    description TEXT        NOT NULL DEFAULT '',
    team        TEXT        NOT NULL DEFAULT '',
    tier        TEXT        NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

-- An SLO's binding to a feed lives in slo_bindings, one row per generation of
-- derived points: the active one, and the one being re-derived after a change.
CREATE TABLE slos (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id         INTEGER      NOT NULL REFERENCES services (id),
    name               TEXT        NOT NULL UNIQUE,
    display_name       TEXT        NOT NULL DEFAULT '',
    description        TEXT        NOT NULL DEFAULT '',
    window_spec        TEXT        NOT NULL,
    time_zone          TEXT        NOT NULL DEFAULT 'UTC',
    latency_fields     TEXT        NOT NULL DEFAULT '',
    generation         INTEGER     NOT NULL DEFAULT 1,
    pending_generation INTEGER,
    rederive_done      INTEGER     NOT NULL DEFAULT 0,
    rederive_total     INTEGER     NOT NULL DEFAULT 0,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);
CREATE INDEX slos_service ON slos (service_id);

CREATE TABLE slo_bindings (
    slo_id      INTEGER           NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    generation  INTEGER          NOT NULL,
    feed_id     INTEGER           NOT NULL REFERENCES feeds (id),
    series      TEXT             NOT NULL DEFAULT '',
    indicator   TEXT             NOT NULL CHECK (indicator IN ('ratio', 'threshold')),
    good_field  TEXT             NOT NULL DEFAULT '',
    bad_field   TEXT             NOT NULL DEFAULT '',
    total_field TEXT             NOT NULL DEFAULT '',
    value_field TEXT             NOT NULL DEFAULT '',
    op          TEXT             NOT NULL DEFAULT '',
    threshold   REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (slo_id, generation)
);
CREATE INDEX slo_bindings_feed ON slo_bindings (feed_id);

-- Bumped whenever a binding on the feed changes, so ingest knows its cached
-- bindings are stale.
ALTER TABLE feeds ADD COLUMN bindings_version INTEGER NOT NULL DEFAULT 0;

-- Effective-dated targets: the target in force at a period's end judges it.
CREATE TABLE slo_targets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    slo_id         INTEGER           NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    target         REAL NOT NULL CHECK (target > 0 AND target < 1),
    effective_from DATETIME      NOT NULL,
    created_by     TEXT             NOT NULL DEFAULT '',
    created_at     DATETIME      NOT NULL
);
CREATE INDEX slo_targets_slo ON slo_targets (slo_id, effective_from);

-- Points derived from samples, per SLO and generation: good and total events
-- (ratio) or one time slice (threshold: total 1, good 0 or 1).
CREATE TABLE slo_points (
    slo_id     INTEGER           NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    generation INTEGER          NOT NULL,
    sample_id  INTEGER           NOT NULL,
    ts         DATETIME      NOT NULL,
    good       REAL NOT NULL,
    total      REAL NOT NULL,
    PRIMARY KEY (slo_id, generation, sample_id)
);
CREATE INDEX slo_points_ts ON slo_points (slo_id, generation, ts);

-- Bumped when an SLO's points change, so evaluations cached by any replica
-- are known to be stale; and when it last received data.
CREATE TABLE slo_state (
    slo_id        INTEGER      PRIMARY KEY REFERENCES slos (id) ON DELETE CASCADE,
    version       INTEGER      NOT NULL DEFAULT 0,
    last_point_at DATETIME
);

CREATE TABLE maintenance_windows (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id INTEGER      REFERENCES services (id) ON DELETE CASCADE,
    slo_id     INTEGER      REFERENCES slos (id) ON DELETE CASCADE,
    starts_at  DATETIME NOT NULL,
    ends_at    DATETIME NOT NULL,
    reason     TEXT        NOT NULL,
    created_by TEXT        NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK ((service_id IS NULL) <> (slo_id IS NULL))
);

CREATE TABLE annotations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT        NOT NULL CHECK (kind IN ('deploy', 'incident', 'note')),
    title       TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    link        TEXT        NOT NULL DEFAULT '',
    service_id  INTEGER      REFERENCES services (id) ON DELETE CASCADE,
    slo_id      INTEGER      REFERENCES slos (id) ON DELETE CASCADE,
    at          DATETIME NOT NULL,
    ends_at     DATETIME,
    created_by  TEXT        NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
CREATE INDEX annotations_at ON annotations (at);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        DATETIME NOT NULL,
    actor     TEXT        NOT NULL,
    action    TEXT        NOT NULL,
    entity    TEXT        NOT NULL,
    entity_id INTEGER,
    summary   TEXT        NOT NULL DEFAULT '',
    before    TEXT        NOT NULL DEFAULT '',
    after     TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at DESC);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE annotations;
DROP TABLE maintenance_windows;
DROP TABLE slo_state;
DROP TABLE slo_points;
DROP TABLE slo_targets;
ALTER TABLE feeds DROP COLUMN bindings_version;
DROP TABLE slo_bindings;
DROP TABLE slos;
DROP TABLE services;
