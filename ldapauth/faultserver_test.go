package ldapauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"
)

const samDN = "uid=sam,ou=people,dc=example,dc=org"

// Modes of the fault server.
const (
	modeOK          = "ok"
	modeBusy        = "busy"        // searches answer 51
	modeUnavailable = "unavailable" // binds answer 52
	modeSvc49       = "svc49"       // the service bind answers 49
	modeSvc50       = "svc50"       // the service bind answers 50
	modeSlow        = "slow"        // binds wait delay before answering
	modeStallTLS    = "stall-tls"   // StartTLS says yes, then the handshake never comes
)

// faultDirectory is an in-process LDAP server (gldap) that knows one person,
// sam (sampw, member of sre), and misbehaves on demand. It does not evaluate
// filters; slapd is for semantics, this is for faults.
type faultDirectory struct {
	url     string
	mode    atomic.Value
	delay   atomic.Int64
	release chan struct{}

	mu      sync.Mutex
	filters []string
}

type faultTLS int

const (
	plainLDAP faultTLS = iota
	ldapsTLS
	startTLS
)

func startFaultDirectory(t testing.TB, kind faultTLS, serverTLS *tls.Config) *faultDirectory {
	t.Helper()
	d := &faultDirectory{release: make(chan struct{})}
	d.mode.Store(modeOK)
	s, err := gldap.NewServer(gldap.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		t.Fatal(err)
	}
	mux, err := gldap.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mux.Bind(d.bind))
	must(mux.Search(d.search))
	if kind == startTLS {
		must(mux.ExtendedOperation(func(w *gldap.ResponseWriter, r *gldap.Request) {
			res := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultSuccess))
			res.SetResponseName(gldap.ExtendedOperationStartTLS)
			if w.Write(res) != nil {
				return
			}
			if d.mode.Load().(string) == modeStallTLS {
				<-d.release
				return
			}
			_ = r.StartTLS(serverTLS)
		}, gldap.ExtendedOperationStartTLS))
	}
	must(mux.DefaultRoute(func(w *gldap.ResponseWriter, r *gldap.Request) {
		_ = w.Write(r.NewResponse(gldap.WithResponseCode(gldap.ResultUnwillingToPerform)))
	}))
	must(s.Router(mux))

	addr := freeAddr(t)
	var opts []gldap.Option
	scheme := "ldap://"
	if kind == ldapsTLS {
		opts = append(opts, gldap.WithTLSConfig(serverTLS))
		scheme = "ldaps://"
	}
	go func() { _ = s.Run(addr, opts...) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gldap did not start on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		close(d.release)
		_ = s.Stop()
	})
	d.url = scheme + addr
	return d
}

func (d *faultDirectory) setMode(mode string, delay time.Duration) {
	d.mode.Store(mode)
	d.delay.Store(int64(delay))
}

func (d *faultDirectory) bind(w *gldap.ResponseWriter, r *gldap.Request) {
	code := gldap.ResultInvalidCredentials
	defer func() { _ = w.Write(r.NewBindResponse(gldap.WithResponseCode(code))) }()
	m, err := r.GetSimpleBindMessage()
	if err != nil {
		return
	}
	mode := d.mode.Load().(string)
	if mode == modeSlow {
		select {
		case <-time.After(time.Duration(d.delay.Load())):
		case <-d.release:
		}
	}
	switch {
	case mode == modeUnavailable:
		code = gldap.ResultUnavailable
	case m.UserName == svcDN && mode == modeSvc49:
		code = gldap.ResultInvalidCredentials
	case m.UserName == svcDN && mode == modeSvc50:
		code = gldap.ResultInsufficientAccessRights
	case m.UserName == svcDN && m.Password == "svcpw", m.UserName == samDN && m.Password == "sampw":
		code = gldap.ResultSuccess
	}
}

func (d *faultDirectory) search(w *gldap.ResponseWriter, r *gldap.Request) {
	code := gldap.ResultSuccess
	defer func() { _ = w.Write(r.NewSearchDoneResponse(gldap.WithResponseCode(code))) }()
	if d.mode.Load().(string) == modeBusy {
		code = gldap.ResultBusy
		return
	}
	m, err := r.GetSearchMessage()
	if err != nil {
		code = gldap.ResultProtocolError
		return
	}
	d.mu.Lock()
	d.filters = append(d.filters, m.Filter)
	d.mu.Unlock()
	if strings.Contains(m.Filter, "(uid=sam)") {
		_ = w.Write(r.NewSearchResponseEntry(samDN, gldap.WithAttributes(map[string][]string{
			"uid": {"sam"}, "cn": {"Sam SRE"}, "memberOf": {sreDN},
		})))
	}
}

func (d *faultDirectory) recordedFilters() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.filters...)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// hungListener accepts connections and never answers: a directory whose
// process is alive and stuck.
func hungListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "ldap://" + l.Addr().String()
}

// fullBacklog returns an address whose accept queue is full (listen with
// backlog 0, never accept): new connection attempts get no answer, so the
// client's dial times out.
func fullBacklog(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			return "ldap://" + addr
		}
		if err != nil || i == 20 {
			t.Skipf("cannot fill the accept queue on this kernel (%v)", err)
		}
		t.Cleanup(func() { _ = c.Close() })
	}
}

// testPKI is a throwaway CA and a server certificate it signed.
type testPKI struct {
	caFile string
	server *tls.Config
}

// newPKI makes a CA and a certificate for hosts (IPs or names), with the CA
// written to a PEM file for Config.CAFile.
func newPKI(t testing.TB, hosts ...string) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sitemetrics test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return testPKI{
		caFile: file,
		server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
	}
}
