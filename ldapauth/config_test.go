package ldapauth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// New refuses a configuration that could only fail at the first login,
// naming what is wrong.
func TestNewRefusesBadConfig(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(*ldapauth.Config)
		says   string
	}{
		{"no URL", func(c *ldapauth.Config) { c.URLs = nil }, "no directory URL"},
		{"http URL", func(c *ldapauth.Config) { c.URLs = []string{"http://ldap.example.org"} }, "ldap://host:389"},
		{"ldaps and StartTLS", func(c *ldapauth.Config) { c.URLs, c.StartTLS = []string{"ldaps://ldap.example.org"}, true }, "one or the other"},
		{"no user base", func(c *ldapauth.Config) { c.UserBase = "" }, "UserBase"},
		{"filter without placeholder", func(c *ldapauth.Config) { c.UserFilter = "(uid=alice)" }, "{username}"},
		{"filter that does not parse", func(c *ldapauth.Config) { c.UserFilter = "(&(uid={username})" }, "filter"},
		{"bind DN without password", func(c *ldapauth.Config) { c.BindPassword = "" }, "BindDN and BindPassword"},
		{"no group source", func(c *ldapauth.Config) { c.GroupAttribute, c.GroupBase = "", "" }, "GroupAttribute or GroupBase"},
		{"group filter without placeholder", func(c *ldapauth.Config) { c.GroupBase, c.GroupFilter = "ou=groups,dc=example,dc=org", "(cn=x)" }, "GroupFilter"},
		{"no role mappings", func(c *ldapauth.Config) { c.RoleMappings = nil }, "role mappings"},
		{"unknown role", func(c *ldapauth.Config) { c.RoleMappings[0].Role = "root" }, "RoleMappings[0]"},
		{"group that is not a DN", func(c *ldapauth.Config) { c.RoleMappings[1].GroupDN = "sre" }, "RoleMappings[1]"},
		{"missing CA file", func(c *ldapauth.Config) { c.CAFile = "/nonexistent/ca.pem" }, "CAFile"},
		{"CA file without a certificate", func(c *ldapauth.Config) { c.CAFile = notPEM }, "no PEM certificate"},
		{"negative duration", func(c *ldapauth.Config) { c.CacheMaxAge = -1 }, "negative"},
	}
	store := dbtest.Open(t, "sqlite")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("ldap://127.0.0.1:1")
			tc.mutate(&cfg)
			_, err := ldapauth.New(cfg, store, nil)
			if models.ErrorCode(err) != models.EINVALID || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("New = %v, want an invalid-config error mentioning %q", err, tc.says)
			}
		})
	}
	if _, err := ldapauth.New(testConfig("ldap://127.0.0.1:1"), nil, nil); err == nil {
		t.Fatal("New accepted a nil store")
	}
}

// Passwords sent in clear to a remote host are warned about.
func TestNewWarnsAboutPlaintext(t *testing.T) {
	cfg := testConfig("ldap://ldap.example.org")
	h := newHarness(t, cfg)
	if !containsLine(h.logs.String(), "level=WARN", "in clear", "ldap://ldap.example.org") {
		t.Errorf("no warning about a plaintext directory:\n%s", h.logs)
	}
	cfg.URLs = []string{"ldap://127.0.0.1:389"}
	if h := newHarness(t, cfg); strings.Contains(h.logs.String(), "in clear") {
		t.Errorf("a loopback directory was warned about:\n%s", h.logs)
	}
}
