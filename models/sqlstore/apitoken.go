package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// CreateAPIToken stores a new token and returns it in plain text, once.
func (s *Store) CreateAPIToken(ctx context.Context, name string, role models.Role, createdBy string) (string, models.APIToken, error) {
	var fe models.FieldErrors
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		fe.Add("name", "name must be 1–100 characters, e.g. \"ci-deploys\"")
	}
	role, err := models.ParseRole(string(role))
	if err != nil {
		fe.Add("role", "%s", err.Error())
	}
	if err := fe.Err(); err != nil {
		return "", models.APIToken{}, err
	}
	plain, hash, hint := models.NewSecret(models.APITokenPrefix)
	t := models.APIToken{Name: name, Role: role, Hash: hash, Hint: hint, CreatedBy: createdBy, CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		return "", models.APIToken{}, fmt.Errorf("create api token: %w", err)
	}
	return plain, t, nil
}

// APITokenBySecret authenticates a bearer token. Unknown and revoked tokens
// get the same EUNAUTHORIZED answer.
func (s *Store) APITokenBySecret(ctx context.Context, plain string) (models.APIToken, error) {
	if !strings.HasPrefix(plain, models.APITokenPrefix) || len(plain) > 128 {
		return models.APIToken{}, models.Errorf(models.EUNAUTHORIZED, "unknown or revoked API token")
	}
	hash := models.HashSecret(plain)
	var t models.APIToken
	err := s.db.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL", hash).Limit(1).Find(&t).Error
	if err != nil {
		return models.APIToken{}, fmt.Errorf("look up api token: %w", err)
	}
	if t.ID == 0 || !models.SameHash(t.Hash, hash) {
		return models.APIToken{}, models.Errorf(models.EUNAUTHORIZED, "unknown or revoked API token")
	}
	// Record use at most once a minute, so a busy script does not write on every call.
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if err := s.db.WithContext(ctx).Model(&models.APIToken{}).Where("id = ?", t.ID).Update("last_used_at", now).Error; err != nil {
			// The token is good; only its "last used" on the admin page lags.
			s.log.WarnContext(ctx, "record the use of an API token", "token_id", t.ID, "err", err)
		}
	}
	return t, nil
}

// APITokens lists every token, newest first.
func (s *Store) APITokens(ctx context.Context) ([]models.APIToken, error) {
	var out []models.APIToken
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken stops a token from working; it stays listed.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Model(&models.APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
	if res.Error != nil {
		return fmt.Errorf("revoke api token %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.ENOTFOUND, "active API token %d not found", id)
	}
	return nil
}
