-- +goose Up
-- Every delivery bumps slo_state.version of the SLOs it touches, and an UPDATE
-- writes the whole row again: with the summary (about 2 KB of JSON) kept in the
-- row, each bump rewrote it, so at 1,000 SLOs a backfill wrote megabytes per
-- delivery and left the table bloated. Kept out of line (TOAST), an unchanged
-- summary is a pointer the row carries over, and the row stays small enough
-- for updates to stay on their page (HOT).
ALTER TABLE slo_state SET (toast_tuple_target = 128, fillfactor = 50);

-- +goose Down
ALTER TABLE slo_state RESET (toast_tuple_target, fillfactor);
