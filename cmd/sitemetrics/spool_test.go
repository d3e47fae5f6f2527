package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// cuttableProxy forwards TCP to the real PostgreSQL until cut: then it drops
// every connection and refuses new ones, as a database outage does.
type cuttableProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newProxy(t *testing.T, target string) *cuttableProxy {
	p := &cuttableProxy{addr: freePort(t), target: target}
	p.restore(t)
	t.Cleanup(func() { p.cut() })
	return p
}

func (p *cuttableProxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *cuttableProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// While PostgreSQL is unreachable, deliveries are spooled durably and
// answered 202; when it returns they are replayed in order, none lost, none doubled.
func TestSpoolWhileDatabaseDown(t *testing.T) {
	env := testEnv(t, "postgres")
	u, err := url.Parse(env["SITEMETRICS_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	env["SITEMETRICS_DATABASE_URL"] = u.String()
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	viewer := newAPIToken(t, env, "viewer")
	a := startApp(t, env)

	post := func(i int) response {
		return do(t, "POST", hook, []byte(fmt.Sprintf(`{"sid":"scheduler__a__s__RMD5x_at_%d_1","result":{"service":"checkout","total":"%d","good":"%d"}}`,
			1700000000+i*300, 100+i, 100+i)))
	}
	mustf(t, post(0).Status == 200, "before the outage")

	proxy.cut()
	for i := 1; i <= 5; i++ {
		r := post(i)
		var got answer
		r.json(t, &got)
		mustf(t, r.Status == 202 && got.Spooled && got.Accepted == 1, "during the outage: %d %s", r.Status, r.Body)
	}
	// Bad input is still refused, not spooled.
	r := do(t, "POST", hook, []byte(`{"result": nope}`))
	mustf(t, r.Status == 400, "malformed during the outage: %d %s", r.Status, r.Body)
	r = do(t, "GET", a.URL+"/readyz", nil)
	mustf(t, r.Status == 503 && strings.Contains(string(r.Body), `"spooled_deliveries":5`), "readyz during the outage: %d %s", r.Status, r.Body)
	spoolDir := filepath.Join(env["SITEMETRICS_DATA_DIR"], "spool")
	files, _ := os.ReadDir(spoolDir)
	mustf(t, len(files) == 5, "spool holds %d files", len(files))

	proxy.restore(t)
	deadline := time.Now().Add(20 * time.Second)
	var page samplesPage
	for {
		r := do(t, "GET", a.URL+"/api/v1/feeds/1/samples", nil, "Authorization", "Bearer "+viewer)
		if r.Status == 200 {
			r.json(t, &page)
			if len(page.Samples) == 6 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("spool not replayed: %d %s\n%s", r.Status, r.Body, a.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, s := range page.Samples {
		mustf(t, s.Fields["total"] == float64(100+i), "sample %d out of order or wrong: %+v", i, s)
	}
	files, _ = os.ReadDir(spoolDir)
	mustf(t, len(files) == 0, "spool still holds %d files", len(files))
	// Replaying again (a crash between commit and delete) stores nothing twice.
	mustf(t, post(3).Status == 200, "after the outage")
	r = do(t, "GET", a.URL+"/api/v1/feeds/1/samples", nil, "Authorization", "Bearer "+viewer)
	r.json(t, &page)
	mustf(t, len(page.Samples) == 6, "a redelivery was stored twice: %d samples", len(page.Samples))
}

// The wall screen keeps the last numbers under a banner while the database
// is unreachable, instead of an error page.
func TestTVWhileDatabaseDown(t *testing.T) {
	env := localEnv(t, "postgres")
	u, err := url.Parse(env["SITEMETRICS_DATABASE_URL"])
	must(t, err)
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	env["SITEMETRICS_DATABASE_URL"] = u.String()
	a := startApp(t, env)
	b := newBrowser(t, a.URL)
	mustf(t, b.login("admin", adminPassword, "/tv").Status == 303, "login")
	r := b.get("/tv")
	mustf(t, r.Status == 200 && !strings.Contains(string(r.Body), "cannot reach its database"), "TV: %d", r.Status)
	proxy.cut()
	// Within a poll of the read model (a second) the screen says so, over the last numbers,
	// and a screen asked to refresh (?refresh=on) goes on refreshing.
	deadline := time.Now().Add(5 * time.Second)
	for r = b.get("/tv?refresh=on"); !strings.Contains(string(r.Body), "cannot reach its database") && time.Now().Before(deadline); r = b.get("/tv?refresh=on") {
		time.Sleep(100 * time.Millisecond)
	}
	mustf(t, r.Status == 200 && strings.Contains(string(r.Body), "Sitemetrics cannot reach its database") &&
		strings.Contains(string(r.Body), `http-equiv="refresh"`), "TV during the outage: %d %s", r.Status, r.Body)
	proxy.restore(t)
}
