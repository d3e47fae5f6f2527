package main

// The load driver shared by the benchmarks that measure a running app from the
// outside (bench_scale_test.go, bench_pages_test.go): a `sitemetrics serve`
// child process of its own, clients that post through the webhook and read
// pages and the API, and latency percentiles. Every wait is time-bound and
// every process is stopped by its PID.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// buildServe builds the sitemetrics binary into a temporary directory.
func buildServe(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "sitemetrics")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProc is one `sitemetrics serve` child process, so that its memory is
// the app's own.
type serveProc struct {
	bin     string
	env     map[string]string
	URL     string
	cmd     *exec.Cmd
	logDir  string // lives as long as the test that started the process
	logPath string
	exited  chan struct{}
	Started time.Time // when it was exec'd
	Ready   time.Time // when /readyz first answered 200
}

// startServe starts the binary with env (which must set SITEMETRICS_ADDR and
// SITEMETRICS_BASE_URL) and waits, at most a minute, for /readyz. Its output
// goes to a log file in the test's temporary directory, shown if it fails.
func startServe(tb testing.TB, bin string, env map[string]string) *serveProc {
	tb.Helper()
	p := &serveProc{bin: bin, env: env, URL: env["SITEMETRICS_BASE_URL"], logDir: tb.TempDir()}
	p.start(tb)
	tb.Cleanup(func() { p.kill(tb) })
	return p
}

func (p *serveProc) start(tb testing.TB) {
	tb.Helper()
	f, err := os.CreateTemp(p.logDir, "serve-*.log")
	if err != nil {
		tb.Fatal(err)
	}
	p.logPath = f.Name()
	p.cmd = exec.Command(p.bin, "serve")
	p.cmd.Env = os.Environ()
	for k, v := range p.env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.Started = time.Now()
	if err := p.cmd.Start(); err != nil {
		f.Close()
		tb.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.exited) }()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := client.Get(p.URL + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Ready = time.Now()
				return
			}
		}
		select {
		case <-p.exited:
			tb.Fatalf("sitemetrics serve exited before it was ready:\n%s", p.tail())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("sitemetrics serve not ready within a minute:\n%s", p.tail())
		}
	}
}

// kill stops the process with SIGKILL, by its PID, and waits (at most 10 s) for it.
func (p *serveProc) kill(tb testing.TB) {
	p.signal(tb, syscall.SIGKILL)
}

// stop asks the process to shut down (SIGTERM) and kills it if it has not
// within 20 s.
func (p *serveProc) stop(tb testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		tb.Logf("sitemetrics serve (pid %d) ignored SIGTERM for 20 s; killing it", p.cmd.Process.Pid)
		p.kill(tb)
	}
}

func (p *serveProc) signal(tb testing.TB, sig syscall.Signal) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, sig)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		tb.Errorf("sitemetrics serve (pid %d) still running 10 s after signal %v", p.cmd.Process.Pid, sig)
	}
}

// restart kills the process (as a crash or an OOM kill would) and starts it
// again on the same database, address and data directory.
func (p *serveProc) restart(tb testing.TB) {
	tb.Helper()
	p.kill(tb)
	p.start(tb)
}

// memory is the process's resident set now and at its peak, from /proc.
func (p *serveProc) memory() (rss, peak int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", k, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, sc.Err()
}

// tail is the end of the process's log.
func (p *serveProc) tail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// latencies collects request durations and failures, safe for concurrent use.
type latencies struct {
	mu    sync.Mutex
	d     []time.Duration
	errs  int
	first error
	start time.Time
	end   time.Time
}

func newLatencies() *latencies { return &latencies{start: time.Now()} }

func (l *latencies) add(d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs++
		if l.first == nil {
			l.first = err
		}
		return
	}
	l.d = append(l.d, d)
}

func (l *latencies) done() *latencies {
	l.mu.Lock()
	l.end = time.Now()
	slices.Sort(l.d)
	l.mu.Unlock()
	return l
}

// merge adds o's requests to l, and lays o's span after l's: l then times
// stretches with pauses between them as if they had run back to back.
func (l *latencies) merge(o *latencies) {
	l.d = append(l.d, o.d...)
	slices.Sort(l.d)
	l.errs += o.errs
	if l.first == nil {
		l.first = o.first
	}
	l.end = l.end.Add(o.end.Sub(o.start))
}

// pct is the p-th quantile (0 < p ≤ 1) of the successful requests.
func (l *latencies) pct(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	return l.d[int(p*float64(len(l.d)-1))]
}

func (l *latencies) String() string {
	s := fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (%d requests, %.0f/s, %d errors)",
		ms(l.pct(0.50)), ms(l.pct(0.95)), ms(l.pct(0.99)), ms(l.pct(1)), len(l.d), float64(len(l.d))/l.end.Sub(l.start).Seconds(), l.errs)
	if l.first != nil {
		s += fmt.Sprintf("; first error: %v", l.first)
	}
	return s
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// hammer runs clients closed loops of f for d and returns their latencies.
func hammer(clients int, d time.Duration, f func(client int) error) *latencies {
	l := newLatencies()
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				t := time.Now()
				err := f(c)
				l.add(time.Since(t), err)
			}
		}()
	}
	wg.Wait()
	return l.done()
}

// reader reads pages and the API of one app as one client: its own
// connection, and a session cookie or an API token.
type reader struct {
	client  *http.Client
	session string // session token, sent as the cookie
	token   string // API token, sent as a bearer token
}

func newReader(session, token string) *reader {
	return &reader{client: &http.Client{Timeout: 60 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 1},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		session: session, token: token}
}

