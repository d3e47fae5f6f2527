package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// APIToken lets a script call /api/v1 with a role; only its hash is stored.
type APIToken struct {
	ID         int64      `gorm:"primaryKey" json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	Hash       []byte     `json:"-"`
	Hint       string     `json:"hint"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// CreateAPIToken stores a new token and returns it in plain text, once.
func (s *Store) CreateAPIToken(ctx context.Context, name string, role Role, createdBy string) (string, APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", APIToken{}, FieldErrorf("name", "name must be 1–100 characters, e.g. \"ci-deploys\"")
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", APIToken{}, &Error{Code: EINVALID, Field: "role", Message: err.Error()}
	}
	plain, hash, hint := NewSecret(APITokenPrefix)
	t := APIToken{Name: name, Role: role, Hash: hash, Hint: hint, CreatedBy: createdBy, CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		return "", APIToken{}, fmt.Errorf("create api token: %w", err)
	}
	return plain, t, nil
}

// APITokenBySecret authenticates a bearer token. Unknown and revoked tokens
// get the same EUNAUTHORIZED answer.
func (s *Store) APITokenBySecret(ctx context.Context, plain string) (APIToken, error) {
	if !strings.HasPrefix(plain, APITokenPrefix) || len(plain) > 128 {
		return APIToken{}, Errorf(EUNAUTHORIZED, "unknown or revoked API token")
	}
	hash := HashSecret(plain)
	var t APIToken
	err := s.db.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL", hash).Limit(1).Find(&t).Error
	if err != nil {
		return APIToken{}, fmt.Errorf("look up api token: %w", err)
	}
	if t.ID == 0 || !SameHash(t.Hash, hash) {
		return APIToken{}, Errorf(EUNAUTHORIZED, "unknown or revoked API token")
	}
	// Record use at most once a minute, so a busy script does not write on every call.
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		_ = s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", t.ID).Update("last_used_at", now).Error
	}
	return t, nil
}

// APITokens lists every token, newest first.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	var out []APIToken
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken stops a token from working; it stays listed.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
	if res.Error != nil {
		return fmt.Errorf("revoke api token %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ENOTFOUND, "active API token %d not found", id)
	}
	return nil
}
