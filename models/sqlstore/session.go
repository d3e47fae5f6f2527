package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// CreateSession starts a session and returns its token, once.
func (s *Store) CreateSession(ctx context.Context, in models.SessionInput) (string, models.Session, error) {
	plain, hash, _ := models.NewSecret("")
	now := s.now()
	idle := in.Idle
	if idle <= 0 || idle > in.Lifetime {
		idle = in.Lifetime
	}
	sess := models.Session{TokenHash: hash, UserID: in.UserID, Role: in.Role, Source: in.Source, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(in.Lifetime), IdleSeconds: int(idle / time.Second), ClientIP: models.Truncate(in.ClientIP, 64), UserAgent: models.Truncate(in.UserAgent, 200)}
	db := s.db.WithContext(ctx)
	if in.Replaces != "" {
		if err := db.Where("token_hash = ?", models.HashSecret(in.Replaces)).Delete(&models.Session{}).Error; err != nil {
			return "", models.Session{}, fmt.Errorf("end previous session: %w", err)
		}
	}
	if err := db.Create(&sess).Error; err != nil {
		return "", models.Session{}, fmt.Errorf("create session: %w", err)
	}
	return plain, sess, nil
}

// sessionTouchEvery bounds writes: last_seen_at moves at most once a minute, written
// in batches (sessionTouches).
const sessionTouchEvery = time.Minute

// SessionByToken returns the live session of a token; expired or idle
// sessions are ended and reported as EUNAUTHORIZED.
func (s *Store) SessionByToken(ctx context.Context, plain string) (models.SessionUser, error) {
	if plain == "" || len(plain) > 128 {
		return models.SessionUser{}, models.Errorf(models.EUNAUTHORIZED, "no session")
	}
	var su models.SessionUser
	err := s.db.WithContext(ctx).Raw(`SELECT s.*, u.username, u.display_name, u.source AS user_source,
		u.time_zone, u.must_change_password
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, models.HashSecret(plain)).Scan(&su).Error
	if err != nil {
		return models.SessionUser{}, fmt.Errorf("load session: %w", err)
	}
	if su.ID == 0 {
		return models.SessionUser{}, models.Errorf(models.EUNAUTHORIZED, "no session")
	}
	now := s.now()
	su.LastSeenAt = s.touches.lastSeen(su.ID, su.LastSeenAt)
	if !now.Before(su.ExpiresAt) || now.Sub(su.LastSeenAt) >= time.Duration(su.IdleSeconds)*time.Second {
		if err := s.db.WithContext(ctx).Delete(&models.Session{}, su.ID).Error; err != nil {
			// It is refused either way; the row goes with the next prune.
			s.log.WarnContext(ctx, "delete an expired session", "session_id", su.ID, "err", err)
		}
		return models.SessionUser{}, models.Errorf(models.EUNAUTHORIZED, "session expired")
	}
	if now.Sub(su.LastSeenAt) >= sessionTouchEvery {
		s.touch(su.ID, now)
	}
	return su, nil
}

// EndSession ends one session by its token (sign-out).
func (s *Store) EndSession(ctx context.Context, plain string) error {
	return s.db.WithContext(ctx).Where("token_hash = ?", models.HashSecret(plain)).Delete(&models.Session{}).Error
}

// EndUserSessions ends every session of a user, at once, on every replica.
func (s *Store) EndUserSessions(ctx context.Context, userID int64) (int64, error) {
	res := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&models.Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, res.Error)
	}
	return res.RowsAffected, nil
}

// UserSessions lists a user's live sessions, newest first.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]models.Session, error) {
	var out []models.Session
	if err := s.db.WithContext(ctx).Where("user_id = ? AND expires_at > ?", userID, s.now()).
		Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// PruneSessions deletes sessions past their absolute expiry.
func (s *Store) PruneSessions(ctx context.Context) error {
	return s.db.WithContext(ctx).Where("expires_at <= ?", s.now()).Delete(&models.Session{}).Error
}
