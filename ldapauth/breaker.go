package ldapauth

import (
	"sync"
	"time"
)

// breaker sends logins straight to the cache while the directory is down, so
// nobody waits for a timeout (SSSD's offline mode). It opens after threshold
// consecutive Unreachable or DirectoryUnusable outcomes (both fail every
// login the same way); any answer from the directory (a rejection included)
// resets the count. Only a successful probe, or a
// successful trial login, closes it. Own code rather than gobreaker because
// closing is driven by a background probe, not by letting users through.
type breaker struct {
	mu        sync.Mutex
	threshold int           // 0: never opens
	probeGap  time.Duration // the probe interval
	failures  int
	open      bool
	since     time.Time // when it last opened or closed
	lastProbe time.Time // last probe tick of Run
	lastTrial time.Time // last login let through while open
	reason    string    // the reason that opened it
}

// allow reports whether a login may ask the directory. While open it says no,
// except that a login is let through as a trial every two probe intervals
// when no probe has run: a forgotten Run then cannot strand everyone on the
// cache.
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	quiet := b.since
	for _, t := range []time.Time{b.lastProbe, b.lastTrial} {
		if t.After(quiet) {
			quiet = t
		}
	}
	if now.Sub(quiet) >= 2*b.probeGap {
		b.lastTrial = now
		return true
	}
	return false
}

// answered records that the directory answered; it reports whether that
// closed the breaker.
func (b *breaker) answered(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	if !b.open {
		return false
	}
	b.open, b.since, b.reason = false, now, ""
	return true
}

// unreachable records a failed attempt; it reports whether that opened the breaker.
func (b *breaker) unreachable(now time.Time, reason string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.open || b.threshold == 0 || b.failures < b.threshold {
		return false
	}
	b.open, b.since, b.reason = true, now, reason
	return true
}

// probed records a probe tick, so allow knows the probe is running.
func (b *breaker) probed(now time.Time) {
	b.mu.Lock()
	b.lastProbe = now
	b.mu.Unlock()
}

func (b *breaker) state() (open bool, since time.Time, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open, b.since, b.reason
}
