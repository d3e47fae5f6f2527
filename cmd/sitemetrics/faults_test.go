package main

// The fault cases of SPEC §9 report the same figures, in one format, so that
// `go test -v -run 'TestSIGKILL|TestSpool|TestHung|TestStartWhile|TestRestart'`
// prints what each fault cost: deliveries acknowledged (2xx; 202 = spooled),
// how many of them are stored afterwards, quarantined, and lost.

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// sampleID is a sample's identity: series and bucket (epoch seconds). Every
// delivery a fault test sends carries one row of its own identity, so that an
// acknowledged delivery can be looked up in what was stored.
type sampleID struct {
	series string
	bucket int64
}

// faultTally counts what a fault test's deliveries were answered.
type faultTally struct {
	mu      sync.Mutex
	acked   map[sampleID]int // acknowledged deliveries by the sample they carry
	n       int              // acknowledged deliveries (2xx)
	spooled int              // of which answered 202: spooled, the database out of reach
	direct  int              // of which answered 200: stored before the answer
}

func newFaultTally() *faultTally { return &faultTally{acked: map[sampleID]int{}} }

// answer notes the status a delivery of one row of series at epoch second at was
// answered with (feeds here have the default 5-minute interval), and says whether it
// was acknowledged and how many deliveries have been.
func (f *faultTally) answer(series string, at int64, status int) (acked bool, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status < 200 || status > 299 {
		return false, f.n
	}
	f.acked[sampleID{series, at - at%300}]++
	f.n++
	if status == http.StatusAccepted {
		f.spooled++
	} else {
		f.direct++
	}
	return true, f.n
}

func (f *faultTally) counts() (acked, direct int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, f.direct
}

// report fails the test for every acknowledged delivery whose sample is neither
// stored nor one of quarantined (kept aside with its reason for an SRE to replay),
// and logs the figures.
func (f *faultTally) report(t *testing.T, fault string, stored samplesPage, quarantined ...sampleID) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	have := map[sampleID]bool{}
	for _, s := range stored.Samples {
		at, err := time.Parse(time.RFC3339, s.Time)
		if err != nil {
			t.Fatalf("sample time %q: %v", s.Time, err)
		}
		have[sampleID{s.Series, at.Unix()}] = true
	}
	found, aside, lost := 0, 0, 0
	var missing []sampleID
	for id, n := range f.acked {
		switch {
		case have[id]:
			found += n
		case slices.Contains(quarantined, id):
			aside += n
		default:
			lost += n
			missing = append(missing, id)
		}
	}
	t.Logf("fault %s: %d acknowledged (%d spooled), %d stored, %d quarantined, %d lost; %d samples in the feed",
		fault, f.n, f.spooled, found, aside, lost, len(stored.Samples))
	if lost > 0 {
		t.Errorf("fault %s: %d acknowledged deliveries are not stored: %v", fault, lost, missing)
	}
}

// allSamples reads every sample of feed 1, page by page; ok is false if a page
// was not answered 200 (the app may still be finding its database again).
func allSamples(t *testing.T, base, token string) (all samplesPage, ok bool) {
	t.Helper()
	after := ""
	for {
		r := do(t, "GET", base+"/api/v1/feeds/1/samples?limit=5000"+after, nil, "Authorization", "Bearer "+token)
		if r.Status != http.StatusOK {
			return all, false
		}
		var page struct {
			samplesPage
			NextAfter string `json:"next_after"`
		}
		r.json(t, &page)
		all.Samples = append(all.Samples, page.Samples...)
		if page.NextAfter == "" {
			return all, true
		}
		after = "&after=" + page.NextAfter
	}
}

