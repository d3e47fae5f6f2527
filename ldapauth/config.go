package ldapauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/sitemetrics/sitemetrics/models"
)

// Config is the directory and fallback settings; it mirrors the ldap.* and
// auth.* settings of cmd/sitemetrics.
type Config struct {
	URLs               []string // ldap:// or ldaps://, tried in order
	BindDN             string   // the read-only service account; empty: anonymous search
	BindPassword       string
	UserBase           string
	UserFilter         string // {username} is replaced by the escaped login name
	UsernameAttribute  string // canonical login name; default uid
	DisplayNameAttr    string // default cn
	GroupAttribute     string // user attribute listing group DNs, e.g. memberOf
	GroupBase          string // base of a group search, for directories without memberOf
	GroupFilter        string // {dn} and {username} are replaced, escaped
	StartTLS           bool
	CAFile             string // PEM CA bundle for the directory; empty: the system's
	InsecureSkipVerify bool   // tests only
	DialTimeout        time.Duration
	RequestTimeout     time.Duration
	LoginTimeout       time.Duration // the whole directory attempt, over every URL
	RoleMappings       []RoleMapping // ordered; the highest matched role wins

	CacheMaxAge        time.Duration // cached credentials work this long after the last online login; 0 disables the fallback
	OfflineMaxFailures int           // offline failures before the lockout; 0: no lockout
	OfflineLockout     time.Duration // lockout length; 0: until the next online login
	BreakerFailures    int           // consecutive unreachable logins that open the breaker; 0: no breaker
	ProbeInterval      time.Duration // how often Run probes the directory while the breaker is open
	// FailureTime is the least time a refused login takes, from its start, so
	// that how long a refusal took says nothing about why; 0: no floor.
	FailureTime time.Duration

	// RevalidateEvery is how often, at the most, the sessions of a directory
	// user go unchecked against the directory while it answers (Run checks
	// in the background); 0: never.
	RevalidateEvery time.Duration
	// ChangedAttribute changes whenever the account does (its password
	// above all); a check that finds another value than the last sign-in's
	// ends the sessions and purges the cached credential. Empty: not read.
	ChangedAttribute string
	// CacheFullRoleFor is how long after the last online login a cache login
	// still gets the cached role; after it, at most viewer. 0: always.
	CacheFullRoleFor time.Duration
}

// RoleMapping grants Role to the members of GroupDN.
type RoleMapping struct {
	GroupDN string
	Role    models.Role
}

// Defaults of the settings, the same as cmd/sitemetrics's.
const (
	DefaultUserFilter  = "(&(objectClass=inetOrgPerson)(uid={username}))"
	DefaultGroupFilter = "(&(objectClass=groupOfNames)(member={dn}))"
)

// DefaultConfig returns the defaults, the same as the settings' in README
// (dial 2 s, request 3 s, login 5 s, cache 7 days, 5 offline failures lock
// for 5 minutes); set URLs, the bind account, UserBase and RoleMappings on it.
func DefaultConfig() Config {
	return Config{
		UserFilter: DefaultUserFilter, UsernameAttribute: "uid", DisplayNameAttr: "cn",
		GroupAttribute: "memberOf", GroupFilter: DefaultGroupFilter,
		DialTimeout: 2 * time.Second, RequestTimeout: 3 * time.Second, LoginTimeout: 5 * time.Second,
		CacheMaxAge: 7 * 24 * time.Hour, OfflineMaxFailures: 5, OfflineLockout: 5 * time.Minute,
		BreakerFailures: 3, ProbeInterval: 15 * time.Second, FailureTime: 250 * time.Millisecond,
		RevalidateEvery: 15 * time.Minute, ChangedAttribute: "modifyTimestamp", CacheFullRoleFor: 12 * time.Hour,
	}
}

// Dialer opens the TCP connections to the directory; *net.Dialer is one.
// Tests inject their own to count dials.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Option changes how New builds an Authenticator.
type Option func(*Authenticator)

// WithDialer replaces the net.Dialer used to reach the directory.
func WithDialer(d Dialer) Option { return func(a *Authenticator) { a.dialer = d } }

// WithClock replaces time.Now for expiry, lockout and breaker decisions.
func WithClock(now func() time.Time) Option { return func(a *Authenticator) { a.now = now } }

// WithHashConcurrency bounds how many argon2id computations (19 MiB each)
// run at once; the default is 4.
func WithHashConcurrency(n int) Option {
	return func(a *Authenticator) {
		if n > 0 {
			a.hasher = newHasher(n)
		}
	}
}

// server is one directory URL, parsed once.
type server struct {
	url   string
	addr  string // host:port
	ldaps bool
	tls   *tls.Config
}

// mapping is a RoleMapping with its DN parsed, for case- and
// spacing-insensitive comparison.
type mapping struct {
	dn   *ldap.DN
	raw  string
	role models.Role
}

