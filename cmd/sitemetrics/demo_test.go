package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// `serve --demo` on an empty database seeds services, SLOs, thirty days of
// history (a whole 28- or 30-day window) and a simulated Splunk, so that every
// status shows; without --demo nothing of it exists.
func TestDemo(t *testing.T) {
	env := localEnv(t, "sqlite")
	a := startApp(t, env, "--demo")
	viewer := newAPIToken(t, env, "viewer")
	deadline := time.Now().Add(20 * time.Second)
	var statuses map[string]string
	for {
		var list struct {
			SLOs []struct {
				Name       string              `json:"name"`
				Rederiving *struct{ Done int } `json:"rederiving"`
				Status     struct {
					Status string `json:"status"`
				} `json:"status"`
			} `json:"slos"`
		}
		apiGet(t, a, viewer, "/api/v1/slos", &list)
		statuses = map[string]string{}
		pending := false
		for _, s := range list.SLOs {
			statuses[s.Name] = s.Status.Status
			pending = pending || s.Rederiving != nil
		}
		if !pending && len(statuses) == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo not derived: %v", statuses)
		}
		time.Sleep(200 * time.Millisecond)
	}
	want := map[string]string{"login-availability": "breached", "checkout-availability": "at risk", "nightly-export": "stale",
		"payments-api-latency": "no data", "search-availability": "healthy"}
	for slo, st := range want {
		mustf(t, statuses[slo] == st, "%s is %q, want %q (all: %v)", slo, statuses[slo], st, statuses)
	}
	var deliveries struct {
		Deliveries []struct {
			Outcome, Shape, SID string
		} `json:"deliveries"`
	}
	// The simulator's first post runs beside the derivation: wait for it, bounded.
	sre := newAPIToken(t, env, "sre")
	found := false
	for until := time.Now().Add(10 * time.Second); !found && time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
		apiGet(t, a, sre, "/api/v1/feeds/1/deliveries", &deliveries) // web-slo, the live feed
		for _, d := range deliveries.Deliveries {
			found = found || (d.Shape == "native" && strings.Contains(d.SID, "_at_") && d.Outcome == "accepted")
		}
	}
	mustf(t, found, "the simulator posted no native Splunk webhook: %+v", deliveries)
	// History fills the windows: rows on the first day of a 30-day window, and
	// every minute in the last days, where burn-rate windows look.
	var samples struct {
		Samples []any `json:"samples"`
	}
	now := time.Now()
	day := func(ago int) string {
		return fmt.Sprintf("/api/v1/feeds/1/samples?series=login&limit=5000&from=%d&to=%d", now.Add(-time.Duration(ago)*24*time.Hour).Unix(),
			now.Add(-time.Duration(ago-1)*24*time.Hour).Unix())
	}
	apiGet(t, a, viewer, day(30), &samples)
	mustf(t, len(samples.Samples) >= 100, "%d rows 29–30 days ago: the history does not fill a 30-day window", len(samples.Samples))
	apiGet(t, a, viewer, day(2), &samples)
	mustf(t, len(samples.Samples) >= 1400, "%d rows a day in the last days, want one a minute", len(samples.Samples))
	mustf(t, strings.Contains(a.out.String(), "sign in as admin"), "the demo does not say how to sign in")

	plain := localEnv(t, "sqlite")
	p := startApp(t, plain)
	var feeds struct {
		Feeds []any `json:"feeds"`
	}
	apiGet(t, p, newAPIToken(t, plain, "sre"), "/api/v1/feeds", &feeds)
	mustf(t, len(feeds.Feeds) == 0, "without --demo, feeds were created: %v", feeds.Feeds)
}
