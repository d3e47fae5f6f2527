package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// A count reads the same on every page: digits grouped, one decimal where
// an allowed number of events has one ("3,147 of 4,996.6 bad events
// allowed", never "3,147 of 4996.6"); dates name their zone.
func TestOneFormatPerNumber(t *testing.T) {
	env := localEnv(t, "sqlite")
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	at := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	// 4,996,600 events, 3,147 bad; a 99.9% target allows 4,996.6.
	r := do(t, "POST", hook, []byte(fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"4996600","good":"4993453","p95_ms":"212.345"}}`, at.Unix())))
	mustf(t, r.Status == 200, "delivery: %d %s", r.Status, r.Body)
	apiSend(t, a, "POST", sre, "/api/v1/services", map[string]string{"name": "checkout"})
	var created sloAnswer
	apiSend(t, a, "POST", sre, "/api/v1/slos", map[string]any{"service": "checkout", "name": "checkout-availability", "indicator": "ratio",
		"target": "99.9", "window": "28d", "feed": "web", "series": "checkout", "good_field": "good", "total_field": "total",
		"latency_fields": "p95_ms"}).json(t, &created)
	waitDerived(t, a, sre, created.SLO.ID)

	b := newBrowser(t, a.URL)
	b.login("admin", adminPassword, "/")
	d := page(t, b.get(fmt.Sprintf("/slos/%d", created.SLO.ID)))
	notes := d.Find(".bignum .note").Text()
	for _, want := range []string{"4,993,453 of 4,996,600 events good", "3,147 of 4,996.6 bad events allowed"} {
		mustf(t, strings.Contains(notes, want), "the big numbers' notes do not say %q: %s", want, notes)
	}
	if strings.Contains(notes, "runs out") {
		mustf(t, regexp.MustCompile(`runs out \w{3} \d{1,2} \w{3}( \d{4})? \d\d:\d\d UTC`).MatchString(notes), "exhaustion date: %s", notes)
	}
	samples := d.Find(`[data-testid="samples"]`).Text()
	mustf(t, strings.Contains(samples, "4,996,600") && strings.Contains(samples, "212.345") && strings.Contains(samples, " UTC"),
		"the recent rows do not read like the rest: %s", samples)
	ungrouped := regexp.MustCompile(`\d{4,}`)
	d.Find(".bignum .note, [data-testid=samples] td").Each(func(_ int, s *goquery.Selection) {
		text := regexp.MustCompile(`\b20\d\d\b`).ReplaceAllString(s.Text(), "") // years
		mustf(t, !ungrouped.MatchString(text), "an ungrouped number: %q", s.Text())
	})
}
