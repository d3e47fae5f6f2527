package ldapauth_test

import (
	"testing"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
)

const (
	ritaDN = "uid=rita,ou=people,dc=example,dc=org"
	paulDN = "uid=paul,ou=people,dc=example,dc=org"
)

func online(role models.Role) expect {
	return expect{outcome: ldapauth.Accepted, source: ldapauth.SourceLDAP, reason: ldapauth.ReasonOK, role: role}
}

func fromCache(role models.Role, dirReason string) expect {
	return expect{outcome: ldapauth.Accepted, source: ldapauth.SourceCache, reason: ldapauth.ReasonOK, role: role, dirReason: dirReason}
}

func refusedByCache(reason, dirReason string) expect {
	return expect{outcome: ldapauth.Rejected, source: ldapauth.SourceCache, reason: reason, dirReason: dirReason}
}

func refusedByDirectory(reason string) expect {
	return expect{outcome: ldapauth.Rejected, source: ldapauth.SourceLDAP, reason: reason}
}

// Roles follow the directory at every online login, and
// someone removed from every group is refused, online and then offline.
func TestRoleChangesApplyAtNextOnlineLogin(t *testing.T) {
	dir := needSlapd(t)
	t.Cleanup(func() { dir.setMembership(t, ritaDN, "sre") })
	h := newHarness(t, testConfig(dir.url))
	offline := h.down()

	h.check("rita", "ritapw", online(models.RoleSRE))

	dir.setMembership(t, ritaDN, "sre", "admins")
	h.check("rita", "ritapw", online(models.RoleAdmin))
	if c, _ := h.cached("rita"); c.Role != models.RoleAdmin {
		t.Fatalf("the cached role snapshot is %q, want admin", c.Role)
	}
	offline.check("rita", "ritapw", fromCache(models.RoleAdmin, ldapauth.ReasonDirectoryDown))

	dir.setMembership(t, ritaDN, "viewers")
	h.check("rita", "ritapw", online(models.RoleViewer))
	offline.check("rita", "ritapw", fromCache(models.RoleViewer, ldapauth.ReasonDirectoryDown))

	// Removed from every group: refused online, and the cache goes with it, so
	// a directory outage cannot bring the old role back.
	dir.setMembership(t, ritaDN)
	h.check("rita", "ritapw", refusedByDirectory(ldapauth.ReasonNoRole))
	if _, ok := h.cached("rita"); ok {
		t.Fatal("the cached credential survived the loss of every role")
	}
	offline.check("rita", "ritapw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonDirectoryDown))
}

// The password changes in the directory; the new one works online
// and refreshes the cache; then, with the directory down, the old one is
// refused and the new one works from the cache.
func TestPasswordChangedInDirectory(t *testing.T) {
	dir := needSlapd(t)
	t.Cleanup(func() { dir.setPassword(t, paulDN, "paulpw") })
	h := newHarness(t, testConfig(dir.url))

	h.check("paul", "paulpw", online(models.RoleViewer))
	dir.setPassword(t, paulDN, "paulpw-2")
	h.check("paul", "paulpw-2", online(models.RoleViewer))
	h.check("paul", "paulpw", refusedByDirectory(ldapauth.ReasonBadPassword))
	if _, ok := h.cached("paul"); !ok {
		t.Fatal("a wrong password that the cache would not accept purged the cache")
	}

	dir.stop(t)
	h.check("paul", "paulpw", refusedByCache(ldapauth.ReasonCacheBadPassword, ldapauth.ReasonDirectoryDown))
	h.check("paul", "paulpw-2", fromCache(models.RoleViewer, ldapauth.ReasonDirectoryDown))
}

// The directory says 49 to a password the cache still holds (it was
// changed elsewhere and this is the old one): no fallback, and the stale
// hash is purged, so it cannot work during the next outage.
func TestOldPasswordPurgesCache(t *testing.T) {
	dir := needSlapd(t)
	t.Cleanup(func() { dir.setPassword(t, paulDN, "paulpw") })
	h := newHarness(t, testConfig(dir.url))
	offline := h.down()

	h.check("paul", "paulpw", online(models.RoleViewer))
	dir.setPassword(t, paulDN, "paulpw-3")

	h.check("paul", "paulpw", refusedByDirectory(ldapauth.ReasonBadPassword))
	if _, ok := h.cached("paul"); ok {
		t.Fatal("the old password's hash is still cached")
	}
	if !containsLine(h.logs.String(), "cached credential purged", "user=paul", "reason=bad_password") {
		t.Errorf("the purge is not logged:\n%s", h.logs)
	}
	offline.check("paul", "paulpw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonDirectoryDown))
}

// A typo, or a stranger guessing, gets a definitive no from the directory
// but must not wipe someone's fallback: only a password the cache would
// accept is purged.
func TestWrongPasswordKeepsCache(t *testing.T) {
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	h.check("sam", "sampw", online(models.RoleSRE))
	h.check("sam", "Wr0ng-sam", refusedByDirectory(ldapauth.ReasonBadPassword))
	h.down().check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown))
}

// An unknown user's cached credential is purged: the directory no longer
// knows them (deleted or renamed).
func TestUnknownUserPurgesCache(t *testing.T) {
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	// zed once signed in (through another directory, or before being deleted).
	if _, err := h.store.SaveOnlineLogin(t.Context(), models.OnlineLogin{Username: "zed", Role: models.RoleAdmin, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", At: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	h.check("zed", "zedpw", refusedByDirectory(ldapauth.ReasonUnknownUser))
	if _, ok := h.cached("zed"); ok {
		t.Fatal("the cached credential of a user the directory does not know survived")
	}
}
