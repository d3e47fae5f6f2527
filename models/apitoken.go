package models

import (
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
