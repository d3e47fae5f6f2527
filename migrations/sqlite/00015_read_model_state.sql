-- +goose Up
-- settings_version is the version of the SLO's last change other than data
-- (its settings, service, feed, targets, maintenance, a derivation): a replica
-- reloads an SLO's settings when it moves, not at every delivery. (PostgreSQL
-- also keeps the summary out of line from this version on; SQLite has no such
-- setting.)
ALTER TABLE slo_state ADD COLUMN settings_version INTEGER NOT NULL DEFAULT 0;
UPDATE slo_state SET settings_version = version;

-- +goose Down
ALTER TABLE slo_state DROP COLUMN settings_version;
