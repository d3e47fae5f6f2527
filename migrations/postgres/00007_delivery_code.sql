-- +goose Up
-- A delivery records the error code of its refusal (invalid, too_large, …)
-- instead of an HTTP status: the storage layer knows outcomes, and the HTTP
-- edge alone maps them to statuses.
ALTER TABLE deliveries ADD COLUMN code TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET code = CASE status
    WHEN 400 THEN 'invalid' WHEN 404 THEN 'not_found' WHEN 413 THEN 'too_large'
    WHEN 415 THEN 'invalid' WHEN 422 THEN 'invalid' WHEN 503 THEN 'unavailable' ELSE 'internal' END
WHERE outcome = 'refused';
ALTER TABLE deliveries DROP COLUMN status;

-- +goose Down
ALTER TABLE deliveries ADD COLUMN status INTEGER NOT NULL DEFAULT 200;
UPDATE deliveries SET status = CASE code
    WHEN 'invalid' THEN 400 WHEN 'not_found' THEN 404 WHEN 'too_large' THEN 413 WHEN 'unavailable' THEN 503 ELSE 500 END
WHERE outcome = 'refused';
UPDATE deliveries SET status = 422 WHERE outcome = 'rejected';
ALTER TABLE deliveries DROP COLUMN code;
