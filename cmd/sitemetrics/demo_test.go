package main

import (
	"strings"
	"testing"
	"time"
)

// `serve --demo` on an empty database seeds services, SLOs, a week of
// history and a simulated Splunk, so that every status shows; without
// --demo nothing of it exists.
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
	mustf(t, strings.Contains(a.out.String(), "sign in as admin"), "the demo does not say how to sign in")

	plain := localEnv(t, "sqlite")
	p := startApp(t, plain)
	var feeds struct {
		Feeds []any `json:"feeds"`
	}
	apiGet(t, p, newAPIToken(t, plain, "sre"), "/api/v1/feeds", &feeds)
	mustf(t, len(feeds.Feeds) == 0, "without --demo, feeds were created: %v", feeds.Feeds)
}