// prepare fills defaults and checks the settings that would otherwise fail
// at the first login, naming the setting at fault.
func (c *Config) prepare() ([]server, []mapping, error) {
	bad := func(format string, args ...any) error {
		return models.Errorf(models.EINVALID, "ldap: "+format, args...)
	}
	def := DefaultConfig()
	for _, d := range []struct {
		v *time.Duration
		d time.Duration
	}{{&c.DialTimeout, def.DialTimeout}, {&c.RequestTimeout, def.RequestTimeout}, {&c.LoginTimeout, def.LoginTimeout}, {&c.ProbeInterval, def.ProbeInterval}} {
		if *d.v == 0 {
			*d.v = d.d // zero would mean "wait forever", never what anyone wants
		}
	}
	if c.UserFilter == "" {
		c.UserFilter = def.UserFilter
	}
	if c.UsernameAttribute == "" {
		c.UsernameAttribute = def.UsernameAttribute
	}
	if c.DisplayNameAttr == "" {
		c.DisplayNameAttr = def.DisplayNameAttr
	}
	if c.GroupBase != "" && c.GroupFilter == "" {
		c.GroupFilter = def.GroupFilter
	}
	switch {
	case len(c.URLs) == 0:
		return nil, nil, bad("no directory URL")
	case c.UserBase == "":
		return nil, nil, bad("UserBase is empty")
	case !strings.Contains(c.UserFilter, "{username}"):
		return nil, nil, bad("UserFilter %q has no {username}", c.UserFilter)
	case (c.BindDN == "") != (c.BindPassword == ""):
		return nil, nil, bad("BindDN and BindPassword go together")
	case c.GroupAttribute == "" && c.GroupBase == "":
		return nil, nil, bad("set GroupAttribute or GroupBase: roles need groups")
	case c.GroupBase != "" && !strings.Contains(c.GroupFilter, "{dn}") && !strings.Contains(c.GroupFilter, "{username}"):
		return nil, nil, bad("GroupFilter %q has neither {dn} nor {username}", c.GroupFilter)
	case len(c.RoleMappings) == 0:
		return nil, nil, bad("no role mappings: nobody could sign in")
	case c.DialTimeout < 0 || c.RequestTimeout < 0 || c.LoginTimeout < 0 || c.ProbeInterval < 0 ||
		c.CacheMaxAge < 0 || c.OfflineLockout < 0 || c.OfflineMaxFailures < 0 || c.BreakerFailures < 0 || c.FailureTime < 0 ||
		c.RevalidateEvery < 0 || c.CacheFullRoleFor < 0:
		return nil, nil, bad("durations and counts must not be negative")
	}
	for _, f := range []string{c.UserFilter, c.GroupFilter} {
		if f == "" {
			continue
		}
		probe := strings.NewReplacer("{username}", "x", "{dn}", "x").Replace(f)
		if _, err := ldap.CompileFilter(probe); err != nil {
			return nil, nil, bad("filter %q: %v", f, err)
		}
	}

	var roots *x509.CertPool
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, nil, bad("CAFile: %v", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, nil, bad("CAFile %s holds no PEM certificate", c.CAFile)
		}
	}
	servers := make([]server, 0, len(c.URLs))
	for _, raw := range c.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "" {
			return nil, nil, bad("URL %q: use ldap://host:389 or ldaps://host:636", raw)
		}
		if u.Scheme == "ldaps" && c.StartTLS {
			return nil, nil, bad("URL %q is ldaps:// and StartTLS is on: use one or the other", raw)
		}
		port := u.Port()
		if port == "" {
			port = ldap.DefaultLdapPort
			if u.Scheme == "ldaps" {
				port = ldap.DefaultLdapsPort
			}
		}
		servers = append(servers, server{
			url: raw, addr: net.JoinHostPort(u.Hostname(), port), ldaps: u.Scheme == "ldaps",
			tls: &tls.Config{
				ServerName: u.Hostname(), RootCAs: roots, MinVersion: tls.VersionTLS12,
				InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // a documented test-only setting
			},
		})
	}
	mappings := make([]mapping, 0, len(c.RoleMappings))
	for i, m := range c.RoleMappings {
		role, err := models.ParseRole(string(m.Role))
		if err != nil {
			return nil, nil, bad("RoleMappings[%d] (%s): %v", i, m.GroupDN, err)
		}
		dn, err := ldap.ParseDN(strings.TrimSpace(m.GroupDN))
		if err != nil || len(dn.RDNs) == 0 {
			return nil, nil, bad("RoleMappings[%d]: %q is not a DN", i, m.GroupDN)
		}
		mappings = append(mappings, mapping{dn: dn, raw: m.GroupDN, role: role})
	}
	return servers, mappings, nil
}

// plaintext reports the URLs that would carry passwords in clear.
func (c *Config) plaintext(servers []server) []string {
	var out []string
	for _, s := range servers {
		if !s.ldaps && !c.StartTLS {
			if host, _, _ := net.SplitHostPort(s.addr); !isLoopback(host) {
				out = append(out, s.url)
			}
		}
	}
	return out
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
