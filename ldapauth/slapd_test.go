package ldapauth_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// slapd is the OpenLDAP server that .ci/with-services started for this run,
// loaded with testdata/ldap. Tests that stop or hang it must not run in
// parallel with other slapd tests, and they always bring it back in
// t.Cleanup so the tests after them find it up.
type slapd struct {
	url     string
	pidfile string
	dir     string
}

func needSlapd(t testing.TB) *slapd {
	t.Helper()
	u := os.Getenv("SITEMETRICS_TEST_LDAP_URL")
	dbtest.Require(t, "slapd", u != "" && os.Getenv("SITEMETRICS_TEST_LDAP_PIDFILE") != "",
		"SITEMETRICS_TEST_LDAP_URL is not set; run the tests under .ci/with-services")
	s := &slapd{url: u, pidfile: os.Getenv("SITEMETRICS_TEST_LDAP_PIDFILE"), dir: os.Getenv("SITEMETRICS_TEST_LDAP_DIR")}
	if s.dir == "" {
		s.dir = filepath.Dir(s.pidfile)
	}
	s.waitUp(t) // a previous test may have left it restarting
	return s
}

func (s *slapd) pid(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(s.pidfile)
	if err != nil {
		t.Fatalf("slapd pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("slapd pid file %q: %v", b, err)
	}
	return pid
}

func (s *slapd) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(s.pid(t), sig); err != nil {
		t.Fatalf("kill -%d slapd: %v", sig, err)
	}
}

// pause freezes slapd (SIGSTOP): connections are accepted by the kernel
// and never answered, the "hung directory".
//
// It returns once every thread of slapd is stopped: the threads stop each on its own
// after kill returns, and one still running could answer the next request (a
// login seen accepted online right after the pause, under -race on two busy cores).
func (s *slapd) pause(t testing.TB) {
	t.Helper()
	pid := s.pid(t)
	s.signal(t, syscall.SIGSTOP)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	deadline := time.Now().Add(5 * time.Second)
	for !allStopped(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("slapd %d: threads still running 5s after SIGSTOP", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// allStopped reports whether every thread of process pid is stopped (state T in
// /proc/PID/task/TID/stat).
func allStopped(pid int) bool {
	stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if len(stats) == 0 {
		return false
	}
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			return false
		}
		// The state follows the command, which is in parentheses and may hold spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
			return false
		}
	}
	return true
}

func (s *slapd) resume(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGCONT)
}

// stop terminates slapd and waits until the port refuses connections; the
// cleanup starts it again if the test did not.
func (s *slapd) stop(t testing.TB) {
	t.Helper()
	pid := s.pid(t)
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stop slapd: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("slapd %d did not stop within 10s", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		if !s.answers() {
			s.start(t)
		}
	})
}

// start runs slapd again from its directory, as nobody when we are root,
// the way .ci/with-services started it.
func (s *slapd) start(t testing.TB) {
	t.Helper()
	u, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-F", filepath.Join(s.dir, "slapd.d"), "-h", "ldap://" + u.Host + "/"}
	bin := "slapd"
	if _, err := exec.LookPath(bin); err != nil {
		bin = "/usr/sbin/slapd"
	}
	cmd := exec.Command(bin, args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("setpriv", append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil { // slapd daemonizes: this returns once it listens
		t.Fatalf("start slapd: %v\n%s", err, out)
	}
	s.waitUp(t)
}

// answers reports whether the service account can bind right now.
func (s *slapd) answers() bool {
	c, err := ldap.DialURL(s.url, ldap.DialWithDialer(&net.Dialer{Timeout: 200 * time.Millisecond}))
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetTimeout(200 * time.Millisecond)
	return c.Bind(svcDN, "svcpw") == nil
}

func (s *slapd) waitUp(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.answers() {
		if time.Now().After(deadline) {
			t.Fatalf("slapd at %s does not answer", s.url)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// modify applies an LDIF change as the root DN, as an admin would with ldapmodify.
func (s *slapd) modify(t testing.TB, ldif string) {
	t.Helper()
	s.run(t, ldif, "ldapmodify", "-x", "-H", s.url, "-D", "cn=admin,dc=example,dc=org", "-w", "adminpw")
}

// add creates an entry from LDIF, as an admin would with ldapadd.
func (s *slapd) add(t testing.TB, ldif string) {
	t.Helper()
	s.run(t, ldif, "ldapadd", "-x", "-H", s.url, "-D", "cn=admin,dc=example,dc=org", "-w", "adminpw")
}

// remove deletes an entry with ldapdelete; one already gone is fine.
func (s *slapd) remove(t testing.TB, dn string) {
	t.Helper()
	out, err := exec.Command("ldapdelete", "-x", "-H", s.url, "-D", "cn=admin,dc=example,dc=org", "-w", "adminpw", dn).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "No such object") {
		t.Fatalf("ldapdelete %s: %v\n%s", dn, err, out)
	}
}

// setPassword changes a password with ldappasswd as the root DN.
func (s *slapd) setPassword(t testing.TB, dn, password string) {
	t.Helper()
	s.run(t, "", "ldappasswd", "-x", "-H", s.url, "-D", "cn=admin,dc=example,dc=org", "-w", "adminpw", "-s", password, dn)
}

func (s *slapd) run(t testing.TB, stdin, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// setMembership puts dn into exactly the given groups (cn=NAME,ou=groups).
func (s *slapd) setMembership(t testing.TB, dn string, groups ...string) {
	t.Helper()
	in := map[string]bool{}
	for _, g := range groups {
		in[g] = true
	}
	var b strings.Builder
	for _, g := range []string{"admins", "sre", "viewers", "other"} {
		op := "delete"
		if in[g] {
			op = "add"
		}
		// Deleting a missing value or adding a present one is an error; ask first.
		if s.isMember(t, g, dn) == in[g] {
			continue
		}
		fmt.Fprintf(&b, "dn: cn=%s,ou=groups,dc=example,dc=org\nchangetype: modify\n%s: member\nmember: %s\n\n", g, op, dn)
	}
	if b.Len() > 0 {
		s.modify(t, b.String())
	}
}

func (s *slapd) isMember(t testing.TB, group, dn string) bool {
	t.Helper()
	c, err := ldap.DialURL(s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(svcDN, "svcpw"); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ldap.NewSearchRequest("cn="+group+",ou=groups,dc=example,dc=org", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 5, false, "(member="+ldap.EscapeFilter(dn)+")", []string{"1.1"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Entries) == 1
}
