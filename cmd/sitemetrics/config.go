package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// Config is every setting, after defaults, file, environment and flags.
type Config struct {
	ConfigFile     string
	Addr           string
	TimeZone       *time.Location // display zone of people who have not chosen theirs
	BaseURL        string
	DatabaseURL    string
	DataDir        string
	LogFormat      string
	LogLevel       string
	TrustedProxies []string
	IngestMaxBytes int64
	IngestMaxRows  int
	Retention      time.Duration
	// SampleRetention and RollupRetention keep samples and SLO roll-ups.
	SampleRetention, RollupRetention time.Duration
	// DatabaseReadURL is an optional streaming replica for reads.
	DatabaseReadURL string
	AdminPassword   string
	LDAP            LDAPConfig
	Auth            AuthConfig
	HTTP            HTTPConfig
	secretFiles     map[string]string // secret key → file holding it, read last
}

// HTTPConfig bounds what clients can hold of the server.
type HTTPConfig struct {
	MaxConnections          int
	MaxConnectionsPerClient int
	MaxRequestsPerClient    int
	IdleTimeout             time.Duration
}

// LDAPConfig is the directory part; an empty URL means local accounts only.
type LDAPConfig struct {
	URLs               []string
	BindDN             string
	BindPassword       string
	UserBase           string
	UserFilter         string
	UsernameAttribute  string
	DisplayNameAttr    string
	GroupAttribute     string
	GroupBase          string
	GroupFilter        string
	StartTLS           bool
	CAFile             string
	InsecureSkipVerify bool
	DialTimeout        time.Duration
	RequestTimeout     time.Duration
	LoginTimeout       time.Duration
	ChangedAttribute   string
	RoleMappings       []RoleMapping
}

// RoleMapping maps one directory group to a role; the highest matched role wins.
type RoleMapping struct {
	GroupDN string      `toml:"group_dn" yaml:"group_dn"`
	Role    models.Role `toml:"role" yaml:"role"`
}

// AuthConfig is sign-in policy: sessions, the cached-credential fallback, throttling.
type AuthConfig struct {
	SessionLifetime      time.Duration
	SessionIdle          time.Duration
	CacheSessionLifetime time.Duration
	CacheMaxAge          time.Duration
	OfflineMaxFailures   int
	OfflineLockout       time.Duration
	BreakerFailures      int
	ProbeInterval        time.Duration
	MaxFailuresPerUser   int
	MaxFailuresPerIP     int
	FailureWindow        time.Duration
	FailureTime          time.Duration
	CacheFullRoleFor     time.Duration
	RevalidateInterval   time.Duration
}

// setting is one configuration entry: its file key, and how to apply a value.
// The environment variable and flag names derive from the key.
type setting struct {
	key   string
	def   string
	usage string
	apply func(c *Config, v string) error
}

func (s setting) env() string {
	return "SITEMETRICS_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(s.key))
}

func (s setting) flag() string { return strings.NewReplacer(".", "-", "_", "-").Replace(s.key) }

