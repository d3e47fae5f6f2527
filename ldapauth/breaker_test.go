package ldapauth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
)

// runProbe runs the Authenticator's background probe until the test ends.
func runProbe(t *testing.T, a *ldapauth.Authenticator) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A hung directory opens the breaker after
// BreakerFailures logins; while it is open logins dial nothing and answer
// from the cache at the cost of one hash; after SIGCONT the background
// probe closes it and the next login goes to the directory and refreshes
// the cache.
func TestBreakerOpensOnHungDirectoryAndProbeClosesIt(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	h := newHarness(t, cfg)
	h.check("sam", "sampw", online(models.RoleSRE))
	before := h.dialer.dials.Load()

	dir.pause(t)
	for i := 1; i <= cfg.BreakerFailures; i++ {
		h.checkWithin(cfg.LoginTimeout+raceFactor*250*time.Millisecond, "sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonTimeout))
		if up := h.auth.DirectoryUp(); up != (i < cfg.BreakerFailures) {
			t.Fatalf("after %d timeouts DirectoryUp = %v", i, up)
		}
	}
	if st := h.auth.Status(); st.DirectoryUp || st.Reason != ldapauth.ReasonTimeout || !st.Since.Equal(h.clock.Now()) {
		t.Fatalf("status %+v", st)
	}
	if !containsLine(h.logs.String(), "level=WARN", "circuit open") {
		t.Errorf("opening the breaker is not logged")
	}

	open := h.dialer.dials.Load()
	if open-before != int64(cfg.BreakerFailures) {
		t.Fatalf("%d dials to open the breaker, want %d", open-before, cfg.BreakerFailures)
	}
	for i := 0; i < 5; i++ {
		// One hash and the database; waiting for the hung directory would
		// cost at least RequestTimeout (250 ms; more under -race).
		took := h.checkWithin(cfg.RequestTimeout*4/5, "sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonBreakerOpen))
		if i == 0 {
			t.Logf("breaker open: cache login in %v", took)
		}
	}
	h.check("sam", "Wr0ng-sam", refusedByCache(ldapauth.ReasonCacheBadPassword, ldapauth.ReasonBreakerOpen))
	h.check("eve", "evepw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonBreakerOpen))
	if got := h.dialer.dials.Load(); got != open {
		t.Fatalf("%d dials while the breaker was open, want 0", got-open)
	}

	// The probe keeps failing while slapd hangs, and succeeds after SIGCONT.
	runProbe(t, h.auth)
	time.Sleep(3 * cfg.ProbeInterval)
	if h.auth.DirectoryUp() {
		t.Fatal("the probe closed the breaker while the directory hangs")
	}
	dir.resume(t)
	waitFor(t, 5*time.Second, "probe closes the breaker", h.auth.DirectoryUp)
	if !containsLine(h.logs.String(), "probe succeeded", "circuit closed") {
		t.Errorf("closing the breaker is not logged")
	}

	h.clock.Advance(time.Hour)
	h.check("sam", "sampw", online(models.RoleSRE))
	if c, _ := h.cached("sam"); !c.LastOnlineAt.Equal(h.clock.Now()) {
		t.Fatalf("the first login after recovery did not refresh the cache: %+v", c)
	}
}

// The same with a restart: slapd stopped, the breaker opens after refused
// connections; slapd started again, the probe closes it.
func TestProbeClosesBreakerAfterRestart(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	h := newHarness(t, cfg)
	h.check("eve", "evepw", online(models.RoleViewer))

	dir.stop(t)
	for i := 0; i < cfg.BreakerFailures; i++ {
		h.check("eve", "evepw", fromCache(models.RoleViewer, ldapauth.ReasonDirectoryDown))
	}
	if h.auth.DirectoryUp() {
		t.Fatal("the breaker did not open")
	}
	runProbe(t, h.auth)
	dir.start(t)
	waitFor(t, 5*time.Second, "probe closes the breaker", h.auth.DirectoryUp)
	h.check("eve", "evepw", online(models.RoleViewer))
}

// A rejection proves the directory is up: it resets the count of
// unreachable logins.
func TestRejectionKeepsBreakerClosed(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	h := newHarness(t, cfg)
	h.check("sam", "sampw", online(models.RoleSRE))
	for round := 0; round < 2; round++ {
		dir.pause(t)
		for i := 0; i < cfg.BreakerFailures-1; i++ {
			h.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonTimeout))
		}
		dir.resume(t)
		h.check("sam", "Wr0ng-sam", refusedByDirectory(ldapauth.ReasonBadPassword))
	}
	if !h.auth.DirectoryUp() {
		t.Fatal("the breaker opened although the directory answered between the timeouts")
	}
}

// Without Run, an open breaker still lets one login through every two probe
// intervals, so a wiring mistake cannot strand everyone on the cache.
func TestBreakerTrialWithoutProbe(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	h := newHarness(t, cfg)
	h.check("sam", "sampw", online(models.RoleSRE))

	dead := testConfig(deadURL(t))
	dead.BreakerFailures = 1
	offline := newHarnessOn(t, h.store, h.clock, dead)
	offline.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown))
	offline.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonBreakerOpen))
	if got := offline.dialer.dials.Load(); got != 1 {
		t.Fatalf("%d dials, want 1", got)
	}
	h.clock.Advance(2 * dead.ProbeInterval)
	offline.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown))
	offline.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonBreakerOpen))
	if got := offline.dialer.dials.Load(); got != 2 {
		t.Fatalf("%d dials, want 2: one trial after two quiet probe intervals", got)
	}
}
