-- +goose Up
-- Read-only links for wall screens: /tv?k=<token>; only the hash is stored.
CREATE TABLE kiosk_links (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT        NOT NULL,
    token_hash   BLOB       NOT NULL UNIQUE,
    hint         TEXT        NOT NULL,
    created_by   TEXT        NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    revoked_at   DATETIME,
    last_used_at DATETIME
);

-- +goose Down
DROP TABLE kiosk_links;
