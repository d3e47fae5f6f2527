package main

import (
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// ldapEnv points an app at the test slapd through a proxy that the test can
// cut: the shared slapd keeps running for the other suites.
func ldapEnv(t *testing.T, dialect string) (map[string]string, *cuttableProxy) {
	raw := os.Getenv("SITEMETRICS_TEST_LDAP_URL")
	dbtest.Require(t, "slapd", raw != "", "SITEMETRICS_TEST_LDAP_URL is not set")
	u, err := url.Parse(raw)
	must(t, err)
	proxy := newProxy(t, u.Host)
	env := testEnv(t, dialect)
	for k, v := range map[string]string{
		"SITEMETRICS_LDAP_URL":              "ldap://" + proxy.addr,
		"SITEMETRICS_LDAP_BIND_DN":          "cn=svc,ou=system,dc=example,dc=org",
		"SITEMETRICS_LDAP_BIND_PASSWORD":    "svcpw",
		"SITEMETRICS_LDAP_USER_BASE":        "ou=people,dc=example,dc=org",
		"SITEMETRICS_LDAP_ROLE_ADMIN":       "cn=admins,ou=groups,dc=example,dc=org",
		"SITEMETRICS_LDAP_ROLE_SRE":         "cn=sre,ou=groups,dc=example,dc=org",
		"SITEMETRICS_LDAP_ROLE_VIEWER":      "cn=viewers,ou=groups,dc=example,dc=org",
		"SITEMETRICS_LDAP_DIAL_TIMEOUT":     "300ms",
		"SITEMETRICS_LDAP_REQUEST_TIMEOUT":  "300ms",
		"SITEMETRICS_LDAP_LOGIN_TIMEOUT":    "600ms",
		"SITEMETRICS_AUTH_BREAKER_FAILURES": "2",
		"SITEMETRICS_AUTH_PROBE_INTERVAL":   "200ms",
		"SITEMETRICS_AUTH_FAILURE_TIME":     "100ms",
	} {
		env[k] = v
	}
	return env, proxy
}

// Sign-in through the HTTP form against a real slapd: roles from groups,
// one message for every failure, and the saved-credential fallback with its
// banner when the directory is unreachable.
func TestLDAPSignIn(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env, proxy := ldapEnv(t, dialect)
		a := startApp(t, env)

		alice := newBrowser(t, a.URL)
		r := alice.login("alice", "alicepw", "/admin/users")
		mustf(t, r.Status == 303 && r.Header.Get("Location") == "/admin/users", "alice online: %d %s", r.Status, r.Body)
		page := alice.get("/admin/users")
		mustf(t, page.Status == 200 && strings.Contains(string(page.Body), `data-testid="role">admin<`) &&
			!strings.Contains(string(page.Body), "cache-banner"), "alice's page: %d", page.Status)
		mustf(t, strings.Contains(string(page.Body), "cn=sre,ou=groups,dc=example,dc=org"), "role mappings not listed")

		sam := newBrowser(t, a.URL)
		mustf(t, sam.login("sam", "sampw", "/").Status == 303, "sam online")
		mustf(t, sam.get("/admin/users").Status == 403, "an SRE reached the admin page")
		mustf(t, sam.get("/slos").Status == 200, "an SRE cannot reach the SLO configuration")
		eve := newBrowser(t, a.URL)
		mustf(t, eve.login("eve", "evepw", "/").Status == 303, "eve online")
		mustf(t, eve.get("/slos").Status == 403, "a viewer reached the SLO configuration")

		for _, tc := range []struct{ user, pw string }{{"alice", "wrong"}, {"nora", "norapw"}, {"ghost", "x"}, {"*)(uid=*", "x"}, {"alice", ""}} {
			r := newBrowser(t, a.URL).login(tc.user, tc.pw, "/")
			mustf(t, r.Status == 401 && strings.Contains(string(r.Body), "Invalid user name or password."), "%s/%s: %d", tc.user, tc.pw, r.Status)
		}

		// The directory goes away: alice gets in from her saved credential,
		// with the banner and a shorter session; eve's wrong password and a
		// never-seen user still fail.
		proxy.cut()
		offline := newBrowser(t, a.URL)
		start := time.Now()
		r = offline.login("alice", "alicepw", "/")
		mustf(t, r.Status == 303, "alice from cache: %d %s", r.Status, r.Body)
		cookie := r.Header.Get("Set-Cookie")
		expires, err := time.Parse(time.RFC1123, strings.TrimSpace(strings.Split(strings.Split(cookie, "Expires=")[1], ";")[0]))
		must(t, err)
		mustf(t, expires.Sub(start) < 61*time.Minute, "a cache session lasts %s", expires.Sub(start))
		home := offline.get("/admin/users")
		mustf(t, strings.Contains(string(home.Body), "Signed in with saved credentials — directory unreachable."), "no banner")
		mustf(t, newBrowser(t, a.URL).login("eve", "wrong", "/").Status == 401, "wrong password from cache")
		mustf(t, newBrowser(t, a.URL).login("olga", "olgapw", "/").Status == 401, "someone never seen got in offline")
		// The breaker is open: a login costs a hash, not a timeout.
		start = time.Now()
		mustf(t, newBrowser(t, a.URL).login("sam", "sampw", "/").Status == 303, "sam from cache")
		mustf(t, time.Since(start) < 500*time.Millisecond, "a login with the directory down took %s", time.Since(start))
		mustf(t, strings.Contains(string(offline.get("/admin/users").Body), "Directory unreachable since"), "the admin page does not say the directory is down")

		proxy.restore(t)
		deadline := time.Now().Add(5 * time.Second)
		for {
			back := newBrowser(t, a.URL)
			r := back.login("alice", "alicepw", "/admin/users")
			if r.Status == 303 && !strings.Contains(string(back.get("/admin/users").Body), "cache-banner") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the directory came back but logins still use the cache")
			}
			time.Sleep(100 * time.Millisecond)
		}
		m := string(do(t, "GET", a.URL+"/metrics", nil).Body)
		for _, want := range []string{`sitemetrics_logins_total{outcome="accepted",source="ldap"}`, `sitemetrics_logins_total{outcome="accepted",source="cache"}`,
			`sitemetrics_logins_total{outcome="rejected",source="ldap"}`, `sitemetrics_logins_total{outcome="rejected",source="cache"}`} {
			mustf(t, strings.Contains(m, want), "metrics lack %s", want)
		}
		for _, pw := range []string{"alicepw", "sampw", "evepw", "svcpw"} {
			mustf(t, !strings.Contains(a.out.String(), pw), "a password reached the log")
		}
	})
}

