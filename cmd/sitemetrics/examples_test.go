package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example configuration parses, means what it says, and starts the app
// (its database and secrets swapped for test ones through the environment,
// which beats the file).
func TestExampleConfig(t *testing.T) {
	example := filepath.Join("..", "..", "docs", "examples", "sitemetrics.toml")
	env := testEnv(t, "sqlite")
	env["SITEMETRICS_CONFIG"] = example
	env["SITEMETRICS_LDAP_BIND_PASSWORD_FILE"] = writeFile(t, "bind", "secret\n")
	env["SITEMETRICS_LDAP_CA_FILE"] = writeFile(t, "ca.pem", testCAPEM(t))
	env["SITEMETRICS_LOG_FORMAT"] = "text"
	cfg, err := loadConfig(nil, getenvFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.LDAP.URLs) != 2 || len(cfg.LDAP.RoleMappings) != 3 || cfg.LDAP.RoleMappings[0].Role != "admin" ||
		cfg.Auth.CacheMaxAge.Hours() != 168 || cfg.IngestMaxRows != 5000 || cfg.LDAP.BindPassword != "secret" {
		t.Fatalf("example config read as %+v", cfg)
	}
	// The directory is not reachable from tests: the app starts anyway and
	// signs people in when it is.
	a := startApp(t, env)
	r := do(t, "GET", a.URL+"/login", nil)
	mustf(t, r.Status == 200 && strings.Contains(string(r.Body), "Use your company account."), "login page: %d", r.Status)
}

// The example systemd unit starts the command the README documents, with
// flags the binary accepts.
func TestExampleSystemdUnit(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "docs", "examples", "sitemetrics.service"))
	must(t, err)
	defer f.Close()
	var exec string
	sections := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			sections[line] = true
		}
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			exec = v
		}
	}
	mustf(t, sections["[Unit]"] && sections["[Service]"] && sections["[Install]"], "sections: %v", sections)
	args := strings.Fields(exec)
	mustf(t, len(args) >= 2 && filepath.Base(args[0]) == "sitemetrics" && args[1] == "serve", "ExecStart=%s", exec)
	// The flags parse; --help-like errors would fail here.
	e := env{getenv: getenvFrom(map[string]string{}), stdout: io.Discard, stderr: io.Discard}
	flags := append([]string{}, args[2:]...)
	for i, a := range flags {
		if a == "/etc/sitemetrics/sitemetrics.toml" {
			flags[i] = filepath.Join("..", "..", "docs", "examples", "sitemetrics.toml")
		}
	}
	_, _, err = e.parse("serve", flags, nil)
	// The example points at secrets that exist only on a server: the error
	// must be about them, not about the flags.
	mustf(t, err == nil || strings.Contains(err.Error(), "/etc/sitemetrics/"), "ExecStart flags: %v", err)
}

// testCAPEM is a throwaway self-signed CA certificate.
func testCAPEM(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now(),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	must(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
