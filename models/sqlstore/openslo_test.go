package sqlstore_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/openslo"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

const specExample = `apiVersion: openslo/v1
kind: Service
metadata: {name: checkout, labels: {team: payments}}
spec: {description: Cart and payment}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-availability, displayName: Checkout availability}
spec:
  service: checkout
  indicator:
    metadata: {name: checkout-good-requests}
    spec:
      ratioMetric:
        counter: true
        good:  {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: good}}}
        total: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: total}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: Availability, target: 0.999}]
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: checkout-p95}
spec:
  thresholdMetric: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-latency}
spec:
  service: checkout
  indicatorRef: checkout-p95
  timeWindow: [{duration: 1M, calendar: {startTime: "2026-01-01 00:00:00", timeZone: Europe/Madrid}, isRolling: false}]
  budgetingMethod: Timeslices
  objectives: [{displayName: Fast, target: 0.99, op: lte, value: 300}]
`

func TestOpenSLORoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		mustFeed(t, s, "web", "service")
		plan, err := openslo.Parse(strings.NewReader(specExample))
		if err != nil {
			t.Fatal(err)
		}
		created, updated, err := s.ImportOpenSLO(ctx, "ci", plan)
		if err != nil || created != 2 || updated != 0 {
			t.Fatalf("import: %d %d %v", created, updated, err)
		}
		lat, err := s.SLOByName(ctx, "checkout-latency")
		if err != nil || lat.Binding.Indicator != models.IndicatorThreshold || lat.Binding.Threshold != 300 || lat.TimeZone != "Europe/Madrid" ||
			lat.WindowSpec != "month" || lat.Target(s.Now()) != 0.99 {
			t.Fatalf("latency SLO %+v %v", lat, err)
		}
		out, err := s.ExportOpenSLO(ctx)
		if err != nil {
			t.Fatal(err)
		}
		plan2, err := openslo.Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-read export: %v\n%s", err, out)
		}
		created, updated, err = s.ImportOpenSLO(ctx, "ci", plan2)
		if err != nil || created != 0 || updated != 2 {
			t.Fatalf("re-import: %d %d %v", created, updated, err)
		}
		list, _ := s.SLOs(ctx)
		if len(list) != 2 || len(list[0].Targets) != 1 {
			t.Fatalf("a re-import of the same file changed targets: %+v", list)
		}
	})
}

func TestOpenSLOBadInput(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"YAML that does not parse", "apiVersion: openslo/v1\nkind: [SLO\n", "does not parse"},
		{"wrong apiVersion", strings.Replace(specExample, "openslo/v1", "openslo/v1alpha", 1), `apiVersion is "openslo/v1alpha"`},
		{"two documents of one name", specExample + "---\n" + specExample[strings.Index(specExample, "apiVersion: openslo/v1\nkind: SLO"):strings.Index(specExample, "---\napiVersion: openslo/v1\nkind: SLI")],
			`two SLO documents are named "checkout-availability"`},
		{"unsupported field", strings.Replace(specExample, "  budgetingMethod: Occurrences", "  budgetingMethod: Occurrences\n  alertPolicies: [x]", 1), "not supported by Sitemetrics: spec.alertPolicies"},
		{"another source", strings.Replace(specExample, "type: sitemetrics, spec: {feed: web, series: checkout, field: good}", "type: prometheus, spec: {query: x}", 1), `only "sitemetrics"`},
		{"target of 100%", strings.Replace(specExample, "target: 0.999", "target: 1", 1), "target"},
		{"unknown kind", "apiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: x}\n", `kind "AlertPolicy" is not supported`},
		{"empty", "", "no OpenSLO documents"},
	}
	for _, tc := range tests {
		_, err := openslo.Parse(strings.NewReader(tc.doc))
		if err == nil || models.ErrorCode(err) != models.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
