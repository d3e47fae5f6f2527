package models

import (
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
	// TimeZone and MustChangePassword are the user's, read with the session.
	TimeZone           string
	MustChangePassword bool
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
