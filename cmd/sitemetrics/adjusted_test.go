package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Numbers changed after the fact say so: maintenance added over an outage
// that had already happened, and a target change, are marked with who, when
// and why on the monthly report (page and CSV) and on the SLO's charts.
func TestAdjustedMarks(t *testing.T) {
	env := localEnv(t, "sqlite")
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	now := time.Now().UTC().Truncate(5 * time.Minute)
	outage := now.Add(-3 * time.Hour)
	for i := 0; i < 36; i++ {
		at := now.Add(time.Duration(i-36) * 5 * time.Minute)
		good := 1000
		if !at.Before(outage) && at.Before(outage.Add(time.Hour)) {
			good = 900 // an hour of 10% errors
		}
		r := do(t, "POST", hook, []byte(fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"1000","good":"%d"}}`, at.Unix(), good)))
		mustf(t, r.Status == 200, "delivery %d: %d", i, r.Status)
	}
	apiSend(t, a, "POST", sre, "/api/v1/services", map[string]string{"name": "checkout"})
	slo := url.Values{"service": {"checkout"}, "name": {"checkout-availability"}, "indicator": {"ratio"}, "target": {"99.9"},
		"window": {"month"}, "feed": {"web"}, "series": {"checkout"}, "good_field": {"good"}, "total_field": {"total"}}
	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	mustf(t, b.post("/slos/new", slo).Status == 303, "create the SLO")
	waitDerived(t, a, sre, 1)
	report := "/reports/" + outage.Format("2006-01")
	mustf(t, page(t, b.get(report)).Find(`[data-testid="adjusted"]`).Length() == 0, "adjusted before anything was")

	// The outage is forgiven three hours later, then the target lowered.
	r := b.post("/maintenance", url.Values{"target": {"slo:1"}, "starts_at": {outage.Format("2006-01-02T15:04")},
		"ends_at": {outage.Add(time.Hour).Format("2006-01-02T15:04")}, "reason": {"provider outage, not ours"}})
	mustf(t, r.Status == 303, "maintenance: %d %s", r.Status, r.Body)
	slo.Set("target", "99.5")
	mustf(t, b.post("/slos/1/edit", slo).Status == 303, "change the target")
	waitDerived(t, a, sre, 1)

	d := page(t, b.get(report))
	marks := d.Find(`[data-testid="report-1"] [data-testid="adjusted"]`).Text()
	for _, want := range []string{"adjusted", "Maintenance “provider outage, not ours”", "added afterwards by admin", "its time left the budget",
		"Target 99.9% → 99.5%, set by admin"} {
		mustf(t, strings.Contains(marks, want), "the report row does not say %q:\n%s", want, marks)
	}
	mustf(t, strings.Contains(d.Find(`[data-testid="adjusted-count"]`).Text(), "1 of them was adjusted"), "the report's header does not say so")
	csv := string(b.get(report + ".csv").Body)
	mustf(t, strings.Contains(csv, ",adjustments\n") && strings.Contains(csv, "admin maintenance_added: provider outage, not ours") &&
		strings.Contains(csv, "admin target: target 99.9% → 99.5%"), "CSV:\n%s", csv)

	for _, rng := range []string{"window", "24h"} {
		det := page(t, b.get("/slos/1?range="+rng))
		burndown := det.Find(`[data-testid="chart-burndown"]`)
		mustf(t, burndown.Find("svg.chart-svg g.ch-ann-adjusted").Length() == 2, "%s: the burn-down has %d adjustment marks, want 2", rng, burndown.Find("svg.chart-svg g.ch-ann-adjusted").Length())
		events := burndown.Find(".chart-event-adjusted").Text()
		mustf(t, strings.Contains(events, "Adjusted afterwards") && strings.Contains(events, "provider outage, not ours") &&
			strings.Contains(events, "Target 99.9% → 99.5%"), "%s: events list: %s", rng, events)
		mustf(t, det.Find(`[data-testid="chart-sli"] svg.chart-svg g.ch-ann-adjusted`).Length() == 2, "%s: the SLI chart lacks the marks", rng)
	}
}