// settings is the one list of configuration; README's reference is generated from it.
func settings() []setting {
	return []setting{
		{"addr", "127.0.0.1:8080", "Address the web server listens on (host:port). The default answers this machine only; :8080 listens on every interface.", str(func(c *Config) *string { return &c.Addr })},
		{"base_url", "", "Public URL of the app, used in printed webhook URLs and to mark cookies Secure when https. Default: http://localhost plus the port of addr.", str(func(c *Config) *string { return &c.BaseURL })},
		{"database_url", "", "postgres://user:pass@host/db, or sqlite://PATH. Default: an SQLite file in data_dir.", str(func(c *Config) *string { return &c.DatabaseURL })},
		{"data_dir", "./data", "Directory for the SQLite file and the ingest spool.", str(func(c *Config) *string { return &c.DataDir })},
		{"time_zone", "UTC", "IANA time zone pages show times in (e.g. Europe/Madrid), for people who have not chosen theirs on their account page.", zone(func(c *Config) **time.Location { return &c.TimeZone })},
		{"log_format", "text", "Log format: text or json.", oneOf(func(c *Config) *string { return &c.LogFormat }, "text", "json")},
		{"log_level", "info", "Log level: debug, info, warn or error.", oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
		{"trusted_proxies", "", "Space-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is believed. Empty: none.", list(func(c *Config) *[]string { return &c.TrustedProxies })},
		{"http.max_connections", "0", "Most open connections; more are closed as soon as accepted. 0: the process's open-file limit less 512.", num(func(c *Config) *int { return &c.HTTP.MaxConnections })},
		{"http.max_connections_per_client", "256", "Most open connections from one client address (trusted proxies count in the total only); 0: no cap.", num(func(c *Config) *int { return &c.HTTP.MaxConnectionsPerClient })},
		{"http.max_requests_per_client", "64", "Most requests in flight from one client address (behind trusted proxies, from X-Forwarded-For); more are answered 429. Webhook deliveries are exempt: Splunk never retries. 0: no cap.", num(func(c *Config) *int { return &c.HTTP.MaxRequestsPerClient })},
		{"http.idle_timeout", "30s", "An idle keep-alive connection is closed after this long.", dur(func(c *Config) *time.Duration { return &c.HTTP.IdleTimeout })},
		{"ingest.max_bytes", "1MiB", "Largest webhook body accepted (and kept in the delivery log).", size(func(c *Config) *int64 { return &c.IngestMaxBytes })},
		{"ingest.max_rows", "5000", "Most rows accepted in one delivery.", num(func(c *Config) *int { return &c.IngestMaxRows })},
		{"ingest.retention", "30d", "How long raw deliveries are kept in the delivery log (samples are kept).", dur(func(c *Config) *time.Duration { return &c.Retention })},
		{"samples.retention", "400d", "How long samples are kept (a feed may keep its own for less). Keep it longer than the longest SLO window.", dur(func(c *Config) *time.Duration { return &c.SampleRetention })},
		{"rollups.retention", "800d", "How long the hourly and daily SLO roll-ups that monthly reports read are kept.", dur(func(c *Config) *time.Duration { return &c.RollupRetention })},
		{"database_read_url", "", "Optional read-only PostgreSQL replica (postgres://…) for pages and the API; writes and what must be exact go to database_url.", str(func(c *Config) *string { return &c.DatabaseReadURL })},
		{"admin_password", "", "Password of the local account admin, set when the account is created at first start (if unset, one is generated, printed once and must be changed at first sign-in). Later changes here are ignored: use sitemetrics admin reset-password.", secret("admin_password", func(c *Config) *string { return &c.AdminPassword })},
		{"admin_password_file", "", "File holding admin_password.", file("admin_password")},

		{"ldap.url", "", "Directory URL(s), ldap:// or ldaps://, space-separated, tried in order. Empty: no directory, local accounts only.", list(func(c *Config) *[]string { return &c.LDAP.URLs })},
		{"ldap.bind_dn", "", "DN of the read-only service account that searches for users.", str(func(c *Config) *string { return &c.LDAP.BindDN })},
		{"ldap.bind_password", "", "Password of the service account.", secret("ldap.bind_password", func(c *Config) *string { return &c.LDAP.BindPassword })},
		{"ldap.bind_password_file", "", "File holding the service account's password.", file("ldap.bind_password")},
		{"ldap.user_base", "", "Base DN under which users are searched.", str(func(c *Config) *string { return &c.LDAP.UserBase })},
		{"ldap.user_filter", "(&(objectClass=inetOrgPerson)(uid={username}))", "Search filter for a user; {username} is replaced by the escaped login name.", str(func(c *Config) *string { return &c.LDAP.UserFilter })},
		{"ldap.username_attribute", "uid", "Attribute holding the canonical login name.", str(func(c *Config) *string { return &c.LDAP.UsernameAttribute })},
		{"ldap.display_name_attribute", "cn", "Attribute holding the person's display name.", str(func(c *Config) *string { return &c.LDAP.DisplayNameAttr })},
		{"ldap.group_attribute", "memberOf", "User attribute listing group DNs. Leave empty and set group_base to search groups instead.", str(func(c *Config) *string { return &c.LDAP.GroupAttribute })},
		{"ldap.group_base", "", "Base DN for the group search (directories without memberOf).", str(func(c *Config) *string { return &c.LDAP.GroupBase })},
		{"ldap.group_filter", "(&(objectClass=groupOfNames)(member={dn}))", "Group search filter; {dn} is the user's DN, {username} the login name, both escaped.", str(func(c *Config) *string { return &c.LDAP.GroupFilter })},
		{"ldap.start_tls", "false", "Upgrade ldap:// connections with StartTLS.", boolean(func(c *Config) *bool { return &c.LDAP.StartTLS })},
		{"ldap.ca_file", "", "PEM file of the CA(s) that sign the directory's certificate. Default: the system's.", str(func(c *Config) *string { return &c.LDAP.CAFile })},
		{"ldap.insecure_skip_verify", "false", "Do not verify the directory's certificate. For tests only; never in production.", boolean(func(c *Config) *bool { return &c.LDAP.InsecureSkipVerify })},
		{"ldap.dial_timeout", "2s", "Time to connect to one directory server.", dur(func(c *Config) *time.Duration { return &c.LDAP.DialTimeout })},
		{"ldap.request_timeout", "3s", "Time for one directory request.", dur(func(c *Config) *time.Duration { return &c.LDAP.RequestTimeout })},
		{"ldap.login_timeout", "5s", "Time for a whole directory login, over every server.", dur(func(c *Config) *time.Duration { return &c.LDAP.LoginTimeout })},
		{"ldap.changed_attribute", "modifyTimestamp", "Attribute that changes whenever an account does (its password above all). When the background check finds another value than at the last sign-in, the person's sessions end and their saved credentials go. pwdChangedTime (ppolicy) or pwdLastSet (Active Directory) watch the password alone; empty: not read.", str(func(c *Config) *string { return &c.LDAP.ChangedAttribute })},
		{"ldap.role_admin", "", "Group DNs (;-separated) whose members are admins. Replaces [[ldap.role_mappings]] from the file.", roles(models.RoleAdmin)},
		{"ldap.role_sre", "", "Group DNs (;-separated) whose members are SREs.", roles(models.RoleSRE)},
		{"ldap.role_viewer", "", "Group DNs (;-separated) whose members are viewers.", roles(models.RoleViewer)},

		{"auth.session_lifetime", "12h", "Absolute lifetime of a session.", dur(func(c *Config) *time.Duration { return &c.Auth.SessionLifetime })},
		{"auth.session_idle", "2h", "A session unused this long ends.", dur(func(c *Config) *time.Duration { return &c.Auth.SessionIdle })},
		{"auth.cache_session_lifetime", "1h", "Lifetime of a session signed in from saved credentials.", dur(func(c *Config) *time.Duration { return &c.Auth.CacheSessionLifetime })},
		{"auth.cache_max_age", "7d", "Saved credentials work this long after the last directory login; 0 disables the fallback.", dur(func(c *Config) *time.Duration { return &c.Auth.CacheMaxAge })},
		{"auth.cache_full_role_for", "12h", "A sign-in from saved credentials gets the saved role only this long after the last directory sign-in; later it gets at most viewer. 0: always the saved role.", dur(func(c *Config) *time.Duration { return &c.Auth.CacheFullRoleFor })},
		{"auth.revalidate_interval", "15m", "While the directory answers, the sessions of directory users are checked against it at least this often, in the background: a deleted account, one without a mapped group or one changed since sign-in (ldap.changed_attribute) loses its sessions and saved credentials; a changed role ends the sessions. 0: never.", dur(func(c *Config) *time.Duration { return &c.Auth.RevalidateInterval })},
		{"auth.offline_max_failures", "5", "Failed logins from saved credentials before they lock.", num(func(c *Config) *int { return &c.Auth.OfflineMaxFailures })},
		{"auth.offline_lockout", "5m", "How long saved credentials stay locked after too many failures.", dur(func(c *Config) *time.Duration { return &c.Auth.OfflineLockout })},
		{"auth.breaker_failures", "3", "Consecutive unreachable-directory logins that open the circuit breaker.", num(func(c *Config) *int { return &c.Auth.BreakerFailures })},
		{"auth.probe_interval", "15s", "While the directory is down, how often a background probe checks whether it is back.", dur(func(c *Config) *time.Duration { return &c.Auth.ProbeInterval })},
		{"auth.failure_time", "250ms", "Least time a refused directory login takes, so that its time says nothing about why it was refused (wrong password, unknown user, no role, locked, directory down).", dur(func(c *Config) *time.Duration { return &c.Auth.FailureTime })},
		{"auth.max_failures_per_user", "5", "Failed logins for one user name from one client address before each further attempt from that address waits: 15 s, doubling per failure, at most 15 min. Failures from other addresses never delay it.", num(func(c *Config) *int { return &c.Auth.MaxFailuresPerUser })},
		{"auth.max_failures_per_ip", "100", "Failed logins from one client address, over every user name, within failure_window before the address is refused until the window has passed; generous, so an office behind one NAT address is not blocked by a few typos.", num(func(c *Config) *int { return &c.Auth.MaxFailuresPerIP })},
		{"auth.failure_window", "15m", "How long failed logins are remembered: per address since its last failure, per user and address since its last wait ended.", dur(func(c *Config) *time.Duration { return &c.Auth.FailureWindow })},
	}
}

// source says where a value came from, so an error can name the setting the
// way the user wrote it.
type source int

const (
	fromDefault source = iota
	fromFile
	fromEnv
	fromFlag
)

func (s setting) name(src source) string {
	switch src {
	case fromFile:
		return "config file key " + s.key
	case fromEnv:
		return s.env()
	case fromFlag:
		return "--" + s.flag()
	}
	return s.key
}

// configFlags registers every setting as a flag on fs and returns the values
// the user set, by key, once fs has parsed.
func configFlags(fs *flag.FlagSet) func() map[string]string {
	vals := map[string]*string{}
	fs.String("config", "", "Configuration file, TOML or YAML (env SITEMETRICS_CONFIG).")
	for _, s := range settings() {
		vals[s.key] = fs.String(s.flag(), "", s.usage+" (env "+s.env()+")")
	}
	return func() map[string]string {
		set := map[string]string{}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "config" {
				set["config"] = f.Value.String()
				return
			}
			for _, s := range settings() {
				if s.flag() == f.Name {
					set[s.key] = *vals[s.key]
				}
			}
		})
		return set
	}
}

