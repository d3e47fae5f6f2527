-- +goose Up
-- PostgreSQL queues roll-up changes here to fold them in after the ingest commit;
-- SQLite applies them in the ingest transaction (one writer at a time) and keeps
-- the table only so both schemas have the same tables.
CREATE TABLE rollup_queue (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    changes BLOB NOT NULL
);

-- +goose Down
DROP TABLE rollup_queue;
