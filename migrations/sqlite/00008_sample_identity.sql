-- +goose Up
-- Sample identity: a sample is (series, bucket), the bucket being the row's
-- time floored to the feed's interval, in epoch seconds. A later row for the
-- same bucket replaces the earlier one, whatever its sid ('replace'), or adds
-- to it ('add', for searches that emit partial counts within a bucket).
ALTER TABLE feeds ADD COLUMN sample_policy TEXT NOT NULL DEFAULT 'replace'
    CHECK (sample_policy IN ('replace', 'add'));

-- A feed's series keys, numbered once. last_bucket is the newest bucket
-- delivered that was not after its receipt.
CREATE TABLE series (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    feed_id     INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    last_bucket INTEGER,
    CONSTRAINT series_feed_key UNIQUE (feed_id, key)
);
INSERT INTO series (feed_id, key) SELECT DISTINCT feed_id, series FROM samples;

CREATE TABLE samples_by_bucket (
    series_id   INTEGER NOT NULL,
    bucket      INTEGER NOT NULL,
    fields      TEXT    NOT NULL,
    delivery_id INTEGER,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;

-- The newest row of each bucket wins, as it will from now on.
INSERT INTO samples_by_bucket (series_id, bucket, fields, delivery_id)
SELECT series_id, bucket, fields, delivery_id FROM (
    SELECT sr.id AS series_id,
           (CAST(strftime('%s', s.ts) AS INTEGER) / f.interval_seconds) * f.interval_seconds AS bucket,
           s.fields, s.delivery_id,
           ROW_NUMBER() OVER (PARTITION BY sr.id, (CAST(strftime('%s', s.ts) AS INTEGER) / f.interval_seconds) ORDER BY s.id DESC) AS n
    FROM samples s
    JOIN feeds f ON f.id = s.feed_id
    JOIN series sr ON sr.feed_id = s.feed_id AND sr.key = s.series
) WHERE n = 1;
UPDATE series SET last_bucket = (SELECT max(bucket) FROM samples_by_bucket WHERE series_id = series.id);

DROP TABLE slo_points;
DROP TABLE samples;
ALTER TABLE samples_by_bucket RENAME TO samples;

CREATE TABLE sample_parts (
    series_id INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    row_hash  BLOB    NOT NULL,
    PRIMARY KEY (series_id, bucket, row_hash)
) WITHOUT ROWID;

CREATE TABLE slo_hours (
    slo_id     INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    hour       INTEGER NOT NULL,
    bad        REAL    NOT NULL DEFAULT 0,
    total      REAL    NOT NULL DEFAULT 0,
    excluded   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (slo_id, generation, hour)
) WITHOUT ROWID;
CREATE TABLE slo_days (
    slo_id     INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    bad        REAL    NOT NULL DEFAULT 0,
    total      REAL    NOT NULL DEFAULT 0,
    excluded   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (slo_id, generation, day)
) WITHOUT ROWID;

-- The read model (see the PostgreSQL migration); SQLite has one writer, so
-- versions come from max(version) + 1 instead of a sequence.
ALTER TABLE slo_state DROP COLUMN last_point_at;
ALTER TABLE slo_state ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE slo_state ADD COLUMN summary_version INTEGER NOT NULL DEFAULT -1;
ALTER TABLE slo_state ADD COLUMN summary_at DATETIME;
UPDATE slo_state SET version = version + 1;

UPDATE slos SET pending_generation = generation + 1, rederive_done = 0, rederive_total = 0 WHERE pending_generation IS NULL;
INSERT OR IGNORE INTO slo_bindings (slo_id, generation, feed_id, series, indicator, good_field, bad_field, total_field, value_field, op, threshold)
SELECT b.slo_id, s.pending_generation, b.feed_id, b.series, b.indicator, b.good_field, b.bad_field, b.total_field, b.value_field, b.op, b.threshold
FROM slo_bindings b JOIN slos s ON s.id = b.slo_id AND b.generation = s.generation;
DELETE FROM slo_bindings WHERE generation < (SELECT generation FROM slos WHERE slos.id = slo_bindings.slo_id);

ALTER TABLE deliveries ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN from_receipt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN outside_window INTEGER NOT NULL DEFAULT 0;

-- +goose Down
-- Irreversible: restore the backup taken before upgrading.
SELECT * FROM migration_8_sample_identity_cannot_be_undone;
