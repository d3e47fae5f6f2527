package main

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// cuttableProxy forwards TCP to the real PostgreSQL until cut: then it drops
// every connection and refuses new ones, as a database outage does.
type cuttableProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
	hung         chan struct{} // closed while the proxy forwards; nil-able
}

func newProxy(t *testing.T, target string) *cuttableProxy {
	p := &cuttableProxy{addr: dbtest.FreeAddr(t), target: target}
	p.restore(t)
	t.Cleanup(func() { p.cut() })
	return p
}

// throughProxy sends the app of env to its PostgreSQL through a proxy the
// test can cut.
func throughProxy(t *testing.T, env map[string]string) *cuttableProxy {
	u, err := url.Parse(env["SITEMETRICS_DATABASE_URL"])
	must(t, err)
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	env["SITEMETRICS_DATABASE_URL"] = u.String()
	return proxy
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
			go func() { p.copy(up, c); up.Close() }()
			go func() { p.copy(c, up); c.Close() }()
		}
	}()
}

// copy forwards bytes, holding them back while the proxy hangs: a database behind
// a network black hole, or stopped with SIGSTOP, looks exactly like this.
func (p *cuttableProxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			wait := p.hung
			p.mu.Unlock()
			if wait != nil {
				<-wait
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// hang stops forwarding (connections stay open, nothing answers) until unhang.
func (p *cuttableProxy) hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hung = make(chan struct{})
}

func (p *cuttableProxy) unhang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hung != nil {
		close(p.hung)
		p.hung = nil
	}
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
	proxy := throughProxy(t, env)
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	viewer := newAPIToken(t, env, "viewer")
	a := startApp(t, env)

	tally := newFaultTally()
	post := func(i int) response {
		r := do(t, "POST", hook, []byte(fmt.Sprintf(`{"sid":"scheduler__a__s__RMD5x_at_%d_1","result":{"service":"checkout","total":"%d","good":"%d"}}`,
			1700000000+i*300, 100+i, 100+i)))
		tally.answer("checkout", int64(1700000000+i*300), r.Status)
		return r
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
	tally.report(t, "PostgreSQL down", page)
}

// The wall screen keeps the last numbers under a banner while the database
// is unreachable, instead of an error page.
func TestTVWhileDatabaseDown(t *testing.T) {
	env := localEnv(t, "postgres")
	proxy := throughProxy(t, env)
	u, err := url.Parse(env["SITEMETRICS_DATABASE_URL"])
	must(t, err)
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
	r = b.get("/")
	mustf(t, r.Status == 503 && strings.Contains(string(r.Body), "cannot reach its database") && !strings.Contains(string(r.Body), u.Host) && !strings.Contains(string(r.Body), u.User.Username()),
		"overview during the outage: %d %s", r.Status, r.Body)
	proxy.restore(t)
}

// A spooled delivery the database refuses on replay is quarantined with its reason
// (in the delivery log, whole) and never holds up the deliveries behind it; an SRE
// replays it once the cause is gone. The refusal is the real PostgreSQL's: a trigger
// that refuses one series.
func TestSpoolQuarantine(t *testing.T) {
	env := testEnv(t, "postgres")
	u, err := url.Parse(env["SITEMETRICS_DATABASE_URL"])
	must(t, err)
	direct := env["SITEMETRICS_DATABASE_URL"]
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	env["SITEMETRICS_DATABASE_URL"] = u.String()
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	db, err := sql.Open("pgx", direct)
	must(t, err)
	defer db.Close()
	_, err = db.Exec(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.key = 'poison' THEN RAISE EXCEPTION 'the poison series is refused'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse_poison BEFORE INSERT ON series FOR EACH ROW EXECUTE FUNCTION refuse_poison()`)
	must(t, err)

	tally := newFaultTally()
	post := func(service string, i int) response {
		r := do(t, "POST", hook, []byte(fmt.Sprintf(`{"result":{"service":%q,"_time":"%d","total":"100","good":"99"}}`, service, 1700000000+i*300)))
		tally.answer(service, int64(1700000000+i*300), r.Status)
		return r
	}
	mustf(t, post("checkout", 0).Status == 200, "before the outage")
	proxy.cut()
	for i, service := range []string{"checkout", "poison", "checkout"} {
		r := post(service, i+1)
		mustf(t, r.Status == 202, "during the outage: %d %s", r.Status, r.Body)
	}
	proxy.restore(t)

	type deliveries struct {
		Deliveries []struct {
			ID      int64  `json:"id"`
			Outcome string `json:"outcome"`
			Error   string `json:"error"`
			BodyURL string `json:"body_url"`
		} `json:"deliveries"`
	}
	var list deliveries
	var page samplesPage
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		// Just after the outage a pooled connection may still fail a read: try again.
		r1 := do(t, "GET", a.URL+"/api/v1/feeds/1/samples", nil, "Authorization", "Bearer "+sre)
		r2 := do(t, "GET", a.URL+"/api/v1/feeds/1/deliveries?outcome=quarantined", nil, "Authorization", "Bearer "+sre)
		if r1.Status == 200 && r2.Status == 200 {
			r1.json(t, &page)
			r2.json(t, &list)
			if len(page.Samples) == 3 && len(list.Deliveries) == 1 {
				break
			}
		}
		mustf(t, time.Now().Before(deadline), "after the outage: %d samples, %d quarantined\n%s", len(page.Samples), len(list.Deliveries), a.out.String())
	}
	q := list.Deliveries[0]
	mustf(t, strings.Contains(q.Error, "the poison series is refused"), "quarantine reason %q", q.Error)
	var one struct {
		Body string `json:"body"`
	}
	apiGet(t, a, sre, q.BodyURL, &one)
	mustf(t, strings.Contains(one.Body, `"poison"`), "the quarantined body is not kept whole: %q", one.Body)
	files, _ := filepath.Glob(filepath.Join(env["SITEMETRICS_DATA_DIR"], "spool", "*.json"))
	mustf(t, len(files) == 0, "the spool still holds %d files", len(files))
	poison := 1700000000 + 2*300
	tally.report(t, "poison delivery", page, sampleID{"poison", int64(poison - poison%300)})

	// The cause goes away; an SRE replays it.
	_, err = db.Exec(`DROP TRIGGER refuse_poison ON series`)
	must(t, err)
	r := apiSend(t, a, "POST", sre, fmt.Sprintf("/api/v1/feeds/1/deliveries/%d/replay", q.ID), nil)
	mustf(t, r.Status == 200, "replay: %d %s", r.Status, r.Body)
	apiGet(t, a, sre, "/api/v1/feeds/1/samples", &page)
	mustf(t, len(page.Samples) == 4, "after the replay %d samples", len(page.Samples))
	tally.report(t, "poison delivery, after an SRE replayed it", page)
	apiGet(t, a, sre, "/api/v1/feeds/1/deliveries?outcome=replayed", &list)
	mustf(t, len(list.Deliveries) == 1 && list.Deliveries[0].ID == q.ID, "the quarantined delivery is not marked replayed: %+v", list)
	r = apiSend(t, a, "POST", sre, fmt.Sprintf("/api/v1/feeds/1/deliveries/%d/replay", q.ID), nil)
	mustf(t, r.Status == 409, "a second replay: %d %s", r.Status, r.Body)
}

// A database that hangs (a black hole: connections open, nothing answers) is treated
// like one that is down: every delivery is answered 202 from the spool within a few
// seconds instead of waiting, readiness says so, and all of it is stored once the
// database answers again.
func TestHungDatabaseSpools(t *testing.T) {
	env := testEnv(t, "postgres")
	u, err := url.Parse(env["SITEMETRICS_DATABASE_URL"])
	must(t, err)
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	env["SITEMETRICS_DATABASE_URL"] = u.String()
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	viewer := newAPIToken(t, env, "viewer")
	a := startApp(t, env)
	tally := newFaultTally()
	post := func(i int) (response, time.Duration) {
		start := time.Now()
		r := do(t, "POST", hook, []byte(fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"100","good":"99"}}`, 1700000000+i*300)))
		tally.answer("checkout", int64(1700000000+i*300), r.Status)
		return r, time.Since(start)
	}
	r, _ := post(0)
	mustf(t, r.Status == 200, "before the hang: %d", r.Status)

	proxy.hang()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	for i := 1; i <= 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, took := post(i)
			mu.Lock()
			defer mu.Unlock()
			slowest = max(slowest, took)
			if r.Status != 202 {
				t.Errorf("delivery %d during the hang: %d %s", i, r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	mustf(t, slowest < 5*time.Second, "the slowest answer during the hang took %s", slowest)
	start := time.Now()
	r = do(t, "GET", a.URL+"/readyz", nil)
	mustf(t, r.Status == 503 && time.Since(start) < 4*time.Second, "readyz during the hang: %d after %s", r.Status, time.Since(start))
	t.Logf("during the hang: slowest delivery answered in %s", slowest.Round(time.Millisecond))

	proxy.unhang()
	var page samplesPage
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := do(t, "GET", a.URL+"/api/v1/feeds/1/samples", nil, "Authorization", "Bearer "+viewer)
		if r.Status == 200 {
			r.json(t, &page)
			if len(page.Samples) == 9 {
				break
			}
		}
		mustf(t, time.Now().Before(deadline), "after the hang: %d samples\n%s", len(page.Samples), a.out.String())
	}
	tally.report(t, "PostgreSQL hung", page)
}

