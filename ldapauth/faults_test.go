package ldapauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
)

// faultConfig points at one fault server; its people live under ou=people
// like slapd's, so testConfig's mappings apply.
func faultConfig(url string) ldapauth.Config {
	cfg := testConfig(url)
	cfg.BreakerFailures = 0
	return cfg
}

// Every way the directory can fail to decide (hung, busy, unavailable, TLS
// broken, service account refused) ends in the cache, which accepts sam
// (who signed in online before) with the role of that login. Where a
// person must act, the log says so at ERROR.
func TestFaultsFallBackToCache(t *testing.T) {
	trusted := newPKI(t, "127.0.0.1")
	otherHost := newPKI(t, "ldap.example.org")
	cases := []struct {
		name   string
		server func(t *testing.T) (url string, cfg func(*ldapauth.Config))
		want   expect
		loud   string // text of an ERROR line that must be logged
	}{
		{"busy: search answers 51", func(t *testing.T) (string, func(*ldapauth.Config)) {
			d := startFaultDirectory(t, plainLDAP, nil)
			d.setMode(modeBusy, 0)
			return d.url, nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonBusy), ""},
		{"unavailable: bind answers 52", func(t *testing.T) (string, func(*ldapauth.Config)) {
			d := startFaultDirectory(t, plainLDAP, nil)
			d.setMode(modeUnavailable, 0)
			return d.url, nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonBusy), ""},
		{"service account refused: 49", func(t *testing.T) (string, func(*ldapauth.Config)) {
			d := startFaultDirectory(t, plainLDAP, nil)
			d.setMode(modeSvc49, 0)
			return d.url, nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonServiceAccountRefused), "refused the service account"},
		{"service account not allowed: 50", func(t *testing.T) (string, func(*ldapauth.Config)) {
			d := startFaultDirectory(t, plainLDAP, nil)
			d.setMode(modeSvc50, 0)
			return d.url, nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonServiceAccountRefused), "refused the service account"},
		{"slower than the request timeout", func(t *testing.T) (string, func(*ldapauth.Config)) {
			d := startFaultDirectory(t, plainLDAP, nil)
			d.setMode(modeSlow, 3*time.Second)
			return d.url, nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonTimeout), ""},
		{"accepts connections, never answers", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return hungListener(t), nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonTimeout), ""},
		{"accept queue full: dial timeout", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return fullBacklog(t), nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonTimeout), ""},
		{"LDAPS port that never answers the handshake", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return "ldaps://" + strings.TrimPrefix(hungListener(t), "ldap://"), nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonTimeout), ""},
		{"request timeout longer than the whole login: the login wins", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return hungListener(t), func(c *ldapauth.Config) { c.RequestTimeout, c.LoginTimeout = 10*time.Second, 300*time.Millisecond }
		}, fromCache(models.RoleSRE, ldapauth.ReasonTimeout), ""},
		{"StartTLS accepted, handshake never comes", func(t *testing.T) (string, func(*ldapauth.Config)) {
			d := startFaultDirectory(t, startTLS, trusted.server)
			d.setMode(modeStallTLS, 0)
			return d.url, func(c *ldapauth.Config) {
				c.StartTLS, c.CAFile = true, trusted.caFile
				c.RequestTimeout, c.LoginTimeout = 10*time.Second, 300*time.Millisecond
			}
		}, fromCache(models.RoleSRE, ldapauth.ReasonTimeout), ""},
		{"LDAPS signed by an untrusted CA", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return startFaultDirectory(t, ldapsTLS, trusted.server).url, nil
		}, fromCache(models.RoleSRE, ldapauth.ReasonTLSError), "SECURITY: TLS with the directory failed"},
		{"LDAPS certificate for another host", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return startFaultDirectory(t, ldapsTLS, otherHost.server).url, func(c *ldapauth.Config) { c.CAFile = otherHost.caFile }
		}, fromCache(models.RoleSRE, ldapauth.ReasonTLSError), "SECURITY: TLS with the directory failed"},
		{"StartTLS signed by an untrusted CA", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return startFaultDirectory(t, startTLS, trusted.server).url, func(c *ldapauth.Config) { c.StartTLS = true }
		}, fromCache(models.RoleSRE, ldapauth.ReasonTLSError), "SECURITY: TLS with the directory failed"},
		{"StartTLS on a server without TLS", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return startFaultDirectory(t, plainLDAP, nil).url, func(c *ldapauth.Config) { c.StartTLS = true }
		}, fromCache(models.RoleSRE, ldapauth.ReasonTLSError), "SECURITY: TLS with the directory failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// sam signs in online once, against a healthy server, on the same database.
			healthy := startFaultDirectory(t, plainLDAP, nil)
			seed := newHarness(t, faultConfig(healthy.url))
			seed.check("sam", "sampw", online(models.RoleSRE))

			url, mutate := tc.server(t)
			cfg := faultConfig(url)
			if mutate != nil {
				mutate(&cfg)
			}
			h := newHarnessOn(t, seed.store, seed.clock, cfg)
			h.checkWithin(cfg.LoginTimeout+raceFactor*300*time.Millisecond, "sam", "sampw", tc.want) // plus one hash and the database
			h.check("sam", "Wr0ng-sam", refusedByCache(ldapauth.ReasonCacheBadPassword, tc.want.dirReason))
			if tc.loud != "" && !containsLine(h.logs.String(), "level=ERROR", tc.loud) {
				t.Fatalf("no ERROR line with %q:\n%s", tc.loud, h.logs)
			}
		})
	}
}

