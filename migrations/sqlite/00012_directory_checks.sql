-- +goose Up
-- Sessions of directory users are re-checked against the directory in the
-- background: directory_stamp is the value, at the last directory sign-in,
-- of an attribute that changes with the account (modifyTimestamp by
-- default), and directory_checked_at when the account was last checked.
ALTER TABLE users ADD COLUMN directory_stamp TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN directory_checked_at DATETIME;

-- +goose Down
ALTER TABLE users DROP COLUMN directory_checked_at;
ALTER TABLE users DROP COLUMN directory_stamp;