// ldapmodify applies an LDIF change to the test slapd as its root DN.
func ldapmodify(t *testing.T, ldif string) {
	t.Helper()
	cmd := exec.Command("ldapmodify", "-x", "-H", os.Getenv("SITEMETRICS_TEST_LDAP_URL"), "-D", "cn=admin,dc=example,dc=org", "-w", "adminpw")
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldapmodify: %v\n%s", err, out)
	}
}

// A person removed from their group in the directory loses their session
// within the re-validation interval, without signing in again: the app
// checks in the background (here every second), not on their requests.
func TestSessionEndsWhenTheDirectoryRemovesTheRole(t *testing.T) {
	env, _ := ldapEnv(t, "postgres")
	env["SITEMETRICS_AUTH_REVALIDATE_INTERVAL"] = "1s"
	a := startApp(t, env)
	const rita = "uid=rita,ou=people,dc=example,dc=org"
	group := func(op string) string {
		return "dn: cn=sre,ou=groups,dc=example,dc=org\nchangetype: modify\n" + op + ": member\nmember: " + rita + "\n"
	}
	b := newBrowser(t, a.URL)
	mustf(t, b.login("rita", "ritapw", "/slos").Status == 303, "rita signs in")
	mustf(t, b.get("/slos").Status == 200, "rita, an SRE, opens the SLO configuration")

	ldapmodify(t, group("delete"))
	t.Cleanup(func() { ldapmodify(t, group("add")) })
	deadline := time.Now().Add(5 * time.Second)
	for b.get("/slos").Status == 200 {
		mustf(t, time.Now().Before(deadline), "rita still has her session 5 s after losing her group")
		time.Sleep(100 * time.Millisecond)
	}
	r := b.get("/slos")
	mustf(t, r.Status == 303 && strings.HasPrefix(r.Header.Get("Location"), "/login"), "rita after the check: %d %s", r.Status, r.Header.Get("Location"))
	mustf(t, newBrowser(t, a.URL).login("rita", "ritapw", "/").Status == 401, "rita signs in again without a role")
}
