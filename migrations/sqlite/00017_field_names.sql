-- +goose Up
-- Field names numbered once: a sample stores its fields as [id, value, id, value, ...]
-- (models/sqlstore/sample_fields.go) instead of a JSON object naming each field.
-- Samples stored before stay JSON objects and are read as such.
CREATE TABLE field_names (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);

-- +goose Down
-- Samples stored as [id, value, ...] become JSON objects again first.
UPDATE samples SET fields = COALESCE((
    SELECT json_group_object(n.name, v.value)
    FROM json_each(samples.fields) AS k
    JOIN json_each(samples.fields) AS v ON v.key = k.key + 1
    JOIN field_names n ON n.id = k.value
    WHERE k.key % 2 = 0), '{}')
WHERE fields LIKE '[%';
DROP TABLE field_names;