// loadConfig applies defaults, then the file, then the environment, then flags.
func loadConfig(flags map[string]string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	all := settings()
	for _, s := range all {
		if err := s.apply(c, s.def); err != nil {
			return nil, fmt.Errorf("default of %s: %w", s.key, err)
		}
	}
	c.LDAP.RoleMappings = nil
	c.ConfigFile = getenv("SITEMETRICS_CONFIG")
	if f, ok := flags["config"]; ok {
		c.ConfigFile = f
	}
	if c.ConfigFile != "" {
		values, mappings, err := readConfigFile(c.ConfigFile)
		if err != nil {
			return nil, err
		}
		c.LDAP.RoleMappings = mappings
		for _, s := range all {
			if v, ok := values[s.key]; ok {
				if err := s.apply(c, v); err != nil {
					return nil, fmt.Errorf("%s in %s: %w", s.name(fromFile), c.ConfigFile, err)
				}
			}
		}
	}
	envRoles := false
	for _, s := range all {
		if v := getenv(s.env()); v != "" {
			if strings.HasPrefix(s.key, "ldap.role_") && !envRoles {
				envRoles = true
				c.LDAP.RoleMappings = nil // environment role mappings replace the file's
			}
			if err := s.apply(c, v); err != nil {
				return nil, fmt.Errorf("%s: %w", s.name(fromEnv), err)
			}
		}
	}
	for _, s := range all {
		if v, ok := flags[s.key]; ok {
			if err := s.apply(c, v); err != nil {
				return nil, fmt.Errorf("%s: %w", s.name(fromFlag), err)
			}
		}
	}
	if err := c.readSecretFiles(); err != nil {
		return nil, err
	}
	return c, c.validate()
}

