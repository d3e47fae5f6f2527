-- +goose Up
-- Notifications (SPEC §8): channels, silences, the alert state each SLO is in, and
-- an outbox of events with one delivery per (event, channel). Events and state are
-- written in the transaction that decides them; a sender drains the deliveries.
CREATE TABLE notification_channels (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT        NOT NULL UNIQUE,
    type          TEXT        NOT NULL CHECK (type IN ('webhook', 'slack', 'teams', 'email', 'pagerduty', 'alertmanager')),
    -- url and secret are credentials (a Slack URL is one): never shown, never logged.
    url           TEXT        NOT NULL,
    secret        TEXT        NOT NULL DEFAULT '',
    url_hint      TEXT        NOT NULL DEFAULT '',
    secret_hint   TEXT        NOT NULL DEFAULT '',
    min_severity  TEXT        NOT NULL DEFAULT 'ticket' CHECK (min_severity IN ('page', 'ticket')),
    services      TEXT        NOT NULL DEFAULT '',
    teams         TEXT        NOT NULL DEFAULT '',
    created_by    TEXT        NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    last_sent_at  DATETIME,
    last_error    TEXT        NOT NULL DEFAULT '',
    last_error_at DATETIME
);

-- A silence mutes one SLO, every SLO of a service, or (both NULL) everything, until ends_at.
CREATE TABLE silences (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id BIGINT      REFERENCES services (id) ON DELETE CASCADE,
    slo_id     BIGINT      REFERENCES slos (id) ON DELETE CASCADE,
    reason     TEXT        NOT NULL,
    created_by TEXT        NOT NULL DEFAULT '',
    starts_at  DATETIME NOT NULL,
    ends_at    DATETIME NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX silences_ends_at ON silences (ends_at);

-- One row per alert (SLO, kind, tier) that has ever fired: the state notified last.
CREATE TABLE alert_state (
    alert_key   TEXT        PRIMARY KEY,
    slo_id      BIGINT      NOT NULL,
    kind        TEXT        NOT NULL,
    tier        TEXT        NOT NULL DEFAULT '',
    severity    TEXT        NOT NULL,
    firing      BOOLEAN     NOT NULL,
    episode     TEXT        NOT NULL DEFAULT '',
    started_at  DATETIME NOT NULL,
    clear_since DATETIME,
    version     BIGINT      NOT NULL DEFAULT 0,
    updated_at  DATETIME NOT NULL
);

-- Events are history: they outlive their SLO (no foreign key), and carry what was sent.
CREATE TABLE alert_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    uid        TEXT        NOT NULL UNIQUE,
    episode    TEXT        NOT NULL,
    alert_key  TEXT        NOT NULL,
    slo_id     BIGINT      NOT NULL,
    kind       TEXT        NOT NULL,
    tier       TEXT        NOT NULL DEFAULT '',
    severity   TEXT        NOT NULL,
    status     TEXT        NOT NULL CHECK (status IN ('firing', 'resolved')),
    started_at DATETIME NOT NULL,
    data_time  DATETIME NOT NULL,
    decided_at DATETIME NOT NULL,
    version    BIGINT      NOT NULL DEFAULT 0,
    payload    TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_slo ON alert_events (slo_id, id);

CREATE TABLE alert_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    BIGINT      NOT NULL REFERENCES alert_events (id) ON DELETE CASCADE,
    channel_id  BIGINT      NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    state       TEXT        NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'dropped')),
    attempts    INTEGER     NOT NULL DEFAULT 0,
    next_at     DATETIME NOT NULL,
    lease_until DATETIME,
    last_error  TEXT        NOT NULL DEFAULT '',
    sent_at     DATETIME,
    created_at  DATETIME NOT NULL,
    UNIQUE (event_id, channel_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX alert_deliveries_channel ON alert_deliveries (channel_id, id);

-- +goose Down
DROP TABLE alert_deliveries;
DROP TABLE alert_events;
DROP TABLE alert_state;
DROP TABLE silences;
DROP TABLE notification_channels;
