package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "sitemetrics.toml", `
addr = ":7000"
data_dir = "/from/file"
log_level = "debug"
[ingest]
max_bytes = "2MiB"
`)
	env := map[string]string{"SITEMETRICS_CONFIG": file, "SITEMETRICS_ADDR": ":7100", "SITEMETRICS_LOG_LEVEL": "warn"}
	cfg, err := loadConfig(map[string]string{"addr": ":7200"}, getenvFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":7200" || cfg.LogLevel != "warn" || cfg.DataDir != "/from/file" || cfg.IngestMaxBytes != 2<<20 || cfg.IngestMaxRows != 5000 {
		t.Fatalf("flag > env > file > default broken: %+v", cfg)
	}
	if cfg.BaseURL != "http://localhost:7200" {
		t.Fatalf("default base URL %q", cfg.BaseURL)
	}
	if cfg.TimeZone != time.UTC {
		t.Fatalf("default time zone %v, want UTC", cfg.TimeZone)
	}
	if cfg.Auth.CacheMaxAge != 7*24*time.Hour || cfg.LDAP.DialTimeout != 2*time.Second || cfg.LDAP.LoginTimeout != 5*time.Second {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestConfigLDAPFromFileAndEnv(t *testing.T) {
	pw := writeFile(t, "bind", "s3cret\n")
	toml := writeFile(t, "c.toml", `
[ldap]
url = "ldaps://a.corp.example:636 ldaps://b.corp.example:636"
bind_dn = "cn=svc,ou=services,dc=corp,dc=example"
bind_password_file = "`+pw+`"
user_base = "ou=people,dc=corp,dc=example"

[[ldap.role_mappings]]
group_dn = "cn=sitemetrics-admins,ou=groups,dc=corp,dc=example"
role = "admin"

[[ldap.role_mappings]]
group_dn = "cn=sre,ou=groups,dc=corp,dc=example"
role = "sre"
`)
	yml := writeFile(t, "c.yaml", `
ldap:
  url: [ldaps://a.corp.example:636, ldaps://b.corp.example:636]
  bind_dn: cn=svc,ou=services,dc=corp,dc=example
  bind_password_file: `+pw+`
  user_base: ou=people,dc=corp,dc=example
  role_mappings:
    - {group_dn: "cn=sitemetrics-admins,ou=groups,dc=corp,dc=example", role: admin}
    - {group_dn: "cn=sre,ou=groups,dc=corp,dc=example", role: SRE}
`)
	for _, file := range []string{toml, yml} {
		cfg, err := loadConfig(nil, getenvFrom(map[string]string{"SITEMETRICS_CONFIG": file}))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		l := cfg.LDAP
		if len(l.URLs) != 2 || l.BindPassword != "s3cret" || len(l.RoleMappings) != 2 || l.RoleMappings[1].Role != models.RoleSRE ||
			l.UserFilter != "(&(objectClass=inetOrgPerson)(uid={username}))" {
			t.Fatalf("%s: %+v", filepath.Base(file), l)
		}
		// Role mappings in the environment replace the file's.
		cfg, err = loadConfig(nil, getenvFrom(map[string]string{"SITEMETRICS_CONFIG": file,
			"SITEMETRICS_LDAP_ROLE_VIEWER": "cn=all,ou=groups,dc=corp,dc=example; cn=execs,ou=groups,dc=corp,dc=example"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.LDAP.RoleMappings) != 2 || cfg.LDAP.RoleMappings[0].Role != models.RoleViewer || cfg.LDAP.RoleMappings[1].GroupDN != "cn=execs,ou=groups,dc=corp,dc=example" {
			t.Fatalf("env role mappings: %+v", cfg.LDAP.RoleMappings)
		}
	}
}

// Out of the box the app answers this machine only; every interface is one setting away.
func TestConfigDefaultAddressIsLocal(t *testing.T) {
	cfg, err := loadConfig(nil, getenvFrom(map[string]string{"SITEMETRICS_TIME_ZONE": "Europe/Madrid"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.BaseURL != "http://localhost:8080" {
		t.Fatalf("default addr %q, base URL %q", cfg.Addr, cfg.BaseURL)
	}
	if cfg.TimeZone == nil || cfg.TimeZone.String() != "Europe/Madrid" {
		t.Fatalf("time zone %v", cfg.TimeZone)
	}
	cfg, err = loadConfig(map[string]string{"addr": ":8080"}, getenvFrom(nil))
	if err != nil || cfg.Addr != ":8080" {
		t.Fatalf("every interface: %v %+v", err, cfg)
	}
}

// A bad or contradictory configuration stops the start with one line naming the setting.
func TestConfigErrorsNameTheSetting(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		flags map[string]string
		file  string
		want  string
	}{
		{"bad address", map[string]string{"SITEMETRICS_ADDR": "8080"}, nil, "", "SITEMETRICS_ADDR"},
		{"bad duration", map[string]string{"SITEMETRICS_AUTH_CACHE_MAX_AGE": "a week"}, nil, "", "SITEMETRICS_AUTH_CACHE_MAX_AGE"},
		{"bad flag", nil, map[string]string{"ingest.max_rows": "many"}, "", "--ingest-max-rows"},
		{"bad level", map[string]string{"SITEMETRICS_LOG_LEVEL": "loud"}, nil, "", "SITEMETRICS_LOG_LEVEL"},
		{"bad database URL", map[string]string{"SITEMETRICS_DATABASE_URL": "mysql://x"}, nil, "", "SITEMETRICS_DATABASE_URL"},
		{"bad base URL", map[string]string{"SITEMETRICS_BASE_URL": "example.com"}, nil, "", "SITEMETRICS_BASE_URL"},
		{"unknown time zone", map[string]string{"SITEMETRICS_TIME_ZONE": "Europe/Madird"}, nil, "", "SITEMETRICS_TIME_ZONE"},
		{"server-dependent time zone", nil, map[string]string{"time_zone": "Local"}, "", "--time-zone"},
		{"bad proxy", map[string]string{"SITEMETRICS_TRUSTED_PROXIES": "10.0.0.0/33"}, nil, "", "SITEMETRICS_TRUSTED_PROXIES"},
		{"unknown file key", nil, nil, "adress = \":80\"\n", `unknown setting "adress"`},
		{"bad file value", nil, nil, "[ingest]\nmax_bytes = \"huge\"\n", "config file key ingest.max_bytes"},
		{"LDAP without user base", map[string]string{"SITEMETRICS_LDAP_URL": "ldap://x:389", "SITEMETRICS_LDAP_ROLE_VIEWER": "cn=g"}, nil, "", "SITEMETRICS_LDAP_USER_BASE"},
		{"LDAP without role mappings", map[string]string{"SITEMETRICS_LDAP_URL": "ldap://x:389", "SITEMETRICS_LDAP_USER_BASE": "dc=x"}, nil, "", "no role mappings"},
		{"LDAPS and StartTLS", map[string]string{"SITEMETRICS_LDAP_URL": "ldaps://x:636", "SITEMETRICS_LDAP_START_TLS": "true", "SITEMETRICS_LDAP_USER_BASE": "dc=x", "SITEMETRICS_LDAP_ROLE_VIEWER": "cn=g"}, nil, "", "SITEMETRICS_LDAP_START_TLS"},
		{"bind DN without password", map[string]string{"SITEMETRICS_LDAP_URL": "ldap://x:389", "SITEMETRICS_LDAP_BIND_DN": "cn=svc", "SITEMETRICS_LDAP_USER_BASE": "dc=x", "SITEMETRICS_LDAP_ROLE_VIEWER": "cn=g"}, nil, "", "SITEMETRICS_LDAP_BIND_PASSWORD"},
		{"role mapping without URL", map[string]string{"SITEMETRICS_LDAP_ROLE_ADMIN": "cn=g"}, nil, "", "SITEMETRICS_LDAP_URL is empty"},
		{"missing password file", map[string]string{"SITEMETRICS_LDAP_BIND_PASSWORD_FILE": "/nonexistent/pw"}, nil, "", "SITEMETRICS_LDAP_BIND_PASSWORD_FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = map[string]string{}
			}
			if tc.file != "" {
				env["SITEMETRICS_CONFIG"] = writeFile(t, "c.toml", tc.file)
			}
			_, err := loadConfig(tc.flags, getenvFrom(env))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestCLIErrors(t *testing.T) {
	env := testEnv(t, "sqlite")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"feed", "create"}, "--name is required"},
		{[]string{"feed", "create", "--name", "Bad Name"}, "lowercase"},
		{[]string{"token", "create", "--name", "x", "--role", "root"}, "not one of viewer, sre, admin"},
		{[]string{"serve", "--addr", "nope"}, "SITEMETRICS_ADDR"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"sitemetrics"}, tc.args...), getenvFrom(env), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if out := runCmd(t, env, "version"); !strings.HasPrefix(out, "sitemetrics dev (commit unknown, go1.") {
		t.Errorf("version: %q", out)
	}
}

// The README's configuration reference is generated from the code and must not drift.
func TestREADMEConfigReference(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- config-reference:begin -->\n", "<!-- config-reference:end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the config-reference markers")
	}
	if got := s[i+len(begin) : j]; got != configReference() {
		t.Fatalf("README.md's configuration reference is stale: replace it with the output of `sitemetrics config reference`")
	}
}
