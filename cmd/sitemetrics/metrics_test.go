package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Unauthenticated junk cannot grow /metrics: methods, routes and status
// codes are labels from bounded sets, so thousands of requests with
// distinct made-up methods and paths add no series.
func TestMetricLabelsAreBounded(t *testing.T) {
	a := startApp(t, testEnv(t, "sqlite"))
	metrics := func() string { return string(do(t, "GET", a.URL+"/metrics", nil).Body) }
	series := func(m string) int { return strings.Count(m, "sitemetrics_http_request_duration_seconds_count{") }
	for range 2 { // every label seen once: /metrics itself, then the junk's
		do(t, "BREW", a.URL+"/x", nil)
		metrics()
	}
	before := metrics()
	client := &http.Client{}
	for i := range 3000 {
		req, err := http.NewRequest(fmt.Sprintf("JUNK%d", i), fmt.Sprintf("%s/nothing/%d", a.URL, i), nil)
		must(t, err)
		resp, err := client.Do(req)
		must(t, err)
		resp.Body.Close()
	}
	after := metrics()
	t.Logf("/metrics: %d bytes and %d request series before 3,000 junk requests, %d bytes and %d series after",
		len(before), series(before), len(after), series(after))
	mustf(t, series(after) == series(before), "junk requests added %d series", series(after)-series(before))
	mustf(t, strings.Contains(after, `sitemetrics_http_request_duration_seconds_count{code="404",method="other",route="unmatched"}`),
		"junk is not counted under method other:\n%s", after)
	mustf(t, !strings.Contains(after, "JUNK"), "a junk method reached /metrics")
}
