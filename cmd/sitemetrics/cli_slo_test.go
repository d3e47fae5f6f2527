package main

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
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

// Editing an imported SLO in the form keeps what the form does not show: its
// budgeting method and time-slice target.
func TestSLOFormKeepsBudgeting(t *testing.T) {
	env := localEnv(t, "sqlite")
	newFeed(t, env, "--name", "web", "--series-field", "service")
	slices := strings.NewReplacer("budgetingMethod: Occurrences", "budgetingMethod: Timeslices",
		"target: 0.999}", "target: 0.999, timeSliceTarget: 0.95, timeSliceWindow: 5m}").Replace(cliExample)
	runCmd(t, env, "slo", "import", writeFile(t, "slos.yaml", slices))
	a := startApp(t, env)
	b := newBrowser(t, a.URL)
	mustf(t, b.login("admin", adminPassword, "/").Status == 303, "login")
	r := b.get("/slos/1/edit")
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	must(t, err)
	form := url.Values{}
	d.Find("form input[name], form select[name], form textarea[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		switch {
		case goquery.NodeName(s) == "select":
			form.Set(name, s.Find("option[selected]").AttrOr("value", ""))
		case goquery.NodeName(s) == "textarea":
			form.Set(name, s.Text())
		default:
			form.Set(name, s.AttrOr("value", ""))
		}
	})
	mustf(t, form.Get("budgeting_method") == "timeslices" && form.Get("time_slice_target") == "95", "the form lost the budgeting: %v", form)
	form.Set("display_name", "Checkout up")
	r = b.post("/slos/1/edit", form)
	mustf(t, r.Status == 303 || (r.Status == 200 && bytes.Contains(r.Body, []byte(`data-testid="saved"`))), "save: %d %s", r.Status, r.Body)
	exported := runCmd(t, env, "slo", "export")
	mustf(t, strings.Contains(exported, "displayName: Checkout up") && strings.Contains(exported, "budgetingMethod: Timeslices") &&
		strings.Contains(exported, "timeSliceTarget: 0.95"), "after a form edit:\n%s", exported)
}