// validate catches settings that are each fine but wrong together.
func (c *Config) validate() error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return fmt.Errorf("SITEMETRICS_ADDR %q: use host:port, e.g. 127.0.0.1:8080 (this machine only) or :8080 (every interface)", c.Addr)
	}
	if c.BaseURL == "" {
		_, port, _ := net.SplitHostPort(c.Addr)
		c.BaseURL = "http://localhost:" + port
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("SITEMETRICS_BASE_URL %q: use an absolute http:// or https:// URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if _, _, err := sqlstore.DatabaseTarget(c.DatabaseURL, c.DataDir); err != nil {
		return fmt.Errorf("SITEMETRICS_DATABASE_URL: %w", err)
	}
	if c.IngestMaxBytes < 1024 {
		return fmt.Errorf("SITEMETRICS_INGEST_MAX_BYTES %d: must be at least 1KiB", c.IngestMaxBytes)
	}
	if c.IngestMaxRows < 1 || c.IngestMaxRows > 100000 {
		return fmt.Errorf("SITEMETRICS_INGEST_MAX_ROWS %d: must be between 1 and 100000", c.IngestMaxRows)
	}
	if h := c.HTTP; h.MaxConnections < 0 || h.MaxConnectionsPerClient < 0 || h.MaxRequestsPerClient < 0 || h.IdleTimeout <= 0 {
		return fmt.Errorf("SITEMETRICS_HTTP_*: connection and request caps must not be negative, and idle_timeout must be positive")
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("SITEMETRICS_TRUSTED_PROXIES: %q is neither an IP nor a CIDR", p)
			}
		}
	}
	return c.validateLDAP()
}

