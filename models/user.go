package models

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	// DirectoryStamp and DirectoryCheckedAt serve the background check of
	// directory users' sessions (see DirectoryCheck).
	DirectoryStamp     string     `json:"-"`
	DirectoryCheckedAt *time.Time `json:"directory_checked_at"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// MinPasswordLength is the shortest password a local account may have.
const MinPasswordLength = 12

// NormalizeUsername is the form user names are stored, compared and throttled in.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidLoginName reports whether s can be anyone's login name: valid UTF-8
// without control characters. A NUL, for one, cannot be stored in
// PostgreSQL's text and names nobody in a directory.
func ValidLoginName(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// LoginKey is s made storable, for counting attempts under names that are
// not valid: invalid bytes and control characters become U+FFFD.
func LoginKey(s string) string {
	s = strings.ToValidUTF8(NormalizeUsername(s), "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// UserSummary is a user with their live sessions, for the admin page.
type UserSummary struct {
	User
	Sessions int `json:"active_sessions"`
}
