-- +goose Up
-- Sample identity: a sample is (series, bucket), the bucket being the row's
-- time floored to the feed's interval, in epoch seconds. A later row for the
-- same bucket replaces the earlier one, whatever its sid ('replace'), or adds
-- to it ('add', for searches that emit partial counts within a bucket).
ALTER TABLE feeds ADD COLUMN sample_policy TEXT NOT NULL DEFAULT 'replace'
    CHECK (sample_policy IN ('replace', 'add'));

-- A feed's series keys, numbered once: samples and locks use the number.
-- last_bucket is the newest bucket delivered that was not after its receipt
-- (a row stamped in the future does not move data time).
CREATE TABLE series (
    id          BIGSERIAL PRIMARY KEY,
    feed_id     BIGINT NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    key         TEXT   NOT NULL,
    last_bucket BIGINT,
    CONSTRAINT series_feed_key UNIQUE (feed_id, key)
);
INSERT INTO series (feed_id, key) SELECT DISTINCT feed_id, series FROM samples;

-- Partitioned by bucket: the application attaches a partition per month as
-- data arrives and drops whole months for retention; the default partition
-- holds whatever no month partition covers yet.
CREATE TABLE samples_by_bucket (
    series_id   BIGINT NOT NULL,
    bucket      BIGINT NOT NULL,
    fields      TEXT   NOT NULL,
    delivery_id BIGINT,
    PRIMARY KEY (series_id, bucket)
) PARTITION BY RANGE (bucket);
CREATE TABLE samples_default PARTITION OF samples_by_bucket DEFAULT;

-- The newest row of each bucket wins, as it will from now on.
INSERT INTO samples_by_bucket (series_id, bucket, fields, delivery_id)
SELECT DISTINCT ON (sr.id, b.bucket) sr.id, b.bucket, s.fields, s.delivery_id
FROM samples s
JOIN feeds f ON f.id = s.feed_id
JOIN series sr ON sr.feed_id = s.feed_id AND sr.key = s.series
CROSS JOIN LATERAL (SELECT (floor(extract(epoch FROM s.ts) / f.interval_seconds) * f.interval_seconds)::bigint AS bucket) b
ORDER BY sr.id, b.bucket, s.id DESC;
UPDATE series sr SET last_bucket = (SELECT max(bucket) FROM samples_by_bucket WHERE series_id = sr.id);

DROP TABLE slo_points;
DROP TABLE samples;
ALTER TABLE samples_by_bucket RENAME TO samples;

-- Under 'add', the rows already added to a bucket, so a resent row is a
-- duplicate rather than counted twice.
CREATE TABLE sample_parts (
    series_id BIGINT NOT NULL,
    bucket    BIGINT NOT NULL,
    row_hash  BYTEA  NOT NULL,
    PRIMARY KEY (series_id, bucket, row_hash)
);

-- Per SLO and generation, bad and total events (ratio) or slices (threshold)
-- per hour and per UTC day, kept exact as samples come and are replaced;
-- excluded counts rows the SLO could not use (good > total, …).
CREATE TABLE slo_hours (
    slo_id     BIGINT           NOT NULL,
    generation INTEGER          NOT NULL,
    hour       BIGINT           NOT NULL,
    bad        DOUBLE PRECISION NOT NULL DEFAULT 0,
    total      DOUBLE PRECISION NOT NULL DEFAULT 0,
    excluded   INTEGER          NOT NULL DEFAULT 0,
    PRIMARY KEY (slo_id, generation, hour)
);
CREATE TABLE slo_days (
    slo_id     BIGINT           NOT NULL,
    generation INTEGER          NOT NULL,
    day        BIGINT           NOT NULL,
    bad        DOUBLE PRECISION NOT NULL DEFAULT 0,
    total      DOUBLE PRECISION NOT NULL DEFAULT 0,
    excluded   INTEGER          NOT NULL DEFAULT 0,
    PRIMARY KEY (slo_id, generation, day)
);

-- The read model: every change to an SLO's data or settings takes a new
-- version from one sequence; summary holds the numbers computed for
-- summary_version, shared by every replica.
CREATE SEQUENCE slo_version_seq;
SELECT setval('slo_version_seq', (SELECT COALESCE(max(version), 0) + 1 FROM slo_state));
ALTER TABLE slo_state DROP COLUMN last_point_at;
ALTER TABLE slo_state ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE slo_state ADD COLUMN summary_version BIGINT NOT NULL DEFAULT -1;
ALTER TABLE slo_state ADD COLUMN summary_at TIMESTAMPTZ;
UPDATE slo_state SET version = nextval('slo_version_seq');

-- Every SLO's history is derived again, into the new roll-ups.
UPDATE slos SET pending_generation = generation + 1, rederive_done = 0, rederive_total = 0 WHERE pending_generation IS NULL;
INSERT INTO slo_bindings (slo_id, generation, feed_id, series, indicator, good_field, bad_field, total_field, value_field, op, threshold)
SELECT b.slo_id, s.pending_generation, b.feed_id, b.series, b.indicator, b.good_field, b.bad_field, b.total_field, b.value_field, b.op, b.threshold
FROM slo_bindings b JOIN slos s ON s.id = b.slo_id AND b.generation = s.generation
ON CONFLICT DO NOTHING;
DELETE FROM slo_bindings b USING slos s WHERE s.id = b.slo_id AND b.generation < s.generation;

ALTER TABLE deliveries ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN from_receipt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN outside_window INTEGER NOT NULL DEFAULT 0;

-- +goose Down
-- +goose StatementBegin
DO $$ BEGIN RAISE EXCEPTION 'migration 8 (sample identity) cannot be undone: restore the backup taken before upgrading'; END $$;
-- +goose StatementEnd