// TLS that verifies: LDAPS and StartTLS with the CA from CAFile, and a
// directory slower than usual but within the budget.
func TestDirectoryAnswersOverTLSAndWhenSlow(t *testing.T) {
	pki := newPKI(t, "127.0.0.1")
	cases := []struct {
		name   string
		server func(t *testing.T) (string, func(*ldapauth.Config))
	}{
		{"LDAPS with the CA file", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return startFaultDirectory(t, ldapsTLS, pki.server).url, func(c *ldapauth.Config) { c.CAFile = pki.caFile }
		}},
		{"StartTLS with the CA file", func(t *testing.T) (string, func(*ldapauth.Config)) {
			return startFaultDirectory(t, startTLS, pki.server).url, func(c *ldapauth.Config) { c.CAFile, c.StartTLS = pki.caFile, true }
		}},
		{"slow, within the request timeout", func(t *testing.T) (string, func(*ldapauth.Config)) {
			d := startFaultDirectory(t, plainLDAP, nil)
			d.setMode(modeSlow, 50*time.Millisecond)
			return d.url, nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, mutate := tc.server(t)
			cfg := faultConfig(url)
			if mutate != nil {
				mutate(&cfg)
			}
			h := newHarness(t, cfg)
			h.check("sam", "sampw", online(models.RoleSRE))
			h.check("sam", "Wr0ng-sam", refusedByDirectory(ldapauth.ReasonBadPassword))
		})
	}
}

// What reaches the directory is the escaped filter, byte for byte.
func TestUserFilterIsEscaped(t *testing.T) {
	d := startFaultDirectory(t, plainLDAP, nil)
	h := newHarness(t, faultConfig(d.url))
	cases := []struct{ typed, filter string }{
		{"*)(uid=*", `(&(objectClass=inetOrgPerson)(uid=\2a\29\28uid=\2a))`},
		{`a\b`, `(&(objectClass=inetOrgPerson)(uid=a\5cb))`},
		{"zoë", `(&(objectClass=inetOrgPerson)(uid=zo\c3\ab))`},
		{"sam", `(&(objectClass=inetOrgPerson)(uid=sam))`},
	}
	for _, tc := range cases {
		_, _, _ = h.login(tc.typed, "some-password")
		got := d.recordedFilters()
		if len(got) == 0 || got[len(got)-1] != tc.filter {
			t.Errorf("typed %q: the directory received %q, want %q", tc.typed, got, tc.filter)
		}
	}
	// A name with a NUL or another control character names nobody: it never
	// reaches the directory.
	before := len(d.recordedFilters())
	h.check("x\x00y", "some-password", refusedByDirectory(ldapauth.ReasonInvalidInput))
	if n := len(d.recordedFilters()); n != before {
		t.Errorf("a name with a NUL reached the directory: %q", d.recordedFilters()[before:])
	}
}

// With the fallback on but no cached credential, a refused service account
// ends in a refusal by the cache; with it off, in DirectoryUnusable.
func TestServiceAccountRefusedWithoutCache(t *testing.T) {
	d := startFaultDirectory(t, plainLDAP, nil)
	d.setMode(modeSvc49, 0)
	newHarness(t, faultConfig(d.url)).check("sam", "sampw",
		refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonServiceAccountRefused))
	cfg := faultConfig(d.url)
	cfg.CacheMaxAge = 0
	newHarness(t, cfg).check("sam", "sampw",
		expect{outcome: ldapauth.DirectoryUnusable, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonServiceAccountRefused})
}
