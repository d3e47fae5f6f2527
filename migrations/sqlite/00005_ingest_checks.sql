-- +goose Up
-- PostgreSQL drops two per-row foreign keys here (samples.feed_id,
-- slo_points.slo_id) for ingest speed. SQLite checks them in-process for
-- next to nothing, and dropping one would mean rebuilding the table, so they
-- stay. The version exists to keep the two dialects in step.
SELECT 1;

-- +goose Down
SELECT 1;
