package ldapauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
)

const doraDN = "uid=dora,ou=people,dc=example,dc=org"

// signIn logs in online and opens a session, as the sign-in page would.
func (h *harness) signIn(user, password string, role models.Role) int64 {
	h.t.Helper()
	id := h.check(user, password, online(role))
	if _, _, err := h.store.CreateSession(context.Background(), models.SessionInput{UserID: id.UserID, Role: id.Role,
		Source: ldapauth.SourceLDAP, Lifetime: 12 * time.Hour}); err != nil {
		h.t.Fatal(err)
	}
	return id.UserID
}

func (h *harness) sessions(userID int64) int {
	h.t.Helper()
	list, err := h.store.UserSessions(context.Background(), userID)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(list)
}

// revalidate runs one background pass, RevalidateEvery after the last.
func (h *harness) revalidate() ldapauth.Checked {
	h.t.Helper()
	h.clock.Advance(h.cfg.RevalidateEvery + time.Second)
	done, err := h.auth.Revalidate(context.Background())
	if err != nil {
		h.t.Fatalf("revalidate: %v", err)
	}
	return done
}

// What the directory takes away, sessions and the cache lose within one
// check: a removal from every group, a demotion, a password change and a
// deletion, each done for real on slapd with ldapmodify, ldappasswd and
// ldapdelete. An account the directory did not change keeps its session.
func TestSessionsFollowTheDirectory(t *testing.T) {
	dir := needSlapd(t)
	t.Cleanup(func() {
		dir.setMembership(t, ritaDN, "sre")
		dir.setPassword(t, paulDN, "paulpw")
	})
	cfg := testConfig(dir.url)
	cfg.RevalidateEvery = time.Minute
	h := newHarness(t, cfg)
	offline := h.down()

	sam := h.signIn("sam", "sampw", models.RoleSRE)
	rita := h.signIn("rita", "ritapw", models.RoleSRE)
	paul := h.signIn("paul", "paulpw", models.RoleViewer)

	// Checked a moment ago (at sign-in): nothing is due yet.
	if done, err := h.auth.Revalidate(context.Background()); err != nil || done.Users != 0 {
		t.Fatalf("a pass right after sign-in checked %+v (%v), want nobody", done, err)
	}

	// Demoted: the sessions end, the cached role follows.
	dir.setMembership(t, ritaDN, "viewers")
	if done := h.revalidate(); done.Users != 3 || done.Ended != 1 {
		t.Fatalf("after rita's demotion: %+v, want 3 checked and 1 ended", done)
	}
	if h.sessions(rita) != 0 || h.sessions(sam) != 1 || h.sessions(paul) != 1 {
		t.Fatalf("sessions: rita %d, sam %d, paul %d; want 0, 1, 1", h.sessions(rita), h.sessions(sam), h.sessions(paul))
	}
	offline.check("rita", "ritapw", fromCache(models.RoleViewer, ldapauth.ReasonDirectoryDown))

	// Removed from every group: the sessions and the cache go.
	rita = h.signIn("rita", "ritapw", models.RoleViewer)
	dir.setMembership(t, ritaDN)
	h.revalidate()
	if h.sessions(rita) != 0 {
		t.Fatal("rita kept a session after losing every group")
	}
	offline.check("rita", "ritapw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonDirectoryDown))

	// The password changes (modifyTimestamp has whole seconds: let one pass).
	time.Sleep(1100 * time.Millisecond)
	dir.setPassword(t, paulDN, "paulpw-2")
	h.revalidate()
	if h.sessions(paul) != 0 {
		t.Fatal("paul's session survived his password change")
	}
	offline.check("paul", "paulpw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonDirectoryDown))

	// Deleted.
	dir.add(t, "dn: "+doraDN+"\nobjectClass: inetOrgPerson\nuid: dora\ncn: Dora Deleted\nsn: Deleted\nuserPassword: dorapw\n")
	t.Cleanup(func() { dir.remove(t, doraDN) })
	dir.setMembership(t, doraDN, "viewers")
	t.Cleanup(func() { dir.setMembership(t, doraDN) })
	dora := h.signIn("dora", "dorapw", models.RoleViewer)
	dir.remove(t, doraDN)
	h.revalidate()
	if h.sessions(dora) != 0 {
		t.Fatal("dora's session survived the deletion of her account")
	}
	offline.check("dora", "dorapw", refusedByCache(ldapauth.ReasonNoCachedCredentials, ldapauth.ReasonDirectoryDown))

	// Sam, unchanged throughout, is still signed in.
	if h.sessions(sam) != 1 {
		t.Fatal("an unchanged account lost its session")
	}

	// With the directory down a pass changes nothing and says so.
	h.clock.Advance(2 * time.Minute)
	if _, err := offline.auth.Revalidate(context.Background()); err == nil {
		t.Fatal("a pass against a dead directory reported success")
	}
	if h.sessions(sam) != 1 {
		t.Fatal("a directory outage ended a session")
	}
}

// A sign-in from the cache gets the cached role only CacheFullRoleFor after
// the last online login; after that, viewer at most.
func TestCachedRoleIsCappedWhenOld(t *testing.T) {
	dir := needSlapd(t)
	h := newHarness(t, testConfig(dir.url))
	h.check("sam", "sampw", online(models.RoleSRE))
	offline := h.down(func(c *ldapauth.Config) { c.CacheFullRoleFor = 12 * time.Hour })
	h.clock.Advance(11 * time.Hour)
	offline.check("sam", "sampw", fromCache(models.RoleSRE, ldapauth.ReasonDirectoryDown))
	h.clock.Advance(2 * time.Hour)
	offline.check("sam", "sampw", fromCache(models.RoleViewer, ldapauth.ReasonDirectoryDown))
}
