package models

import (
	"context"
	"fmt"
	"time"
)

// Session is a signed-in browser. Only the token's hash is stored, so a
// database dump does not hand out sessions; any replica can serve it.
type Session struct {
	ID          int64     `gorm:"primaryKey" json:"id"`
	TokenHash   []byte    `json:"-"`
	UserID      int64     `json:"user_id"`
	Role        Role      `json:"role"`
	Source      string    `json:"source"`
	CreatedAt   time.Time `json:"created_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	IdleSeconds int       `json:"idle_seconds"`
	ClientIP    string    `json:"client_ip"`
	UserAgent   string    `json:"user_agent"`
}

// SessionUser is a live session with its user.
type SessionUser struct {
	Session
	Username    string
	DisplayName string
	UserSource  string
}

// SessionInput is what a sign-in hands over to create a session.
type SessionInput struct {
	UserID    int64
	Role      Role
	Source    string
	Lifetime  time.Duration // absolute
	Idle      time.Duration // ends when unused this long
	ClientIP  string
	UserAgent string
	Replaces  string // the browser's previous session token, ended now (the token is renewed at login)
}

// CreateSession starts a session and returns its token, once.
func (s *Store) CreateSession(ctx context.Context, in SessionInput) (string, Session, error) {
	plain, hash, _ := NewSecret("")
	now := s.now()
	idle := in.Idle
	if idle <= 0 || idle > in.Lifetime {
		idle = in.Lifetime
	}
	sess := Session{TokenHash: hash, UserID: in.UserID, Role: in.Role, Source: in.Source, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(in.Lifetime), IdleSeconds: int(idle / time.Second), ClientIP: truncate(in.ClientIP, 64), UserAgent: truncate(in.UserAgent, 200)}
	db := s.db.WithContext(ctx)
	if in.Replaces != "" {
		if err := db.Where("token_hash = ?", HashSecret(in.Replaces)).Delete(&Session{}).Error; err != nil {
			return "", Session{}, fmt.Errorf("end previous session: %w", err)
		}
	}
	if err := db.Create(&sess).Error; err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	return plain, sess, nil
}

// sessionTouchEvery bounds writes: last_seen_at moves at most once a minute.
const sessionTouchEvery = time.Minute

// SessionByToken returns the live session of a token; expired or idle
// sessions are ended and reported as EUNAUTHORIZED.
func (s *Store) SessionByToken(ctx context.Context, plain string) (SessionUser, error) {
	if plain == "" || len(plain) > 128 {
		return SessionUser{}, Errorf(EUNAUTHORIZED, "no session")
	}
	var su SessionUser
	err := s.db.WithContext(ctx).Raw(`SELECT s.*, u.username, u.display_name, u.source AS user_source
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, HashSecret(plain)).Scan(&su).Error
	if err != nil {
		return SessionUser{}, fmt.Errorf("load session: %w", err)
	}
	if su.ID == 0 {
		return SessionUser{}, Errorf(EUNAUTHORIZED, "no session")
	}
	now := s.now()
	if !now.Before(su.ExpiresAt) || now.Sub(su.LastSeenAt) >= time.Duration(su.IdleSeconds)*time.Second {
		_ = s.db.WithContext(ctx).Delete(&Session{}, su.ID).Error
		return SessionUser{}, Errorf(EUNAUTHORIZED, "session expired")
	}
	if now.Sub(su.LastSeenAt) >= sessionTouchEvery {
		if err := s.db.WithContext(ctx).Model(&Session{}).Where("id = ?", su.ID).Update("last_seen_at", now).Error; err != nil {
			return SessionUser{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return su, nil
}

// EndSession ends one session by its token (sign-out).
func (s *Store) EndSession(ctx context.Context, plain string) error {
	return s.db.WithContext(ctx).Where("token_hash = ?", HashSecret(plain)).Delete(&Session{}).Error
}

// EndUserSessions ends every session of a user, at once, on every replica.
func (s *Store) EndUserSessions(ctx context.Context, userID int64) (int64, error) {
	res := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, res.Error)
	}
	return res.RowsAffected, nil
}

// UserSessions lists a user's live sessions, newest first.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]Session, error) {
	var out []Session
	if err := s.db.WithContext(ctx).Where("user_id = ? AND expires_at > ?", userID, s.now()).
		Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// PruneSessions deletes sessions past their absolute expiry.
func (s *Store) PruneSessions(ctx context.Context) error {
	return s.db.WithContext(ctx).Where("expires_at <= ?", s.now()).Delete(&Session{}).Error
}
