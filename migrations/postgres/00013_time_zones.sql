-- +goose Up
-- Each person's display time zone (an IANA name), set on /account or at
-- /api/v1/me; '' means the installation's (the time_zone setting).
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
-- A wall screen's zone, chosen when its kiosk link is created; '' means the installation's.
ALTER TABLE kiosk_links ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE kiosk_links DROP COLUMN time_zone;
ALTER TABLE users DROP COLUMN time_zone;