// A restart of PostgreSQL under concurrent senders (a fast shutdown: every session is
// ended with "terminating connection due to administrator command", connections are
// refused while it is down, then it starts again on the same data) loses nothing that
// was acknowledged: what is answered while it is away is spooled and replayed. The
// server is one of the test's own, so that restarting it disturbs no other test.
func TestRestartOfDatabase(t *testing.T) {
	pg := startPostgres(t)
	addr := dbtest.FreeAddr(t)
	env := map[string]string{
		"SITEMETRICS_ADDR":         addr,
		"SITEMETRICS_BASE_URL":     "http://" + addr,
		"SITEMETRICS_DATABASE_URL": pg.url,
		"SITEMETRICS_DATA_DIR":     t.TempDir(),
		"SITEMETRICS_LOG_LEVEL":    "warn",
	}
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	viewer := newAPIToken(t, env, "viewer")
	a := startApp(t, env)

	const senders = 4
	tally := newFaultTally()
	base := time.Now().Add(-20 * 24 * time.Hour).Truncate(5 * time.Minute).Unix()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			series := fmt.Sprintf("svc%d", s)
			for i := range 5000 { // 5,000 buckets of 5 minutes: still in the past
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond): // ≤ 200 deliveries/s in all: replay (≥ 2,000/s idle, a third of that on two busy cores) must outpace arrivals to drain
				}
				at := base + int64(i)*300
				body := fmt.Sprintf(`{"result":{"service":%q,"_time":"%d","total":"100","good":"99"}}`, series, at)
				resp, err := client.Post(hook, "application/json", bytes.NewReader([]byte(body)))
				if err != nil {
					t.Errorf("delivery %s@%d: %v", series, at, err)
					return
				}
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if ok, _ := tally.answer(series, at, resp.StatusCode); !ok {
					t.Errorf("delivery %s@%d answered %d during the restart: %s", series, at, resp.StatusCode, answer)
				}
			}
		}()
	}
	halt := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer halt()
	stored := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, d := tally.counts(); d >= n {
				return
			}
			if time.Now().After(deadline) {
				halt()
				t.Fatalf("fewer than %d deliveries answered 200 within 30 s\n%s", n, a.out.String())
			}
		}
	}
	stored(20)
	down := time.Now()
	pg.stop(t)
	time.Sleep(time.Second)
	pg.start(t)
	back := time.Now()
	_, before := tally.counts()
	stored(before + 1) // the spool has drained: deliveries go to the server again
	t.Logf("PostgreSQL away for %s; deliveries stored directly again %s after it was back",
		back.Sub(down).Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
	stored(before + 20)
	halt()

	// Then the spool drains into it.
	acked, _ := tally.counts()
	var page samplesPage
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if p, ok := allSamples(t, a.URL, viewer); ok {
			if page = p; len(page.Samples) >= acked {
				break
			}
		}
	}
	tally.report(t, "PostgreSQL restart", page)
	files, _ := filepath.Glob(filepath.Join(env["SITEMETRICS_DATA_DIR"], "spool", "*.json"))
	mustf(t, len(files) == 0, "the spool still holds %d files", len(files))
}

// pgServer is a PostgreSQL server of the test's own, from the binaries .ci/with-services
// installs, run as nobody when the test runs as root (PostgreSQL refuses root).
type pgServer struct {
	bin, dir, port, url string
	cred                *syscall.Credential
	cmd                 *exec.Cmd
	exited              chan struct{}
}

func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	dbtest.Require(t, "postgres", len(bins) > 0, "no /usr/lib/postgresql/*/bin/postgres")
	slices.Sort(bins)
	dir, err := os.MkdirTemp("", "sitemetrics-pg-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	_, port, _ := net.SplitHostPort(dbtest.FreeAddr(t))
	p := &pgServer{bin: filepath.Dir(bins[len(bins)-1]), dir: dir, port: port,
		url: "postgres://postgres@127.0.0.1:" + port + "/postgres?sslmode=disable"}
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		must(t, err)
		uid, _ := strconv.Atoi(nobody.Uid)
		gid, _ := strconv.Atoi(nobody.Gid)
		must(t, os.Chown(dir, uid, gid))
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	initdb := exec.Command(filepath.Join(p.bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start(t)
	t.Cleanup(func() { p.stop(t) })
	return p
}

// start runs the server on its data directory and waits (at most 30 s) until it answers.
func (p *pgServer) start(t *testing.T) {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(p.dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	must(t, err)
	p.cmd = exec.Command(filepath.Join(p.bin, "postgres"), "-D", filepath.Join(p.dir, "data"), "-p", p.port, "-k", p.dir,
		"-c", "listen_addresses=127.0.0.1")
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		log.Close()
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func() { _ = p.cmd.Wait(); log.Close(); close(p.exited) }()
	db, err := sql.Open("pgx", p.url)
	must(t, err)
	defer db.Close()
	for deadline := time.Now().Add(30 * time.Second); db.Ping() != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(p.dir, "postgres.log"))
			t.Fatalf("PostgreSQL not ready within 30 s:\n%s", out)
		}
	}
}

// stop shuts the server down fast (SIGINT: sessions are ended, the data is
// checkpointed), by its PID, and kills it if it has not stopped within 30 s.
func (p *pgServer) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("PostgreSQL (pid %d) still running 30 s after SIGINT; killing it", p.cmd.Process.Pid)
		_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}
