package ldapauth_test

import (
	"slices"

	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
)

// Slapd is stopped; people who signed in before get in from
// the cache with the right password, and nobody else does.
func TestDirectoryStoppedFallsBackToCache(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	cfg.BreakerFailures = 0 // every login meets the stopped server
	h := newHarness(t, cfg)
	first := h.check("sam", "sampw", online(models.RoleSRE))
	h.check("alice", "alicepw", online(models.RoleAdmin))

	dir.stop(t)
	h.clock.Advance(time.Hour)
	cases := []struct {
		name, user, password string
		want                 expect
	}{
		{"signed in before, right password", "sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown)},
		{"name in another case", "SAM", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown)},
		{"signed in before, wrong password", "alice", "Wr0ng-alice", refusedByCache(ldapauth.ReasonCacheBadPassword, ldapauth.ReasonDirectoryDown)},
		{"another cached user's password", "alice", "sampw", refusedByCache(ldapauth.ReasonCacheBadPassword, ldapauth.ReasonDirectoryDown)},
		{"never signed in online", "eve", "evepw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonDirectoryDown)},
		{"unknown to everyone", "zed", "zedpw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonDirectoryDown)},
		{"empty password still refused before anything", "sam", "", refusedByDirectory(ldapauth.ReasonEmptyPassword)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			id := h.check(tc.user, tc.password, tc.want)
			if tc.want.outcome != ldapauth.Accepted {
				return
			}
			if id.Username != "sam" || id.UserID != first.UserID || id.DN != "" || !slices.Equal(id.Groups, first.Groups) ||
				!id.LastOnlineAt.Equal(first.LastOnlineAt) || id.DisplayName != "Sam SRE" {
				t.Fatalf("cache identity %+v, online identity %+v", id, first)
			}
		})
	}
	h.t = t
	if c, _ := h.cached("alice"); c.FailedAttempts != 2 {
		t.Fatalf("alice's offline failures = %d, want 2", c.FailedAttempts)
	}
	if c, _ := h.cached("sam"); !c.LastOnlineAt.Equal(first.LastOnlineAt) {
		t.Fatalf("a cache login moved last_online_at to %v", c.LastOnlineAt)
	}
	if _, ok := h.cached("eve"); ok {
		t.Fatal("a cache login created a user")
	}

	// Back online: the directory decides again and refreshes the snapshot.
	dir.start(t)
	h.clock.Advance(time.Minute)
	h.check("alice", "alicepw", online(models.RoleAdmin))
	if c, _ := h.cached("alice"); c.FailedAttempts != 0 || !c.LastOnlineAt.Equal(h.clock.Now()) {
		t.Fatalf("the online login did not reset the cache: %+v", c)
	}
}

// The cache works CacheMaxAge after the last online login,
// not after the last cache login; 0 disables the fallback.
func TestCacheExpiry(t *testing.T) {
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	h.check("sam", "sampw", online(models.RoleSRE))
	offline := h.down()

	steps := []struct {
		name    string
		advance time.Duration
		want    expect
	}{
		{"six days later", 6 * 24 * time.Hour, fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown)},
		{"exactly seven days", 24 * time.Hour, fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown)},
		{"a second more: the cache login the day before did not extend it", time.Second, refusedByCache(ldapauth.ReasonCacheExpired, ldapauth.ReasonDirectoryDown)},
	}
	for _, st := range steps {
		h.clock.Advance(st.advance)
		offline.check("sam", "sampw", st.want)
	}
	// One online login later, it works again.
	h.check("sam", "sampw", online(models.RoleSRE))
	offline.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown))
}

func TestFallbackDisabled(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	cfg.CacheMaxAge = 0
	h := newHarness(t, cfg)
	h.check("sam", "sampw", online(models.RoleSRE))
	if _, ok := h.cached("sam"); ok {
		t.Fatal("a hash was cached with the fallback disabled")
	}
	h.down(func(c *ldapauth.Config) { c.CacheMaxAge = 0 }).check("sam", "sampw",
		expect{outcome: ldapauth.Unreachable, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonDirectoryDown})
}

