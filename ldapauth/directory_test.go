package ldapauth_test

import (
	"slices"
	"testing"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
)

// Logins against the real directory while it is up: P2 rows 1, 3, 4, 5.
func TestDirectoryLogins(t *testing.T) {
	dir := needSlapd(t)
	accepted := func(role models.Role) expect {
		return expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: role}
	}
	rejected := func(reason string) expect {
		return expect{outcome: ldapauth.Rejected, source: ldapauth.SourceLDAP, reason: reason}
	}
	cases := []struct {
		name, user, password string
		want                 expect
		canonical            string // for Accepted
		dials                int64
	}{
		{"admin: in admins, sre and viewers, highest wins", "alice", "alicepw", accepted(models.RoleAdmin), "alice", 1},
		{"name typed in capitals with spaces", "  ALICE ", "alicepw", accepted(models.RoleAdmin), "alice", 1},
		{"sre", "sam", "sampw", accepted(models.RoleSRE), "sam", 1},
		{"viewer", "eve", "evepw", accepted(models.RoleViewer), "eve", 1},
		{"nested group: oncall is a member of sre", "olga", "olgapw", accepted(models.RoleSRE), "olga", 1},
		{"uid made of filter metacharacters", "star*(x)", "starpw", accepted(models.RoleViewer), "star*(x)", 1},
		{"in no mapped group", "nora", "norapw", rejected(ldapauth.ReasonNoRole), "", 1},
		{"wrong password", "alice", "Wr0ng-alice", rejected(ldapauth.ReasonBadPassword), "", 1},
		{"another user's password", "alice", "sampw", rejected(ldapauth.ReasonBadPassword), "", 1},
		{"unknown user", "zed", "zedpw-guess", rejected(ldapauth.ReasonUnknownUser), "", 1},
		{"empty password: refused before any I/O", "alice", "", rejected(ldapauth.ReasonEmptyPassword), "", 0},
		{"empty user name", "   ", "alicepw", rejected(ldapauth.ReasonEmptyUsername), "", 0},
		{"over-long password", "alice", string(make([]byte, 2000)), rejected(ldapauth.ReasonInvalidInput), "", 0},
		// Injection: unescaped, each of these would match alice (or everyone)
		// and her password would let them in.
		{"wildcard user name", "*", "alicepw", rejected(ldapauth.ReasonUnknownUser), "", 1},
		{"prefix wildcard", "al*", "alicepw", rejected(ldapauth.ReasonUnknownUser), "", 1},
		{"filter break-out", "alice)(uid=*", "alicepw", rejected(ldapauth.ReasonUnknownUser), "", 1},
		{"OR injection", "*)(|(uid=alice", "alicepw", rejected(ldapauth.ReasonUnknownUser), "", 1},
		{"NUL byte: refused before any I/O", "alice\x00", "alicepw", rejected(ldapauth.ReasonInvalidInput), "", 0},
		{"backslash escape", `alic\65`, "alicepw", rejected(ldapauth.ReasonUnknownUser), "", 1},
		{"wildcard against the metacharacter uid", "star*", "starpw", rejected(ldapauth.ReasonUnknownUser), "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testConfig(dir.url))
			id := h.check(tc.user, tc.password, tc.want)
			if got := h.dialer.dials.Load(); got != tc.dials {
				t.Errorf("%d dials, want %d", got, tc.dials)
			}
			c, ok := h.cached(tc.canonical)
			if tc.want.outcome != ldapauth.Accepted {
				if _, any := h.cached(tc.user); any {
					t.Fatal("a refused login left a cached credential")
				}
				return
			}
			if id.Username != tc.canonical || id.Source != ldapauth.SourceLDAP || id.DN == "" || id.DisplayName == "" ||
				!id.LastOnlineAt.Equal(h.clock.Now()) {
				t.Fatalf("identity %+v", id)
			}
			// The online login wrote the cache, with the role snapshot.
			if !ok || c.Role != tc.want.role || c.UserID != id.UserID || !c.LastOnlineAt.Equal(h.clock.Now()) ||
				!slices.Equal(c.Groups, id.Groups) || len(c.PasswordHash) < 60 {
				t.Fatalf("cached credential %+v (found %v) for identity %+v", c, ok, id)
			}
		})
	}
}