// get fetches base+path and fails on anything but 200 (a redirect to the
// sign-in page included); body, when not nil, receives what was read. A read
// that only times (body nil) asks for gzip itself, as a browser does, and
// reads the compressed bytes without inflating them: the load generator shares
// the server's cores, and inflating a 1,000-SLO list took as much CPU as the
// server spent serving it. One that keeps the body gets it inflated.
func (r *reader) get(base, path string, body *[]byte) error {
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		return err
	}
	if body == nil {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	if r.session != "" {
		req.AddCookie(&http.Cookie{Name: "sitemetrics_session", Value: r.session})
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	b, err := okBody(resp, err)
	if err != nil {
		return err
	}
	if body != nil {
		*body = b
	}
	return nil
}

// okBody reads a response's body, and fails unless its status is 200.
func okBody(resp *http.Response, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		path := resp.Request.URL.Path
		if strings.HasPrefix(path, "/hooks/splunk/") {
			path = "/hooks/splunk/…" // not the feed's token
		}
		return nil, fmt.Errorf("%s %s: %d %s", resp.Request.Method, path, resp.StatusCode, firstLine(b))
	}
	return b, nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// sloStatus is the part of an SLO in /api/v1/slos that the benchmarks read.
type sloStatus struct {
	ID     int64 `json:"id"`
	Status struct {
		Status   string    `json:"status"`
		HasData  bool      `json:"has_data"`
		Total    float64   `json:"total"`
		Good     float64   `json:"good"`
		Version  int64     `json:"version"`
		DataTime time.Time `json:"data_time"`
	} `json:"status"`
}

// slos reads /api/v1/slos.
func (r *reader) slos(base string) ([]sloStatus, error) {
	var b []byte
	if err := r.get(base, "/api/v1/slos", &b); err != nil {
		return nil, err
	}
	var out struct {
		SLOs []sloStatus `json:"slos"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("/api/v1/slos: %w", err)
	}
	return out.SLOs, nil
}

// slo reads /api/v1/slos/{id}.
func (r *reader) slo(base string, id int64) (sloStatus, error) {
	var b []byte
	var out sloStatus
	if err := r.get(base, fmt.Sprintf("/api/v1/slos/%d", id), &b); err != nil {
		return out, err
	}
	err := json.Unmarshal(b, &out)
	return out, err
}

// sender posts rows through a feed's webhook as a Splunk batch delivery.
type sender struct {
	client *http.Client
	token  string // the feed token, from its webhook URL
	seq    atomic.Int64
}

func newSender(hookURL string) *sender {
	_, token, _ := strings.Cut(hookURL, "/hooks/splunk/")
	return &sender{client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}, token: token}
}

// post sends rows (JSON objects) to base's webhook in one delivery and checks
// that every row was stored (accepted, replaced or a duplicate).
func (s *sender) post(base string, rows []string) error {
	var body bytes.Buffer
	fmt.Fprintf(&body, `{"sid":"scheduler__bench__search__RMD5bench_at_%d_%d","search_name":"bench","results":[`, time.Now().Unix(), s.seq.Add(1))
	for i, r := range rows {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(r)
	}
	body.WriteString("]}")
	b, err := okBody(s.client.Post(base+"/hooks/splunk/"+s.token, "application/json", &body))
	if err != nil {
		return err
	}
	var res struct {
		Accepted, Replaced, Duplicates int
		Rejected                       []json.RawMessage
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("webhook answer: %w", err)
	}
	if n := res.Accepted + res.Replaced + res.Duplicates; n != len(rows) || len(res.Rejected) > 0 {
		return fmt.Errorf("webhook stored %d of %d rows: %s", n, len(rows), firstLine(b))
	}
	return nil
}

// feedLoad posts rows in the background: each of n series once per period,
// the share due every tick, in deliveries of up to batch rows over senders.
type feedLoad struct {
	rows  atomic.Int64
	lat   *latencies
	start time.Time
	stop  func() // stops posting and waits for the deliveries in flight
}

// startFeedLoad starts posting: row(i) is series i's next row (called from one
// goroutine only), post sends one delivery.
func startFeedLoad(tb testing.TB, n int, period, tick time.Duration, senders, batch int, row func(i int) string, post func(rows []string) error) *feedLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &feedLoad{lat: newLatencies(), start: time.Now()}
	done := make(chan struct{})
	l.stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(3 * time.Minute): // a delivery in flight ends with its client's timeout
			tb.Errorf("the load of a row per series each %s did not stop", period)
		}
		l.lat.done()
	}
	go func() {
		defer close(done)
		t := time.NewTicker(tick)
		defer t.Stop()
		sent := int64(0)
		for {
			due := int64(float64(n)*float64(time.Since(l.start)+tick)/float64(period)) - sent
			chunks := make(chan []string, due/int64(batch)+1)
			var rows []string
			for k := range due {
				rows = append(rows, row(int((sent+k)%int64(n))))
			}
			sent += due
			for len(rows) > 0 {
				k := min(len(rows), batch)
				chunks <- rows[:k]
				rows = rows[k:]
			}
			close(chunks)
			var wg sync.WaitGroup
			for range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for c := range chunks {
						s := time.Now()
						err := post(c)
						l.lat.add(time.Since(s), err)
						if err == nil {
							l.rows.Add(int64(len(c)))
						}
					}
				}()
			}
			wg.Wait()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return l
}

// signIn signs admin in through the sign-in form and returns the session token.
func signIn(tb testing.TB, base string) string {
	tb.Helper()
	c := newReader("", "")
	resp, err := c.client.PostForm(base+"/login", map[string][]string{"username": {"admin"}, "password": {adminPassword}, "next": {"/"}})
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "sitemetrics_session" && ck.Value != "" {
			return ck.Value
		}
	}
	tb.Fatalf("sign-in answered %d without a session cookie", resp.StatusCode)
	return ""
}
