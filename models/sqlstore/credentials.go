package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// LoadCredential returns the cached credential of a directory user, and false
// when there is none (never signed in online, or purged).
//
// The credential methods compare user names as given (callers pass the
// canonical, lowercased name) and touch only users with source ldap, so a
// directory login can never take over or change a local account.
func (s *Store) LoadCredential(ctx context.Context, username string) (models.CachedCredential, bool, error) {
	var rows []struct {
		UserID         int64
		Username       string
		DisplayName    string
		PasswordHash   string
		Role           models.Role
		Groups         string
		LastOnlineAt   time.Time
		FailedAttempts int
		LastFailedAt   *time.Time
		LockedUntil    *time.Time
	}
	err := s.db.WithContext(ctx).Raw(`SELECT c.user_id, u.username, u.display_name, c.password_hash, c.role,
			c."groups", c.last_online_at, c.failed_attempts, c.last_failed_at, c.locked_until
		FROM cached_credentials c JOIN users u ON u.id = c.user_id
		WHERE u.username = ? AND u.source = 'ldap'`, username).Scan(&rows).Error
	if err != nil {
		return models.CachedCredential{}, false, fmt.Errorf("load cached credential of %q: %w", username, err)
	}
	if len(rows) == 0 {
		return models.CachedCredential{}, false, nil
	}
	r := rows[0]
	c := models.CachedCredential{
		UserID: r.UserID, Username: r.Username, DisplayName: r.DisplayName, PasswordHash: r.PasswordHash,
		Role: r.Role, LastOnlineAt: r.LastOnlineAt.UTC(), FailedAttempts: r.FailedAttempts,
		LastFailedAt: utcPtr(r.LastFailedAt), LockedUntil: utcPtr(r.LockedUntil),
	}
	if err := json.Unmarshal([]byte(r.Groups), &c.Groups); err != nil {
		return models.CachedCredential{}, false, fmt.Errorf("cached credential of %q: groups: %w", username, err)
	}
	return c, true, nil
}

// SaveOnlineLogin records a successful directory login: it creates or
// updates the users row (source ldap, role, display name,
// last_online_login_at) and overwrites the cached credential with a fresh
// hash and role, resetting the offline failure count. It returns the user's
// id. A local account with the same name is left alone: ECONFLICT.
func (s *Store) SaveOnlineLogin(ctx context.Context, l models.OnlineLogin) (int64, error) {
	name := strings.TrimSpace(l.Username)
	if name == "" || name != strings.ToLower(name) {
		return 0, models.Errorf(models.EINVALID, "user name %q is not canonical (lowercase, trimmed)", l.Username)
	}
	if _, err := models.ParseRole(string(l.Role)); err != nil {
		return 0, err
	}
	at, now := l.At.UTC(), s.now()
	var id int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The WHERE of DO UPDATE keeps local accounts out of reach: for them
		// nothing is updated, nothing returned, and id stays 0.
		err := tx.Raw(`INSERT INTO users (username, display_name, source, role, last_online_login_at, directory_stamp, directory_checked_at, created_at, updated_at)
			VALUES (?, ?, 'ldap', ?, ?, ?, ?, ?, ?)
			ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role,
				last_online_login_at = excluded.last_online_login_at, directory_stamp = excluded.directory_stamp,
				directory_checked_at = excluded.directory_checked_at, updated_at = excluded.updated_at
			WHERE users.source = 'ldap'
			RETURNING id`, name, l.DisplayName, string(l.Role), at, l.DirectoryStamp, at, now, now).Scan(&id).Error
		if err != nil {
			return fmt.Errorf("save user %q: %w", name, err)
		}
		if id == 0 {
			return models.Errorf(models.ECONFLICT, "%q is a local account; a directory user of the same name cannot sign in", name)
		}
		if l.PasswordHash == "" {
			if err := tx.Where("user_id = ?", id).Delete(&models.CachedCredential{}).Error; err != nil {
				return fmt.Errorf("drop cached credential of %q: %w", name, err)
			}
			return nil
		}
		groups := l.Groups
		if groups == nil {
			groups = []string{}
		}
		c := models.CachedCredential{UserID: id, PasswordHash: l.PasswordHash, Role: l.Role, Groups: groups, LastOnlineAt: at}
		err = tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"password_hash", "role", "groups", "last_online_at", "failed_attempts", "last_failed_at", "locked_until"}),
		}).Create(&c).Error
		if err != nil {
			return fmt.Errorf("save cached credential of %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// RecordOfflineFailure counts a failed login against the cached credential
// at time at; the failure that reaches lockAfter (0: never) locks offline
// logins until lockUntil. One statement, so concurrent failures all count.
func (s *Store) RecordOfflineFailure(ctx context.Context, username string, at time.Time, lockAfter int, lockUntil time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE cached_credentials SET
			failed_attempts = failed_attempts + 1,
			last_failed_at = ?,
			locked_until = CASE WHEN ? > 0 AND failed_attempts + 1 >= ? THEN ? ELSE locked_until END
		WHERE user_id IN (SELECT id FROM users WHERE username = ? AND source = 'ldap')`,
		at.UTC(), lockAfter, lockAfter, lockUntil.UTC(), username).Error
	if err != nil {
		return fmt.Errorf("record offline failure of %q: %w", username, err)
	}
	return nil
}

// RecordOfflineSuccess resets the offline failure count and lockout and sets
// users.last_cached_login_at. It leaves last_online_at alone: a login from
// the cache never extends the cache's life.
func (s *Store) RecordOfflineSuccess(ctx context.Context, username string, at time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE users SET last_cached_login_at = ?, updated_at = ? WHERE username = ? AND source = 'ldap'`,
			at.UTC(), s.now(), username).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE cached_credentials SET failed_attempts = 0, locked_until = NULL
			WHERE user_id IN (SELECT id FROM users WHERE username = ? AND source = 'ldap')`, username).Error
	})
	if err != nil {
		return fmt.Errorf("record offline success of %q: %w", username, err)
	}
	return nil
}

// DeleteCredential removes the cached credential of a directory user, after
// the directory definitively refused them; the users row stays. It is not
// an error when there is none.
func (s *Store) DeleteCredential(ctx context.Context, username string) error {
	err := s.db.WithContext(ctx).Exec(`DELETE FROM cached_credentials
		WHERE user_id IN (SELECT id FROM users WHERE username = ? AND source = 'ldap')`, username).Error
	if err != nil {
		return fmt.Errorf("delete cached credential of %q: %w", username, err)
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
