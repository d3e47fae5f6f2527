package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// CreateKioskLink makes a link valid for the given time, for a screen in the
// given zone ("" is the installation's), and returns its token, once.
func (s *Store) CreateKioskLink(ctx context.Context, actor, name string, valid time.Duration, tz string) (string, models.KioskLink, error) {
	var fe models.FieldErrors
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		fe.Add("name", "name the screen it is for, e.g. \"lobby TV\" (at most 100 characters)")
	}
	if valid <= 0 || valid > 366*24*time.Hour {
		fe.Add("days", "a kiosk link is valid for 1 to 366 days")
	}
	if tz = strings.TrimSpace(tz); tz != "" {
		if loc, err := models.LoadZone(tz); fe.AddErr(err) {
			tz = loc.String()
		}
	}
	if err := fe.Err(); err != nil {
		return "", models.KioskLink{}, err
	}
	plain, hash, hint := models.NewSecret(models.KioskPrefix)
	now := s.now()
	k := models.KioskLink{Name: name, TokenHash: hash, Hint: hint, CreatedBy: actor, CreatedAt: now, ExpiresAt: now.Add(valid), TimeZone: tz}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&k).Error; err != nil {
			return fmt.Errorf("create kiosk link: %w", err)
		}
		return s.audit(tx, actor, "create", "kiosk_link", k.ID, "kiosk link "+k.Name, nil, k)
	})
	return plain, k, err
}

// KioskLinkBySecret checks a kiosk token: unknown, revoked and expired all
// answer EUNAUTHORIZED.
func (s *Store) KioskLinkBySecret(ctx context.Context, plain string) (models.KioskLink, error) {
	if !strings.HasPrefix(plain, models.KioskPrefix) || len(plain) > 128 {
		return models.KioskLink{}, models.Errorf(models.EUNAUTHORIZED, "this kiosk link is not valid")
	}
	var k models.KioskLink
	now := s.now()
	if err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL AND expires_at > ?", models.HashSecret(plain), now).
		Limit(1).Find(&k).Error; err != nil {
		return models.KioskLink{}, fmt.Errorf("look up kiosk link: %w", err)
	}
	if k.ID == 0 {
		return models.KioskLink{}, models.Errorf(models.EUNAUTHORIZED, "this kiosk link has expired or was revoked: ask an admin for a new one")
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > 5*time.Minute {
		if err := s.db.WithContext(ctx).Model(&models.KioskLink{}).Where("id = ?", k.ID).Update("last_used_at", now).Error; err != nil {
			// The link is good; only its "last used" on the admin page lags.
			s.log.WarnContext(ctx, "record the use of a kiosk link", "kiosk_id", k.ID, "err", err)
		}
	}
	return k, nil
}

// KioskLinks lists every link, newest first.
func (s *Store) KioskLinks(ctx context.Context) ([]models.KioskLink, error) {
	var out []models.KioskLink
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list kiosk links: %w", err)
	}
	return out, nil
}

// RevokeKioskLink stops a link at once.
func (s *Store) RevokeKioskLink(ctx context.Context, actor string, id int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.KioskLink{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.ENOTFOUND, "active kiosk link %d not found", id)
		}
		return s.audit(tx, actor, "revoke", "kiosk_link", id, "kiosk link revoked", nil, nil)
	})
}