func (c *Config) validateLDAP() error {
	l := c.LDAP
	if len(l.URLs) == 0 {
		if len(l.RoleMappings) > 0 || l.BindDN != "" {
			return errors.New("SITEMETRICS_LDAP_URL is empty but other LDAP settings are set: set the directory URL, or remove the LDAP settings")
		}
		return nil
	}
	for _, raw := range l.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
			return fmt.Errorf("SITEMETRICS_LDAP_URL %q: use ldap://host:389 or ldaps://host:636", raw)
		}
		if u.Scheme == "ldaps" && l.StartTLS {
			return fmt.Errorf("SITEMETRICS_LDAP_START_TLS is on but %q is already ldaps://: use one or the other", raw)
		}
	}
	switch {
	case l.UserBase == "":
		return errors.New("SITEMETRICS_LDAP_USER_BASE is empty: set the base DN users are searched under, e.g. ou=people,dc=corp,dc=example")
	case !strings.Contains(l.UserFilter, "{username}"):
		return fmt.Errorf("SITEMETRICS_LDAP_USER_FILTER %q has no {username} placeholder", l.UserFilter)
	case (l.BindDN == "") != (l.BindPassword == ""):
		return errors.New("SITEMETRICS_LDAP_BIND_DN and SITEMETRICS_LDAP_BIND_PASSWORD (or _FILE) go together: set both, or neither for an anonymous search")
	case len(l.RoleMappings) == 0:
		return errors.New("SITEMETRICS_LDAP_URL is set but no role mappings are: set SITEMETRICS_LDAP_ROLE_VIEWER (and _SRE, _ADMIN) or [[ldap.role_mappings]], or nobody can sign in")
	case l.GroupAttribute == "" && l.GroupBase == "":
		return errors.New("SITEMETRICS_LDAP_GROUP_ATTRIBUTE and SITEMETRICS_LDAP_GROUP_BASE are both empty: roles need groups from one of them")
	case l.CAFile != "":
		if _, err := os.Stat(l.CAFile); err != nil {
			return fmt.Errorf("SITEMETRICS_LDAP_CA_FILE: %v", err)
		}
	}
	for i, m := range l.RoleMappings {
		if strings.TrimSpace(m.GroupDN) == "" {
			return fmt.Errorf("config file ldap.role_mappings[%d]: group_dn is empty", i)
		}
		if _, err := models.ParseRole(string(m.Role)); err != nil {
			return fmt.Errorf("config file ldap.role_mappings[%d] (%s): %v", i, m.GroupDN, err)
		}
	}
	return nil
}

// readConfigFile flattens a TOML or YAML file to "section.key" values; role
// mappings, the one structured part, come back on their own.
func readConfigFile(path string) (map[string]string, []RoleMapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config file: %w", err)
	}
	raw := map[string]any{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		if _, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("config file %s: %w", path, err)
		}
	case ".yaml", ".yml":
		if err := yaml.Unmarshal(b, &raw); err != nil {
			return nil, nil, fmt.Errorf("config file %s: %w", path, err)
		}
	default:
		return nil, nil, fmt.Errorf("config file %s: name it .toml, .yaml or .yml", path)
	}
	known := map[string]bool{}
	for _, s := range settings() {
		known[s.key] = true
	}
	values := map[string]string{}
	var mappings []RoleMapping
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key := prefix + k
			switch v := m[k].(type) {
			case map[string]any:
				if err := walk(key+".", v); err != nil {
					return err
				}
			case []map[string]any, []any:
				if key == "ldap.role_mappings" {
					ms, err := decodeMappings(v)
					if err != nil {
						return fmt.Errorf("config file %s: ldap.role_mappings: %w", path, err)
					}
					mappings = ms
					continue
				}
				if !known[key] {
					return fmt.Errorf("config file %s: unknown setting %q", path, key)
				}
				values[key] = joinList(v)
			default:
				if !known[key] {
					return fmt.Errorf("config file %s: unknown setting %q", path, key)
				}
				values[key] = fmt.Sprint(v)
			}
		}
		return nil
	}
	return values, mappings, walk("", raw)
}

