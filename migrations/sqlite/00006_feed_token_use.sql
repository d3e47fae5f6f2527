-- +goose Up
-- When a feed token was last presented, recorded at lookup (at most once a
-- minute), instead of aggregating the whole delivery log on every feeds page.
ALTER TABLE feed_tokens ADD COLUMN last_used_at DATETIME;
UPDATE feed_tokens SET last_used_at = (SELECT max(received_at) FROM deliveries d WHERE d.token_id = feed_tokens.id);

-- +goose Down
ALTER TABLE feed_tokens DROP COLUMN last_used_at;
