-- +goose Up
-- Every delivery bumps slo_state.version of the SLOs it touches, and an UPDATE
-- writes the whole row again: with the summary (about 2 KB of JSON) kept in the
-- row, each bump rewrote it, so at 1,000 SLOs a backfill wrote megabytes per
-- delivery and left the table bloated. Kept out of line (TOAST), an unchanged
-- summary is a pointer the row carries over, and the row stays small enough
-- for updates to stay on their page (HOT).
ALTER TABLE slo_state SET (toast_tuple_target = 128, fillfactor = 50);

-- settings_version is the version of the SLO's last change other than data
-- (its settings, service, feed, targets, maintenance, a derivation): a replica
-- reloads an SLO's settings when it moves, not at every delivery.
ALTER TABLE slo_state ADD COLUMN settings_version BIGINT NOT NULL DEFAULT 0;
UPDATE slo_state SET settings_version = version;

-- +goose Down
ALTER TABLE slo_state DROP COLUMN settings_version;
ALTER TABLE slo_state RESET (toast_tuple_target, fillfactor);
