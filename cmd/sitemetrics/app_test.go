package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// app is one running `sitemetrics serve`, started through run() as main would.
type app struct {
	URL    string
	env    map[string]string
	cancel context.CancelFunc
	done   chan error
	out    *syncBuffer
	once   sync.Once
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv is the environment of an app on a fresh database of the dialect.
func testEnv(t testing.TB, dialect string) map[string]string {
	addr := dbtest.FreeAddr(t)
	return map[string]string{
		"SITEMETRICS_ADDR":         addr,
		"SITEMETRICS_BASE_URL":     "http://" + addr,
		"SITEMETRICS_DATABASE_URL": dbtest.URL(t, dialect),
		"SITEMETRICS_DATA_DIR":     t.TempDir(),
		"SITEMETRICS_LOG_LEVEL":    "warn",
	}
}

func getenvFrom(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// runCmd runs one CLI command against env and returns its stdout.
func runCmd(t testing.TB, env map[string]string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"sitemetrics"}, args...), getenvFrom(env), &out, &errOut); err != nil {
		t.Fatalf("sitemetrics %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func startApp(t testing.TB, env map[string]string, args ...string) *app {
	t.Helper()
	return startAppUntil(t, "/readyz", env, args...)
}

// startAppUntil starts the app and waits for path to answer 200: /readyz for a
// working app, /healthz for one that starts while its database is down.
func startAppUntil(t testing.TB, path string, env map[string]string, args ...string) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &app{URL: env["SITEMETRICS_BASE_URL"], env: env, cancel: cancel, done: make(chan error, 1), out: &syncBuffer{}}
	go func() {
		a.done <- run(ctx, append([]string{"sitemetrics", "serve"}, args...), getenvFrom(env), a.out, a.out)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(a.URL + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-a.done:
			t.Fatalf("app exited: %v\n%s", err, a.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("app not ready: %v\n%s", err, a.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		a.stop()
		if t.Failed() { // the app's own log says why a request failed
			out := a.out.String()
			t.Logf("the app's log (last 8 KiB):\n%s", out[max(0, len(out)-8192):])
		}
	})
	return a
}

// stop ends the app and waits for it, once: a test may stop it before its cleanup does.
func (a *app) stop() {
	a.once.Do(func() {
		a.cancel()
		select {
		case <-a.done:
		case <-time.After(15 * time.Second):
		}
	})
}

var (
	webhookRE = regexp.MustCompile(`(http://\S+/hooks/splunk/(smf_\S+))`)
	apiTokRE  = regexp.MustCompile(`\s(sma_[A-Za-z0-9_-]+)\s`)
)

// newFeed creates a feed with the CLI and returns its webhook URL.
func newFeed(t testing.TB, env map[string]string, args ...string) string {
	t.Helper()
	m := webhookRE.FindStringSubmatch(runCmd(t, env, append([]string{"feed", "create"}, args...)...))
	if m == nil {
		t.Fatal("feed create printed no webhook URL")
	}
	return m[1]
}

func newAPIToken(t testing.TB, env map[string]string, role string) string {
	t.Helper()
	m := apiTokRE.FindStringSubmatch(runCmd(t, env, "token", "create", "--name", "test-"+role, "--role", role))
	if m == nil {
		t.Fatal("token create printed no token")
	}
	return m[1]
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("not JSON (%d): %s", r.Status, r.Body)
	}
}

func do(t testing.TB, method, url string, body []byte, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "splunk", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func apiGet(t testing.TB, a *app, token, path string, v any) {
	t.Helper()
	r := do(t, "GET", a.URL+path, nil, "Authorization", "Bearer "+token)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	r.json(t, v)
}

func eachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range dbtest.Dialects() {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustf(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}
