-- +goose Up
-- Retention per feed (NULL: the installation's sample retention).
ALTER TABLE feeds ADD COLUMN retention_days INTEGER CHECK (retention_days IS NULL OR retention_days >= 7);

-- The delivery log is partitioned by day of receipt, so pruning it drops whole days
-- instead of deleting row by row; the application attaches a partition per day ahead
-- and drops those older than the retention. The default partition takes the rest.
ALTER TABLE deliveries RENAME TO deliveries_unpartitioned;
ALTER TABLE deliveries_unpartitioned RENAME CONSTRAINT deliveries_pkey TO deliveries_unpartitioned_pkey;
DROP INDEX deliveries_feed_received;
CREATE TABLE deliveries (LIKE deliveries_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (received_at);
ALTER TABLE deliveries ADD PRIMARY KEY (id, received_at);
ALTER TABLE deliveries ADD FOREIGN KEY (feed_id) REFERENCES feeds (id) ON DELETE CASCADE;
CREATE INDEX deliveries_feed_received ON deliveries (feed_id, received_at DESC, id DESC);
CREATE TABLE deliveries_default PARTITION OF deliveries DEFAULT;
INSERT INTO deliveries SELECT * FROM deliveries_unpartitioned;
ALTER SEQUENCE deliveries_id_seq OWNED BY deliveries.id;
DROP TABLE deliveries_unpartitioned;

-- +goose Down
ALTER TABLE feeds DROP COLUMN retention_days;
ALTER TABLE deliveries RENAME TO deliveries_partitioned;
CREATE TABLE deliveries (LIKE deliveries_partitioned INCLUDING DEFAULTS);
INSERT INTO deliveries SELECT * FROM deliveries_partitioned;
ALTER SEQUENCE deliveries_id_seq OWNED BY deliveries.id;
DROP TABLE deliveries_partitioned;
ALTER TABLE deliveries ADD PRIMARY KEY (id);
ALTER TABLE deliveries ADD FOREIGN KEY (feed_id) REFERENCES feeds (id) ON DELETE CASCADE;
CREATE INDEX deliveries_feed_received ON deliveries (feed_id, received_at DESC, id DESC);
