package ldapauth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

const (
	svcDN     = "cn=svc,ou=system,dc=example,dc=org"
	adminsDN  = "cn=admins,ou=groups,dc=example,dc=org"
	sreDN     = "cn=sre,ou=groups,dc=example,dc=org"
	viewersDN = "cn=viewers,ou=groups,dc=example,dc=org"
)

// testConfig is the directory of testdata/ldap with timeouts shrunk so that
// a hung directory costs a test a fraction of a second.
func testConfig(urls ...string) ldapauth.Config {
	c := ldapauth.DefaultConfig()
	c.URLs = urls
	c.BindDN, c.BindPassword = svcDN, "svcpw"
	c.UserBase = "ou=people,dc=example,dc=org"
	c.RoleMappings = []ldapauth.RoleMapping{
		{GroupDN: viewersDN, Role: models.RoleViewer},
		{GroupDN: sreDN, Role: models.RoleSRE},
		{GroupDN: "CN=Admins, OU=Groups, DC=Example, DC=Org", Role: models.RoleAdmin}, // DNs compare as DNs
	}
	c.DialTimeout = 250 * time.Millisecond
	c.RequestTimeout = 250 * time.Millisecond
	c.LoginTimeout = 400 * time.Millisecond
	c.ProbeInterval = 50 * time.Millisecond
	c.FailureTime = 0      // TestRefusalsTakeTheFailureTime sets it
	c.CacheFullRoleFor = 0 // TestCachedRoleIsCappedWhenOld sets it
	c.RevalidateEvery = 0  // TestSessionsFollowTheDirectory sets it
	// The race detector slows TLS handshakes and argon2id several times.
	c.DialTimeout, c.RequestTimeout, c.LoginTimeout = raceFactor*c.DialTimeout, raceFactor*c.RequestTimeout, raceFactor*c.LoginTimeout
	return c
}

// clock is an injectable time that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// countingDialer is a real net.Dialer that counts its dials, to prove that
// an open breaker sends nothing to the directory.
type countingDialer struct {
	d     net.Dialer
	dials atomic.Int64
}

func (c *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c.dials.Add(1)
	return c.d.DialContext(ctx, network, addr)
}

// logBuffer collects every log line of a harness, for the checks that no
// password is ever logged and that trouble is logged loudly.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// harness is an Authenticator on a real SQLite store with a fake clock, a
// counting dialer and captured logs.
type harness struct {
	t      testing.TB
	cfg    ldapauth.Config
	auth   *ldapauth.Authenticator
	store  *sqlstore.Store
	clock  *clock
	dialer *countingDialer
	logs   *logBuffer

	mu      sync.Mutex
	secrets map[string]bool
}

func newHarness(t testing.TB, cfg ldapauth.Config, opts ...ldapauth.Option) *harness {
	t.Helper()
	return newHarnessOn(t, dbtest.Open(t, "sqlite"), newClock(), cfg, opts...)
}

// newHarnessOn builds a harness on an existing store and clock: a second
// Authenticator on the same database is another replica, or the same
// replica configured against a directory that is down.
func newHarnessOn(t testing.TB, store *sqlstore.Store, clk *clock, cfg ldapauth.Config, opts ...ldapauth.Option) *harness {
	t.Helper()
	h := &harness{t: t, cfg: cfg, store: store, clock: clk, dialer: &countingDialer{}, logs: &logBuffer{}, secrets: map[string]bool{}}
	if cfg.BindPassword != "" {
		h.secrets[cfg.BindPassword] = true
	}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]ldapauth.Option{ldapauth.WithClock(clk.Now), ldapauth.WithDialer(h.dialer)}, opts...)
	a, err := ldapauth.New(cfg, store, log, opts...)
	if err != nil {
		t.Fatalf("ldapauth.New: %v", err)
	}
	h.auth = a
	t.Cleanup(func() {
		// No password ever reaches the log.
		logs := h.logs.String()
		h.mu.Lock()
		defer h.mu.Unlock()
		for s := range h.secrets {
			if strings.Contains(logs, s) {
				t.Errorf("a password (%d chars) appears in the log", len(s))
			}
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("ldapauth log:\n%s", logs)
		}
	})
	return h
}

