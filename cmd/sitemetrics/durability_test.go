package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds sitemetrics once per test run, for tests that need a real process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sitemetrics-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sitemetrics")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startProcess runs `sitemetrics serve` as a child process and waits until it is ready.
func startProcess(t *testing.T, env map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(env["SITEMETRICS_BASE_URL"] + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("process not ready:\n%s", out.String())
	return nil
}

// A process killed with SIGKILL right after answering 2xx loses nothing:
// every delivery it acknowledged is there after a restart.
func TestSIGKILLAfter2xxLosesNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		env := testEnv(t, dialect)
		hook := newFeed(t, env, "--name", "web", "--series-field", "service")
		viewer := newAPIToken(t, env, "viewer")
		cmd := startProcess(t, env)

		const senders, each = 8, 15
		// Recent buckets: a restart applies retention, which would rightly drop 2023's.
		base := time.Now().Add(-24 * time.Hour).Truncate(5 * time.Minute).Unix()
		var mu sync.Mutex
		acked := 0
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 5 * time.Second}
		for s := 0; s < senders; s++ {
			wg.Add(1)
			go func(s int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					body := fmt.Sprintf(`{"sid":"scheduler__a__search__RMD5x_at_%d_%d","result":{"service":"svc%d","_time":"%d","total":"100","good":"99"}}`,
						base, s*1000+i, s, base+int64(i)*300)
					resp, err := client.Post(hook, "application/json", bytes.NewReader([]byte(body)))
					if err != nil {
						return // the process is gone
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						mu.Lock()
						acked++
						last := acked == senders*each/2
						mu.Unlock()
						if last {
							// Kill mid-stream, right after a 2xx, while other senders are in flight.
							_ = cmd.Process.Signal(syscall.SIGKILL)
						}
					}
				}
			}(s)
		}
		wg.Wait()
		_ = cmd.Wait()
		if acked < senders*each/2 {
			t.Fatalf("only %d deliveries acknowledged before the kill", acked)
		}

		// Restart on the same database and data directory, with the same port.
		if conn, err := net.DialTimeout("tcp", env["SITEMETRICS_ADDR"], 100*time.Millisecond); err == nil {
			conn.Close()
			t.Fatal("the killed process still listens")
		}
		startProcess(t, env)
		a := &app{URL: env["SITEMETRICS_BASE_URL"]}
		var page samplesPage
		apiGet(t, a, viewer, "/api/v1/feeds/1/samples?limit=5000", &page)
		if len(page.Samples) < acked {
			t.Fatalf("%d deliveries were acknowledged, %d samples survived the kill", acked, len(page.Samples))
		}
		t.Logf("%s: %d acknowledged, %d stored (the rest were in flight when killed)", dialect, acked, len(page.Samples))
	})
}
