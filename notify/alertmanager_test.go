package notify_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// startAlertmanager runs Debian's prometheus-alertmanager on a free port with its own
// storage and configuration, and stops it by PID at the end of the test.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SITEMETRICS_TEST_ALERTMANAGER")
	dbtest.Require(t, "alertmanager", bin != "", "SITEMETRICS_TEST_ALERTMANAGER is not set (apt-get install prometheus-alertmanager)")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	must(t, os.WriteFile(cfg, []byte("route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n"), 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	out := &syncWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	url := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); ; {
		if resp, err := http.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager did not start:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func amAlerts(t *testing.T, url string) []amAlert {
	t.Helper()
	resp, err := http.Get(url + "/api/v2/alerts")
	must(t, err)
	defer resp.Body.Close()
	var out []amAlert
	must(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// A real Alertmanager shows our alert with its labels while the tier fires, and no
// longer as active once we resolve it.
func TestAlertmanagerReceivesAndResolves(t *testing.T) {
	am := startAlertmanager(t)
	s := dbtest.Open(t, migrations.SQLite)
	// Alertmanager judges endsAt by its own clock: the data ends now.
	r := newRigAt(t, s, time.Now().UTC().Truncate(5*time.Minute).Add(-3*24*time.Hour-30*time.Minute))
	r.channel("alertmanager", "alertmanager", am, nil, pageOnly)
	r.history()
	r.cross()
	r.step()
	var firing *amAlert
	for deadline := time.Now().Add(10 * time.Second); firing == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, a := range amAlerts(t, am) {
			if a.Labels["alertname"] == "SitemetricsBurnRate" && a.Status.State == "active" {
				firing = &a
			}
		}
	}
	if firing == nil {
		t.Fatalf("alert not active in Alertmanager: %+v", amAlerts(t, am))
	}
	want := map[string]string{"slo": "checkout-availability", "service": "checkout", "team": "payments", "severity": "page", "tier": "page_quick", "kind": "burn_rate"}
	for k, v := range want {
		if firing.Labels[k] != v {
			t.Fatalf("label %s=%q, want %q (%+v)", k, firing.Labels[k], v, firing.Labels)
		}
	}
	if firing.Annotations["summary"] == "" || !firing.EndsAt.After(time.Now()) {
		t.Fatalf("annotations %v, endsAt %s", firing.Annotations, firing.EndsAt)
	}
	// While it fires the alert is restated, so Alertmanager never lets it lapse: the
	// sender's first pass restates every firing alert with endsAt an hour ahead.
	r.clock.Add(10 * time.Minute)
	run, stop := context.WithTimeout(ctx, 1500*time.Millisecond)
	r.n.Run(run)
	stop()
	restated := false
	for _, a := range amAlerts(t, am) {
		if a.Labels["tier"] == "page_quick" && a.EndsAt.Sub(firing.EndsAt) >= 9*time.Minute {
			restated = true
		}
	}
	if !restated {
		t.Fatalf("not restated (endsAt was %s): %+v", firing.EndsAt, amAlerts(t, am))
	}
	r.good(1)
	r.step()
	r.good(1)
	r.step()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		active := 0
		for _, a := range amAlerts(t, am) {
			if a.Labels["alertname"] == "SitemetricsBurnRate" && a.Status.State == "active" && a.EndsAt.After(time.Now()) {
				active++
			}
		}
		if active == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still active after the resolve: %+v", amAlerts(t, am))
		}
	}
}
