package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// KioskLink opens the TV view without signing in, read-only, until it
// expires or is revoked. Only the token's hash is stored.
type KioskLink struct {
	ID         int64      `gorm:"primaryKey" json:"id"`
	Name       string     `json:"name"`
	TokenHash  []byte     `json:"-"`
	Hint       string     `json:"hint"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// CreateKioskLink makes a link valid for the given time and returns its token, once.
func (s *Store) CreateKioskLink(ctx context.Context, actor, name string, valid time.Duration) (string, KioskLink, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", KioskLink{}, FieldErrorf("name", "name the screen it is for, e.g. \"lobby TV\" (at most 100 characters)")
	}
	if valid <= 0 || valid > 366*24*time.Hour {
		return "", KioskLink{}, FieldErrorf("days", "a kiosk link is valid for 1 to 366 days")
	}
	plain, hash, hint := NewSecret(KioskPrefix)
	now := s.now()
	k := KioskLink{Name: name, TokenHash: hash, Hint: hint, CreatedBy: actor, CreatedAt: now, ExpiresAt: now.Add(valid)}
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
func (s *Store) KioskLinkBySecret(ctx context.Context, plain string) (KioskLink, error) {
	if !strings.HasPrefix(plain, KioskPrefix) || len(plain) > 128 {
		return KioskLink{}, Errorf(EUNAUTHORIZED, "this kiosk link is not valid")
	}
	var k KioskLink
	now := s.now()
	if err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL AND expires_at > ?", HashSecret(plain), now).
		Limit(1).Find(&k).Error; err != nil {
		return KioskLink{}, fmt.Errorf("look up kiosk link: %w", err)
	}
	if k.ID == 0 {
		return KioskLink{}, Errorf(EUNAUTHORIZED, "this kiosk link has expired or was revoked: ask an admin for a new one")
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > 5*time.Minute {
		_ = s.db.WithContext(ctx).Model(&KioskLink{}).Where("id = ?", k.ID).Update("last_used_at", now).Error
	}
	return k, nil
}

// KioskLinks lists every link, newest first.
func (s *Store) KioskLinks(ctx context.Context) ([]KioskLink, error) {
	var out []KioskLink
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list kiosk links: %w", err)
	}
	return out, nil
}

// RevokeKioskLink stops a link at once.
func (s *Store) RevokeKioskLink(ctx context.Context, actor string, id int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&KioskLink{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(ENOTFOUND, "active kiosk link %d not found", id)
		}
		return s.audit(tx, actor, "revoke", "kiosk_link", id, "kiosk link revoked", nil, nil)
	})
}