// login authenticates, and checks that the error does not carry the password.
func (h *harness) login(user, password string) (ldapauth.Identity, ldapauth.Outcome, error) {
	h.t.Helper()
	h.mu.Lock()
	if len(password) >= 4 {
		h.secrets[password] = true
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, o, err := h.auth.Authenticate(ctx, user, password)
	if err != nil && len(password) >= 4 && strings.Contains(err.Error(), password) {
		h.t.Errorf("the error of %s's login contains the password: %v", user, err)
	}
	if (o == ldapauth.Accepted) != (err == nil) {
		h.t.Errorf("login %s: outcome %s with error %v: only Accepted comes without an error", user, o, err)
	}
	return id, o, err
}

// expect is what a login should produce.
type expect struct {
	outcome   ldapauth.Outcome
	source    string
	reason    string
	dirReason string      // for cache decisions: why the directory could not decide
	role      models.Role // for Accepted
}

func (h *harness) check(user, password string, want expect) ldapauth.Identity {
	h.t.Helper()
	id, o, err := h.login(user, password)
	h.verify(user, id, o, err, want)
	return id
}

// checkWithin is check with a time budget; a login that hangs fails the
// test after the budget (plus a grace) instead of hanging it.
func (h *harness) checkWithin(budget time.Duration, user, password string, want expect) time.Duration {
	h.t.Helper()
	type result struct {
		id   ldapauth.Identity
		o    ldapauth.Outcome
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		id, o, err := h.login(user, password)
		done <- result{id, o, err, time.Since(start)}
	}()
	select {
	case r := <-done:
		if r.took > budget {
			h.t.Fatalf("login %q took %v, budget %v", user, r.took, budget)
		}
		h.verify(user, r.id, r.o, r.err, want)
		return r.took
	case <-time.After(budget + 2*time.Second):
		h.t.Fatalf("login %q did not return within %v", user, budget+2*time.Second)
		return 0
	}
}

func (h *harness) verify(user string, id ldapauth.Identity, o ldapauth.Outcome, err error, want expect) {
	h.t.Helper()
	var f *ldapauth.Failure
	gotSource, gotReason, gotDir := id.Source, ldapauth.Reason(err), id.DirectoryReason
	if errors.As(err, &f) {
		gotSource, gotDir = f.Source, f.DirectoryReason
	}
	if o != want.outcome || gotSource != want.source || gotReason != want.reason || gotDir != want.dirReason {
		h.t.Fatalf("login %q: got %s/%s/%s (directory %q), want %s/%s/%s (directory %q); err: %v",
			user, o, gotSource, gotReason, gotDir, want.outcome, want.source, want.reason, want.dirReason, err)
	}
	if o == ldapauth.Accepted && (id.Role != want.role || id.UserID == 0) {
		h.t.Fatalf("login %q: identity %+v, want role %s and a user id", user, id, want.role)
	}
	if o != ldapauth.Accepted && (id.Username != "" || id.Role != "") {
		h.t.Fatalf("login %q refused but returned an identity: %+v", user, id)
	}
}

// cached returns the user's cached credential, if any.
func (h *harness) cached(user string) (models.CachedCredential, bool) {
	h.t.Helper()
	c, ok, err := h.store.LoadCredential(context.Background(), user)
	if err != nil {
		h.t.Fatal(err)
	}
	return c, ok
}

// deadURL returns an ldap:// URL on 127.0.0.1 where nothing listens: the
// directory as seen when it is down and the host answers "refused".
func deadURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "ldap://" + addr
}

// down returns a second Authenticator on the same store and clock whose
// directory refuses connections, with the breaker off so that each login
// really tries: "the directory is down" without stopping the shared slapd.
func (h *harness) down(mutate ...func(*ldapauth.Config)) *harness {
	h.t.Helper()
	cfg := h.cfg
	cfg.URLs = []string{deadURL(h.t)}
	cfg.BreakerFailures = 0
	for _, m := range mutate {
		m(&cfg)
	}
	return newHarnessOn(h.t, h.store, h.clock, cfg)
}

// containsLine reports whether one line of the log holds every part.
func containsLine(logs string, parts ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// The real store is what production signs in against.
var _ ldapauth.CredentialStore = (*sqlstore.Store)(nil)
