-- +goose Up
-- Retention per feed (NULL: the installation's sample retention).
ALTER TABLE feeds ADD COLUMN retention_days INTEGER CHECK (retention_days IS NULL OR retention_days >= 7);
-- SQLite keeps one delivery table (PostgreSQL partitions it by day): pruning deletes
-- by receipt time, through this index.
CREATE INDEX deliveries_received ON deliveries (received_at);

-- +goose Down
DROP INDEX deliveries_received;
ALTER TABLE feeds DROP COLUMN retention_days;
