package ldapauth

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// Zero timeouts mean the defaults, never "wait forever"; TLS always
// verifies the host named in the URL, with TLS 1.2 at least.
func TestPrepareFillsDefaultsAndTLS(t *testing.T) {
	cfg := Config{
		URLs:           []string{"ldaps://ldap1.example.org", "ldap://ldap2.example.org:10389"},
		UserBase:       "ou=people,dc=example,dc=org",
		RoleMappings:   []RoleMapping{{GroupDN: "cn=sre,ou=groups,dc=example,dc=org", Role: models.RoleSRE}},
		GroupAttribute: "memberOf",
	}
	servers, mappings, err := cfg.prepare()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DialTimeout != 2*time.Second || cfg.RequestTimeout != 3*time.Second || cfg.LoginTimeout != 5*time.Second ||
		cfg.ProbeInterval != 15*time.Second || cfg.UserFilter != DefaultUserFilter || cfg.UsernameAttribute != "uid" || cfg.DisplayNameAttr != "cn" {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
	want := []struct {
		addr, host string
		ldaps      bool
	}{{"ldap1.example.org:636", "ldap1.example.org", true}, {"ldap2.example.org:10389", "ldap2.example.org", false}}
	for i, w := range want {
		s := servers[i]
		if s.addr != w.addr || s.ldaps != w.ldaps || s.tls.ServerName != w.host || s.tls.MinVersion != tls.VersionTLS12 || s.tls.InsecureSkipVerify {
			t.Errorf("server %d: %+v (tls %+v), want %+v", i, s, s.tls, w)
		}
	}
	if len(mappings) != 1 || mappings[0].role != models.RoleSRE {
		t.Fatalf("mappings %+v", mappings)
	}
}
