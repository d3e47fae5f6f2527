package models

import (
	"time"
)

// CachedCredential is the cached-credential fallback of one directory user:
// an argon2id hash of the password and the role it had at the last
// successful directory login, plus the offline lockout counters.
type CachedCredential struct {
	UserID         int64      `gorm:"primaryKey;autoIncrement:false"`
	PasswordHash   string     // PHC string, "$argon2id$v=19$m=…,t=…,p=…$salt$hash"
	Role           Role       // snapshot of the role at LastOnlineAt
	Groups         []string   `gorm:"serializer:json"` // snapshot of the group DNs at LastOnlineAt
	LastOnlineAt   time.Time  // the cache expires counting from here, never from an offline login
	FailedAttempts int        // offline failures since the last success, online or offline
	LastFailedAt   *time.Time // last offline failure
	LockedUntil    *time.Time // offline logins refused before this instant

	// Username and DisplayName come from the users row; LoadCredential fills them.
	Username    string `gorm:"-"`
	DisplayName string `gorm:"-"`
}

// OnlineLogin is what a successful directory login leaves behind.
type OnlineLogin struct {
	Username     string // canonical: lowercased value of the directory's username attribute
	DisplayName  string
	Role         Role
	Groups       []string
	PasswordHash string // empty: keep no cached credential (the fallback is disabled)
	At           time.Time
	// DirectoryStamp is the account's change attribute (modifyTimestamp)
	// now; the background check compares it to see the account change.
	DirectoryStamp string
}