// After OfflineMaxFailures wrong passwords the cache refuses
// even the right one until OfflineLockout has passed; the lockout is
// checked before the hash, so locked attempts are not even counted.
func TestOfflineLockout(t *testing.T) {
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	h.check("sam", "sampw", online(models.RoleSRE))
	offline := h.down()

	bad := refusedByCache(ldapauth.ReasonCacheBadPassword, ldapauth.ReasonDirectoryDown)
	locked := refusedByCache(ldapauth.ReasonCacheLocked, ldapauth.ReasonDirectoryDown)
	for i := 0; i < 5; i++ {
		h.clock.Advance(time.Second)
		offline.check("sam", "Wr0ng-sam", bad)
	}
	offline.check("sam", "sampw", locked)
	offline.check("sam", "Wr0ng-sam", locked)
	if c, _ := h.cached("sam"); c.FailedAttempts != 5 {
		t.Fatalf("failed attempts %d, want 5: locked attempts must not reach the hash", c.FailedAttempts)
	}
	h.clock.Advance(5*time.Minute - time.Second)
	offline.check("sam", "sampw", locked)
	h.clock.Advance(time.Second)
	offline.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown))
	if c, _ := h.cached("sam"); c.FailedAttempts != 0 || c.LockedUntil != nil {
		t.Fatalf("a cache login did not reset the lockout: %+v", c)
	}
}

// SSSD's offline_failed_login_delay = 0: locked until the next online login.
func TestOfflineLockoutUntilOnlineLogin(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	cfg.OfflineMaxFailures, cfg.OfflineLockout = 2, 0
	h := newHarness(t, cfg)
	h.check("sam", "sampw", online(models.RoleSRE))
	offline := h.down(func(c *ldapauth.Config) { c.OfflineMaxFailures, c.OfflineLockout = 2, 0 })
	for i := 0; i < 2; i++ {
		offline.check("sam", "Wr0ng-sam", refusedByCache(ldapauth.ReasonCacheBadPassword, ldapauth.ReasonDirectoryDown))
	}
	h.clock.Advance(30 * 24 * time.Hour / 5) // long after any delay, within CacheMaxAge
	offline.check("sam", "sampw", refusedByCache(ldapauth.ReasonCacheLocked, ldapauth.ReasonDirectoryDown))
	h.check("sam", "sampw", online(models.RoleSRE))
	offline.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown))
}

// On the cache path, a name without a cached credential, an expired
// or a locked one costs an argon2id hash like a real check does, so response
// times do not reveal who has a usable cached credential.
func TestCachePathPaysAHashForEveryone(t *testing.T) {
	if raceDetector {
		t.Skip("timing is not measurable under the race detector; make test runs this without it")
	}
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	h.check("sam", "sampw", online(models.RoleSRE))
	h.check("eve", "evepw", online(models.RoleViewer))
	offline := h.down(func(c *ldapauth.Config) { c.OfflineMaxFailures = 1 })
	offline.check("eve", "Wr0ng-eve", refusedByCache(ldapauth.ReasonCacheBadPassword, ldapauth.ReasonDirectoryDown)) // locks eve

	hash := oneHash()
	cases := []struct {
		name, user string
		reason     string
	}{
		{"no cached credential", "nobody-here", ldapauth.ReasonNoCachedCredentials},
		{"locked out", "eve", ldapauth.ReasonCacheLocked},
	}
	for _, tc := range cases {
		took := median(func() {
			offline.check(tc.user, "Wr0ng-sam", refusedByCache(tc.reason, ldapauth.ReasonDirectoryDown))
		})
		t.Logf("%s: refused in %v; one hash takes %v", tc.name, took, hash)
		if took < hash/3 {
			t.Errorf("%s: refused in %v, far less than one hash (%v): the dummy hash is missing", tc.name, took, hash)
		}
	}
	h.clock.Advance(8 * 24 * time.Hour)
	took := median(func() {
		offline.check("sam", "sampw", refusedByCache(ldapauth.ReasonCacheExpired, ldapauth.ReasonDirectoryDown))
	})
	if took < hash/3 {
		t.Errorf("expired: refused in %v, far less than one hash (%v)", took, hash)
	}
}

