package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// UserByName loads a user by canonical name.
func (s *Store) UserByName(ctx context.Context, username string) (models.User, error) {
	var u models.User
	if err := s.db.WithContext(ctx).Where("username = ?", models.NormalizeUsername(username)).First(&u).Error; err != nil {
		return models.User{}, notFound(err, "user %q not found", username)
	}
	return u, nil
}

// UserByID loads a user.
func (s *Store) UserByID(ctx context.Context, id int64) (models.User, error) {
	var u models.User
	if err := s.db.WithContext(ctx).First(&u, id).Error; err != nil {
		return models.User{}, notFound(err, "user %d not found", id)
	}
	return u, nil
}

// Users lists everyone, with how many live sessions each has.
func (s *Store) Users(ctx context.Context) ([]models.UserSummary, error) {
	var users []models.User
	if err := s.db.WithContext(ctx).Order("username").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var counts []struct {
		UserID int64
		N      int
	}
	if err := s.db.WithContext(ctx).Raw("SELECT user_id, COUNT(*) AS n FROM sessions WHERE expires_at > ? GROUP BY user_id", s.now()).
		Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("count sessions: %w", err)
	}
	n := map[int64]int{}
	for _, c := range counts {
		n[c.UserID] = c.N
	}
	out := make([]models.UserSummary, len(users))
	for i, u := range users {
		out[i] = models.UserSummary{User: u, Sessions: n[u.ID]}
	}
	return out, nil
}

// EnsureLocalAdmin creates the bootstrap local account "admin" with the given
// password hash when it does not exist yet, and reports whether it did.
func (s *Store) EnsureLocalAdmin(ctx context.Context, passwordHash string, mustChange bool) (bool, error) {
	now := s.now()
	u := models.User{Username: "admin", DisplayName: "Administrator", Source: models.SourceLocal, Role: models.RoleAdmin,
		PasswordHash: passwordHash, MustChangePassword: mustChange, CreatedAt: now, UpdatedAt: now}
	res := s.db.WithContext(ctx).Where("username = ?", "admin").FirstOrCreate(&u)
	if res.Error != nil {
		return false, fmt.Errorf("bootstrap admin: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// SetLocalPassword replaces a local account's password hash.
func (s *Store) SetLocalPassword(ctx context.Context, userID int64, passwordHash string) error {
	res := s.db.WithContext(ctx).Model(&models.User{}).Where("id = ? AND source = ?", userID, models.SourceLocal).
		Updates(map[string]any{"password_hash": passwordHash, "must_change_password": false, "updated_at": s.now()})
	if res.Error != nil {
		return fmt.Errorf("set password: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.ENOTFOUND, "local account %d not found", userID)
	}
	return nil
}

// ResetLocalPassword gives a local account a new password hash (to be changed
// at its next sign-in when mustChange), ends every session of the account,
// forgets its failed sign-ins, and writes it to the audit log, in one
// transaction. It reports how many sessions ended. It refuses directory
// accounts, whose password lives in the directory.
func (s *Store) ResetLocalPassword(ctx context.Context, actor, username, passwordHash string, mustChange bool) (int64, error) {
	var ended int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u models.User
		if err := tx.Where("username = ?", models.NormalizeUsername(username)).First(&u).Error; err != nil {
			return notFound(err, "there is no account %q", username)
		}
		if u.Source != models.SourceLocal {
			return models.Errorf(models.EINVALID, "%s signs in through the directory: change the password there", u.Username)
		}
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(map[string]any{"password_hash": passwordHash,
			"must_change_password": mustChange, "updated_at": s.now()}).Error; err != nil {
			return fmt.Errorf("reset password of %s: %w", u.Username, err)
		}
		res := tx.Where("user_id = ?", u.ID).Delete(&models.Session{})
		if res.Error != nil {
			return fmt.Errorf("end sessions of %s: %w", u.Username, res.Error)
		}
		ended = res.RowsAffected
		// Its throttle rows from every address go; the per-address rows
		// (username '') count other names' failures too and stay.
		if err := tx.Where("username = ?", models.Truncate(u.Username, 200)).Delete(&models.LoginCounter{}).Error; err != nil {
			return fmt.Errorf("forget failed sign-ins of %s: %w", u.Username, err)
		}
		after := map[string]any{"must_change_password": mustChange, "sessions_ended": ended}
		return s.audit(tx, actor, "reset_password", "user", u.ID, "password of "+u.Username+" reset", nil, after)
	})
	return ended, err
}

// SetUserTimeZone sets the zone a person's pages show times in: an IANA name,
// or "" for the installation's. It returns the name as stored.
func (s *Store) SetUserTimeZone(ctx context.Context, userID int64, tz string) (string, error) {
	tz = strings.TrimSpace(tz)
	if tz != "" {
		loc, err := models.LoadZone(tz)
		if err != nil {
			return "", err
		}
		tz = loc.String()
	}
	res := s.db.WithContext(ctx).Model(&models.User{}).Where("id = ?", userID).
		Updates(map[string]any{"time_zone": tz, "updated_at": s.now()})
	if res.Error != nil {
		return "", fmt.Errorf("set time zone of user %d: %w", userID, res.Error)
	}
	if res.RowsAffected == 0 {
		return "", models.Errorf(models.ENOTFOUND, "user %d not found", userID)
	}
	return tz, nil
}

// RecordLocalLogin notes a successful local sign-in.
func (s *Store) RecordLocalLogin(ctx context.Context, userID int64) error {
	return s.db.WithContext(ctx).Model(&models.User{}).Where("id = ?", userID).
		Update("last_online_login_at", s.now()).Error
}
