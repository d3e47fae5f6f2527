-- +goose Up
-- Read-only links for wall screens: /tv?k=<token>; only the hash is stored.
CREATE TABLE kiosk_links (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT        NOT NULL,
    token_hash   BYTEA       NOT NULL UNIQUE,
    hint         TEXT        NOT NULL,
    created_by   TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

-- +goose Down
DROP TABLE kiosk_links;
