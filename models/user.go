package models

import (
	"strings"
	"time"
)

// User sources.
const (
	SourceLDAP  = "ldap"  // signed in against the directory
	SourceCache = "cache" // signed in from a saved credential (sessions only)
	SourceLocal = "local" // a local account, for installations without a directory
)

// User is someone who has signed in, or a local account.
type User struct {
	ID                 int64  `gorm:"primaryKey" json:"id"`
	Username           string `json:"username"`
	DisplayName        string `json:"display_name"`
	Source             string `json:"source"`
	Role               Role   `json:"role"`
	PasswordHash       string `json:"-"`
	MustChangePassword bool   `json:"must_change_password"`
	// TimeZone is the IANA zone pages show times in; "" is the installation's.
	TimeZone          string     `json:"time_zone"`
	LastOnlineLoginAt *time.Time `json:"last_online_login_at"`
	LastCachedLoginAt *time.Time `json:"last_cached_login_at"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// MinPasswordLength is the shortest password a local account may have.
const MinPasswordLength = 12

// NormalizeUsername is the form user names are stored, compared and throttled in.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// UserSummary is a user with their live sessions, for the admin page.
type UserSummary struct {
	User
	Sessions int `json:"active_sessions"`
}
