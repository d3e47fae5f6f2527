package main

import (
	"strings"
	"testing"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

const cliExample = `apiVersion: openslo/v1
kind: Service
metadata: {name: checkout}
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
  alertPolicies:
`

// slo import --dry-run prints a diff per SLO and changes nothing; the export of
// an import imports again as "unchanged".
func TestSLOImportDryRunCLI(t *testing.T) {
	for _, dialect := range dbtest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			env := testEnv(t, dialect)
			newFeed(t, env, "--name", "web", "--series-field", "service")
			write := func(name, body string) string { return writeFile(t, name, body) }
			first := write("slos.yaml", cliExample)
			out := runCmd(t, env, "slo", "import", "--dry-run", first)
			if !strings.Contains(out, "Dry run: nothing was changed.") || !strings.Contains(out, "SLO checkout-availability: would be created") ||
				!strings.Contains(out, "SLOs: 1 would be created") {
				t.Fatalf("dry run of a new SLO:\n%s", out)
			}
			if exported := runCmd(t, env, "slo", "export"); strings.Contains(exported, "kind: SLO") {
				t.Fatalf("the dry run created the SLO:\n%s", exported)
			}
			out = runCmd(t, env, "slo", "import", first)
			if !strings.Contains(out, "SLOs: 1 created, 0 updated, 0 unchanged.") {
				t.Fatalf("import:\n%s", out)
			}
			exported := runCmd(t, env, "slo", "export")
			if out := runCmd(t, env, "slo", "import", write("export.yaml", exported)); !strings.Contains(out, "Services: 0 created, 0 updated, 1 unchanged. SLOs: 0 created, 0 updated, 1 unchanged.") {
				t.Fatalf("re-import of the export:\n%s", out)
			}
			edited := write("edited.yaml", strings.NewReplacer("target: 0.999", "target: 0.9995", "displayName: Checkout availability", "displayName: Checkout up").Replace(cliExample))
			out = runCmd(t, env, "slo", "import", "--dry-run", edited)
			for _, want := range []string{"SLO checkout-availability: would be updated", "  target: 99.9% → 99.95% (from now on; the past keeps its targets)",
				`  display name: "Checkout availability" → "Checkout up"`} {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("dry-run output lacks %q:\n%s", want, out)
				}
			}
			if again := runCmd(t, env, "slo", "export"); again != exported {
				t.Fatalf("the dry run changed the SLO:\n%s", again)
			}
		})
	}
}
