package models

import (
	"time"
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
	// TimeZone is the wall screen's zone, chosen at creation; "" is the installation's.
	TimeZone string `json:"time_zone"`
}
