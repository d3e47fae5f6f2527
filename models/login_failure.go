package models

import (
	"time"
)

// LoginFailure is one failed sign-in, counted to throttle by user and by IP.
type LoginFailure struct {
	ID       int64 `gorm:"primaryKey"`
	Username string
	ClientIP string
	At       time.Time
}