// On the directory path too, every refusal costs one hash (the purge check,
// or a dummy): an unknown user what a wrong password does, so the answer
// time does not tell who exists; and someone without a role whose password
// is right what a wrong password does, so it does not tell the password.
func TestDirectoryRejectionsPayAHash(t *testing.T) {
	if raceDetector {
		t.Skip("timing is not measurable under the race detector; make test runs this without it")
	}
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	h.check("sam", "sampw", online(models.RoleSRE))
	hash := oneHash()
	cases := []struct{ name, user, password, reason string }{
		{"unknown user", "nobody-here", "Wr0ng-pw", ldapauth.ReasonUnknownUser},
		{"wrong password, nothing cached", "eve", "Wr0ng-pw", ldapauth.ReasonBadPassword},
		{"wrong password, cached", "sam", "Wr0ng-pw", ldapauth.ReasonBadPassword},
		{"no role, right password", "nora", "norapw", ldapauth.ReasonNoRole},
		{"no role, wrong password", "nora", "Wr0ng-pw", ldapauth.ReasonBadPassword},
	}
	for _, tc := range cases {
		took := median(func() { h.check(tc.user, tc.password, refusedByDirectory(tc.reason)) })
		t.Logf("%s: refused in %v; one hash takes %v", tc.name, took, hash)
		if took < hash/3 {
			t.Errorf("%s: refused in %v, far less than one hash (%v)", tc.name, took, hash)
		}
	}
}

// Every refusal, whatever its reason and whoever decided, takes at least
// FailureTime and not much more, so the small differences left between the
// paths (a round trip, a database write) cannot be measured either.
func TestRefusalsTakeTheFailureTime(t *testing.T) {
	if raceDetector {
		t.Skip("timing is not measurable under the race detector; make test runs this without it")
	}
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	cfg.FailureTime = 150 * time.Millisecond
	h := newHarness(t, cfg)
	h.check("sam", "sampw", online(models.RoleSRE))
	offline := h.down(func(c *ldapauth.Config) { c.FailureTime = cfg.FailureTime })
	cases := []struct {
		name           string
		h              *harness
		user, password string
		want           expect
	}{
		{"unknown user", h, "nobody-here", "Wr0ng-pw", refusedByDirectory(ldapauth.ReasonUnknownUser)},
		{"wrong password", h, "eve", "Wr0ng-pw", refusedByDirectory(ldapauth.ReasonBadPassword)},
		{"no role, right password", h, "nora", "norapw", refusedByDirectory(ldapauth.ReasonNoRole)},
		{"empty password", h, "eve", "", refusedByDirectory(ldapauth.ReasonEmptyPassword)},
		{"NUL in the name", h, "eve\x00", "evepw", refusedByDirectory(ldapauth.ReasonInvalidInput)},
		{"directory down, never signed in", offline, "olga", "olgapw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonDirectoryDown)},
	}
	for _, tc := range cases {
		// The fastest of a few: load on the machine only adds time.
		took := time.Hour
		for range 5 {
			start := time.Now()
			tc.h.check(tc.user, tc.password, tc.want)
			took = min(took, time.Since(start))
		}
		t.Logf("%s: refused in %v", tc.name, took)
		if took < cfg.FailureTime || took > cfg.FailureTime+60*time.Millisecond {
			t.Errorf("%s: refused in %v, want %v to %v", tc.name, took, cfg.FailureTime, cfg.FailureTime+60*time.Millisecond)
		}
	}
}

// median runs f seven times and returns the median duration.
func median(f func()) time.Duration {
	var ds []time.Duration
	for i := 0; i < 7; i++ {
		start := time.Now()
		f()
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[3]
}

// oneHash measures one argon2id with the production parameters here: the
// yardstick of the timing tests.
func oneHash() time.Duration {
	salt := make([]byte, 16)
	return median(func() { argon2.IDKey([]byte("Wr0ng-pw"), salt, 2, 19456, 1, 32) })
}

// Slapd hangs (SIGSTOP): connections open and nobody answers. The
// login still returns within LoginTimeout and falls back to the cache.
func TestHungDirectoryFallsBackWithinLoginTimeout(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	cfg.BreakerFailures = 0
	h := newHarness(t, cfg)
	h.check("sam", "sampw", online(models.RoleSRE))

	dir.pause(t)
	budget := cfg.LoginTimeout + raceFactor*250*time.Millisecond // plus one hash and the database
	took := h.checkWithin(budget, "sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonTimeout))
	t.Logf("hung directory: login answered from cache in %v", took)
	h.checkWithin(budget, "eve", "evepw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonTimeout))
	dir.resume(t)
	h.check("sam", "sampw", online(models.RoleSRE))
}
