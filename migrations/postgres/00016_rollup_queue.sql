-- +goose Up
-- What each ingest transaction changes in its SLOs' hour and day roll-ups, series
-- data times and SLO versions, waiting to be folded in: the transaction stores its
-- samples and one row here, and a fold applies every row queued so far at once and
-- deletes them (models/sqlstore/fold.go). Rows live for milliseconds.
CREATE TABLE rollup_queue (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changes BYTEA NOT NULL
);

-- +goose Down
-- Run `serve` until the queue is empty before migrating below this version: the
-- changes still queued would be lost from the roll-ups (the samples keep them).
DROP TABLE rollup_queue;