func TestGroupsAreReadAsDNs(t *testing.T) {
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	id := h.check("alice", "alicepw", expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: models.RoleAdmin})
	for _, g := range []string{adminsDN, sreDN, viewersDN} {
		if !slices.Contains(id.Groups, g) {
			t.Errorf("groups %v lack %s", id.Groups, g)
		}
	}
	id = h.check("olga", "olgapw", expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: models.RoleSRE})
	if !slices.Contains(id.Groups, "cn=oncall,ou=groups,dc=example,dc=org") || !slices.Contains(id.Groups, sreDN) {
		t.Errorf("olga's groups %v: want oncall and, through it, sre", id.Groups)
	}
}

// Directories without memberOf: groups come from a search under GroupBase.
func TestGroupSearch(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	cfg.GroupAttribute = ""
	cfg.GroupBase = "ou=groups,dc=example,dc=org"
	cases := []struct {
		user, password string
		want           expect
	}{
		{"alice", "alicepw", expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: models.RoleAdmin}},
		{"sam", "sampw", expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: models.RoleSRE}},
		{"star*(x)", "starpw", expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: models.RoleViewer}},
		{"nora", "norapw", expect{outcome: ldapauth.Rejected, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonNoRole}},
	}
	for _, tc := range cases {
		t.Run(tc.user, func(t *testing.T) {
			newHarness(t, cfg).check(tc.user, tc.password, tc.want)
		})
	}
}

// Exactly one entry must match: two people with the same uid in different
// branches are refused, whatever the password.
func TestAmbiguousUser(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	cfg.UserBase = "dc=example,dc=org"
	newHarness(t, cfg).check("pat", "patpw", expect{outcome: ldapauth.Rejected, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonAmbiguousUser})

	cfg.UserBase = "ou=people,dc=example,dc=org"
	newHarness(t, cfg).check("pat", "patpw", expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: models.RoleViewer})
}

// A service account the directory refuses makes the directory unusable;
// with the fallback off nothing else can decide.
func TestServiceAccountRefusedBySlapd(t *testing.T) {
	dir := needSlapd(t)
	cfg := testConfig(dir.url)
	cfg.BindPassword = "not-the-svc-password"
	cfg.CacheMaxAge = 0
	h := newHarness(t, cfg)
	h.check("sam", "sampw", expect{outcome: ldapauth.DirectoryUnusable, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonServiceAccountRefused})
	if !containsLine(h.logs.String(), "level=ERROR", "refused the service account") {
		t.Fatalf("a refused service account is not logged as an error:\n%s", h.logs)
	}
}

// Several URLs are tried in order; the next one only when one is unreachable.
func TestURLsTriedInOrder(t *testing.T) {
	dir := needSlapd(t)
	ok := expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: models.RoleSRE}

	h := newHarness(t, testConfig(deadURL(t), dir.url))
	h.check("sam", "sampw", ok)
	if got := h.dialer.dials.Load(); got != 2 {
		t.Fatalf("%d dials, want 2 (dead, then slapd)", got)
	}

	h = newHarness(t, testConfig(dir.url, deadURL(t)))
	h.check("sam", "Wr0ng-sam", expect{outcome: ldapauth.Rejected, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonBadPassword})
	if got := h.dialer.dials.Load(); got != 1 {
		t.Fatalf("%d dials after a rejection, want 1: a rejection is final", got)
	}
}

// A local account owns its name: a directory user of the same name is
// refused rather than merged into it.
func TestLocalAccountOfTheSameName(t *testing.T) {
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	now := h.clock.Now()
	if err := h.store.DB().Exec(`INSERT INTO users (username, source, role, password_hash, created_at, updated_at)
		VALUES ('sam', 'local', 'admin', 'local-hash', ?, ?)`, now, now).Error; err != nil {
		t.Fatal(err)
	}
	h.check("sam", "sampw", refusedByDirectory(ldapauth.ReasonLocalAccount))
	if _, ok := h.cached("sam"); ok {
		t.Fatal("a directory login cached a credential for a local account")
	}
}
