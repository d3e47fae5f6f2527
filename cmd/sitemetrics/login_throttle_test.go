package main

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// slapdBinds reads how many binds the test slapd has completed, from its
// monitor database (the read's own bind is counted too).
func slapdBinds(t *testing.T) int {
	t.Helper()
	c, err := ldap.DialURL(os.Getenv("SITEMETRICS_TEST_LDAP_URL"), ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	must(t, err)
	defer c.Close()
	must(t, c.Bind("cn=admin,dc=example,dc=org", "adminpw"))
	res, err := c.Search(ldap.NewSearchRequest("cn=Bind,cn=Operations,cn=Monitor", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 5, false, "(objectClass=*)", []string{"monitorOpCompleted"}, nil))
	must(t, err)
	mustf(t, len(res.Entries) == 1, "no bind counter in cn=Monitor")
	n, err := strconv.Atoi(res.Entries[0].GetAttributeValue("monitorOpCompleted"))
	must(t, err)
	return n
}

// 60 parallel wrong passwords for one user from one address: at most the
// limit reach the directory (counted by slapd itself), the rest are
// answered 429 without asking it; the right password from another address
// still gets in, and one address cannot spray every user name.
func TestLoginThrottleUnderParallelGuessing(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env, _ := ldapEnv(t, dialect)
		env["SITEMETRICS_TRUSTED_PROXIES"] = "127.0.0.1"
		env["SITEMETRICS_AUTH_MAX_FAILURES_PER_USER"] = "5"
		env["SITEMETRICS_AUTH_MAX_FAILURES_PER_IP"] = "12"
		a := startApp(t, env)
		const attacker, office, elsewhere = "203.0.113.9", "198.51.100.20", "192.0.2.44"
		from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }

		before := slapdBinds(t)
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := newBrowser(t, a.URL).post("/login", formOf("username", "sam", "password", "guess-"+strconv.Itoa(i)), from(attacker)...)
				mu.Lock()
				statuses[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		binds := slapdBinds(t) - before - 1 // minus the read's own bind
		// Each login that reaches the directory binds twice: the service
		// account, then the user.
		t.Logf("%s: 60 parallel wrong passwords: answers %v, %d binds at slapd (%d user binds)", dialect, statuses, binds, binds/2)
		mustf(t, binds <= 2*5, "%d binds reached the directory, want at most %d (5 logins)", binds, 2*5)
		mustf(t, statuses[401] == 5 && statuses[429] == 55, "answers %v, want 5×401 and 55×429", statuses)

		// The user, at the office, is not locked out by the attack.
		r := newBrowser(t, a.URL).post("/login", formOf("username", "sam", "password", "sampw"), from(office)...)
		mustf(t, r.Status == 303, "sam from the office during the attack: %d", r.Status)

		// One address over many names: 5 failures so far from the attacker,
		// 7 more names reach its ceiling of 12; then any name waits, even
		// with the right password. (The per-name back-off of one address,
		// 1 s and doubling, is tested on a clock in models/sqlstore.)
		for i := range 7 {
			r := newBrowser(t, a.URL).post("/login", formOf("username", "user"+strconv.Itoa(i), "password", "x"), from(attacker)...)
			mustf(t, r.Status == 401, "name %d from the attacker: %d", i, r.Status)
		}
		for _, u := range [][2]string{{"sam", "sampw"}, {"eve", "evepw"}} {
			r = newBrowser(t, a.URL).post("/login", formOf("username", u[0], "password", u[1]), from(attacker)...)
			mustf(t, r.Status == 429 && r.Header.Get("Retry-After") != "" && strings.Contains(string(r.Body), "Too many failed sign-ins"),
				"%s from the attacking address past its ceiling: %d", u[0], r.Status)
		}
		r = newBrowser(t, a.URL).post("/login", formOf("username", "eve", "password", "evepw"), from(elsewhere)...)
		mustf(t, r.Status == 303, "eve from elsewhere: %d", r.Status)
	})
}

// formOf builds form values from name, value pairs.
func formOf(pairs ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v
}