// serve starts while the database is unreachable: it spools deliveries for the feed
// tokens it saw before (remembered on local disk), and stores them when the database
// answers, migrating first.
func TestStartWhileDatabaseDown(t *testing.T) {
	env := testEnv(t, "postgres")
	u, err := url.Parse(env["SITEMETRICS_DATABASE_URL"])
	must(t, err)
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	env["SITEMETRICS_DATABASE_URL"] = u.String()
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	viewer := newAPIToken(t, env, "viewer")
	tally := newFaultTally()
	post := func(i int) response {
		r := do(t, "POST", hook, []byte(fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"100","good":"99"}}`, 1700000000+i*300)))
		tally.answer("checkout", int64(1700000000+i*300), r.Status)
		return r
	}
	first := startApp(t, env)
	mustf(t, post(0).Status == 200, "before the outage")
	first.stop()

	proxy.cut()
	a := startAppUntil(t, "/healthz", env)
	for i := 1; i <= 3; i++ {
		r := post(i)
		mustf(t, r.Status == 202, "while down from the start: %d %s", r.Status, r.Body)
	}
	r := do(t, "POST", strings.Replace(hook, "smf_", "smf_x", 1), []byte(`{"result":{"service":"checkout","total":"1"}}`))
	mustf(t, r.Status == 503 && !strings.Contains(string(r.Body), u.Host) && !strings.Contains(string(r.Body), u.User.Username()), "an unknown token while down: %d %s", r.Status, r.Body)
	mustf(t, do(t, "GET", a.URL+"/readyz", nil).Status == 503, "ready while the database is down")

	proxy.restore(t)
	var page samplesPage
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := do(t, "GET", a.URL+"/api/v1/feeds/1/samples", nil, "Authorization", "Bearer "+viewer)
		if r.Status == 200 {
			r.json(t, &page)
			if len(page.Samples) == 4 {
				break
			}
		}
		mustf(t, time.Now().Before(deadline), "after the outage: %d samples\n%s", len(page.Samples), a.out.String())
	}
	mustf(t, do(t, "GET", a.URL+"/readyz", nil).Status == 200, "not ready once the database answers")
	tally.report(t, "serve started while PostgreSQL down", page)
}

// Readiness covers the disks: with the SQLite database's folder read-only (made
// immutable, which even root cannot write to) the app is not ready, and says so in
// general words; it is ready again once the folder is writable.
func TestReadyCoversTheDisk(t *testing.T) {
	env := localEnv(t, "sqlite")
	a := startApp(t, env)
	dir := filepath.Dir(strings.TrimPrefix(env["SITEMETRICS_DATABASE_URL"], "sqlite://"))
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("this filesystem cannot make a folder immutable (chattr: %v %s)", err, out)
	}
	defer exec.Command("chattr", "-i", dir).Run()
	r := do(t, "GET", a.URL+"/readyz", nil)
	mustf(t, r.Status == 503 && strings.Contains(string(r.Body), "database") && !strings.Contains(string(r.Body), dir),
		"readyz with a read-only data folder: %d %s", r.Status, r.Body)
	must(t, exec.Command("chattr", "-i", dir).Run())
	mustf(t, do(t, "GET", a.URL+"/readyz", nil).Status == 200, "readyz once the folder is writable again")
}
