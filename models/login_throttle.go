package models

import (
	"time"
)

// LoginThrottle is the policy that slows password guessing before the
// directory is asked. It keys on the pair (user name, client address), so a
// stranger's failures never delay a correct password from another address,
// and caps each address over every user name, so one address cannot try a
// password against the whole company.
type LoginThrottle struct {
	// FreeFailures is how many failed sign-ins one address may make for one
	// user name before each further attempt waits; 0 turns the per-pair
	// back-off off.
	FreeFailures int
	// BaseDelay is the wait after the first failure over FreeFailures; it
	// doubles with each failure after that, up to MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxPerAddress is how many failed sign-ins one address may make, for any
	// user names, within Window before it is refused until Window has passed
	// since its last failure; 0 turns the ceiling off.
	MaxPerAddress int
	// Window is how long a quiet counter is remembered: a pair's failures
	// are forgotten Window after its last wait ended, an address's Window
	// after its last failure.
	Window time.Duration
}

// Backoff is how long the pair must wait after its failures-th failure.
//
// For example, with FreeFailures 5, BaseDelay 1 s and MaxDelay 15 min:
// failures 1–4 wait nothing, the 5th 1 s, the 6th 2 s, the 7th 4 s, … the
// 15th 1024 s, capped at 900 s.
func (p LoginThrottle) Backoff(failures int) time.Duration {
	if p.FreeFailures <= 0 || failures < p.FreeFailures {
		return 0
	}
	d := p.BaseDelay
	for i := p.FreeFailures; i < failures; i++ {
		if d >= p.MaxDelay {
			break
		}
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// Admission is the throttle's answer to a sign-in attempt.
type Admission struct {
	Allowed bool
	// RetryAfter is how long to wait, when not allowed.
	RetryAfter time.Duration
	// Why names the counter that refused: "user_address" or "address".
	Why string
}

// LoginCounter is one row of the throttle: the failures of a user name from
// an address, or (Username "") of an address over every user name.
type LoginCounter struct {
	Username string    `gorm:"primaryKey"`
	ClientIP string    `gorm:"primaryKey"`
	Failures int       // counted at admission, forgotten on success
	LastAt   time.Time // the last admitted attempt
	NextAt   time.Time // no attempt is admitted before this
}

// TableName keeps GORM off a pluralised guess.
func (LoginCounter) TableName() string { return "login_throttle" }
