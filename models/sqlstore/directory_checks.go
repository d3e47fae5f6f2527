package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/sitemetrics/sitemetrics/models"
)

// DirectoryUsersToCheck returns up to limit directory users with a live
// session whose account was last checked against the directory (or signed
// in) before the given time, those never checked first.
func (s *Store) DirectoryUsersToCheck(ctx context.Context, before time.Time, limit int) ([]models.DirectoryCheck, error) {
	var out []models.DirectoryCheck
	err := s.db.WithContext(ctx).Raw(`SELECT u.id AS user_id, u.username, u.role, u.directory_stamp AS stamp FROM users u
		WHERE u.source = 'ldap' AND (u.directory_checked_at IS NULL OR u.directory_checked_at < ?)
			AND EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id AND s.expires_at > ?)
		ORDER BY u.directory_checked_at IS NOT NULL, u.directory_checked_at, u.id LIMIT ?`, before.UTC(), s.now(), limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list directory users to check: %w", err)
	}
	return out, nil
}

// RecordDirectoryCheck stores what a check of the user found, at once for
// every replica: nothing changed, or their sessions end, and with them the
// cached credential (deleted, no role, account changed) or its role
// snapshot (role changed), so that a directory outage cannot bring back
// what the directory took away. It returns how many sessions ended.
func (s *Store) RecordDirectoryCheck(ctx context.Context, userID int64, at time.Time, v models.CheckVerdict) (int64, error) {
	var ended int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE users SET directory_checked_at = ? WHERE id = ? AND source = 'ldap'`, at.UTC(), userID).Error; err != nil {
			return err
		}
		if v.Reason == "" {
			return nil
		}
		res := tx.Where("user_id = ?", userID).Delete(&models.Session{})
		if res.Error != nil {
			return res.Error
		}
		ended = res.RowsAffected
		if v.Reason == models.CheckRoleChanged {
			if err := tx.Exec(`UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, string(v.Role), s.now(), userID).Error; err != nil {
				return err
			}
			return tx.Exec(`UPDATE cached_credentials SET role = ? WHERE user_id = ?`, string(v.Role), userID).Error
		}
		if err := tx.Exec(`UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, string(v.Role), s.now(), userID).Error; err != nil {
			return err
		}
		return tx.Where("user_id = ?", userID).Delete(&models.CachedCredential{}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("record the directory check of user %d: %w", userID, err)
	}
	return ended, nil
}