func decodeMappings(v any) ([]RoleMapping, error) {
	var items []map[string]any
	switch x := v.(type) {
	case []map[string]any:
		items = x
	case []any:
		for i, it := range x {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("entry %d is not a table with group_dn and role", i)
			}
			items = append(items, m)
		}
	}
	out := make([]RoleMapping, 0, len(items))
	for i, m := range items {
		for k := range m {
			if k != "group_dn" && k != "role" {
				return nil, fmt.Errorf("entry %d: unknown key %q (use group_dn and role)", i, k)
			}
		}
		g, _ := m["group_dn"].(string)
		r, _ := m["role"].(string)
		out = append(out, RoleMapping{GroupDN: strings.TrimSpace(g), Role: models.Role(strings.ToLower(strings.TrimSpace(r)))})
	}
	return out, nil
}

func joinList(v any) string {
	var parts []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
	}
	return strings.Join(parts, " ")
}

// Value parsers, one per kind of setting.

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = strings.TrimSpace(v); return nil }
}

// secret sets a secret directly, overriding a _file setting from an earlier layer.
func secret(key string, field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = strings.TrimSpace(v)
		delete(c.secretFiles, key)
		return nil
	}
}

// file records where a secret is; it is read once every layer is applied,
// so that a later layer can point elsewhere (or give the secret itself).
func file(key string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v = strings.TrimSpace(v); v == "" {
			return nil
		}
		if c.secretFiles == nil {
			c.secretFiles = map[string]string{}
		}
		c.secretFiles[key] = v
		return nil
	}
}

// readSecretFiles reads the _file settings into their secrets.
func (c *Config) readSecretFiles() error {
	targets := map[string]*string{"admin_password": &c.AdminPassword, "ldap.bind_password": &c.LDAP.BindPassword}
	for key, path := range c.secretFiles {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("SITEMETRICS_%s_FILE: %w", strings.ToUpper(strings.ReplaceAll(key, ".", "_")), err)
		}
		*targets[key] = strings.TrimRight(string(b), "\r\n")
	}
	return nil
}

func oneOf(field func(*Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		v = strings.ToLower(strings.TrimSpace(v))
		for _, a := range allowed {
			if v == a {
				*field(c) = v
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

func list(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
		return nil
	}
}

func num(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number ≥ 0", v)
		}
		*field(c) = n
		return nil
	}
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

func dur(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseDuration(v)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
}

// parseDuration accepts Go durations plus whole days ("7d").
func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "0" {
		return 0, nil
	}
	if strings.HasSuffix(v, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration: write e.g. 30s, 5m, 12h or 7d", v)
	}
	return d, nil
}

func size(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		s := strings.TrimSpace(v)
		mult := int64(1)
		for _, u := range []struct {
			suffix string
			n      int64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"B", 1}} {
			if strings.HasSuffix(s, u.suffix) {
				s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.n
				break
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a size: write e.g. 1048576, 512KiB or 1MiB", v)
		}
		*field(c) = n * mult
		return nil
	}
}

// zone reads an IANA time zone name.
func zone(field func(*Config) **time.Location) func(*Config, string) error {
	return func(c *Config, v string) error {
		loc, err := models.LoadZone(v)
		if err != nil {
			return err
		}
		*field(c) = loc
		return nil
	}
}

func roles(role models.Role) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, dn := range strings.Split(v, ";") {
			if dn = strings.TrimSpace(dn); dn != "" {
				c.LDAP.RoleMappings = append(c.LDAP.RoleMappings, RoleMapping{GroupDN: dn, Role: role})
			}
		}
		return nil
	}
}
