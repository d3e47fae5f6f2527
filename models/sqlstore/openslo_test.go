package sqlstore_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/models/openslo"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// richExample uses every construct Sitemetrics reads: services with labels and
// annotations, an SLI document and indicatorRef, several objectives, ratio in time
// slices, threshold in occurrences, a calendar window, alerting documents and policies.
const richExample = `apiVersion: openslo/v1
kind: Service
metadata:
  name: checkout
  displayName: Checkout
  labels: {team: payments, tier: "1", region: [eu, us]}
  annotations: {example.com/owner: payments@example.com}
spec: {description: Cart and payment}
---
- apiVersion: openslo/v1
  kind: AlertCondition
  metadata: {name: fast-burn}
  spec: {severity: page, condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 5m}}
- apiVersion: openslo/v1
  kind: AlertNotificationTarget
  metadata: {name: oncall}
  spec: {target: pagerduty, description: Payments on-call}
- apiVersion: openslo/v1
  kind: AlertPolicy
  metadata: {name: page-oncall}
  spec:
    alertWhenBreaching: true
    conditions: [{conditionRef: fast-burn}]
    notificationTargets: [{targetRef: oncall}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  displayName: Checkout availability
  labels: {journey: buy}
spec:
  description: Requests answered without a server error
  service: checkout
  indicator:
    metadata: {name: checkout-good-requests, displayName: Good requests}
    spec:
      ratioMetric:
        counter: true
        good:  {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: good}}}
        total: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: total}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Timeslices
  objectives:
    - {displayName: Internal, target: 0.999, timeSliceTarget: 0.99, timeSliceWindow: 5m}
    - {displayName: SLA, target: 0.995, timeSliceTarget: 0.95, timeSliceWindow: 5m}
  alertPolicies: [{alertPolicyRef: page-oncall}]
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: checkout-p95}
spec:
  thresholdMetric: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}}}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-latency
  annotations: {sitemetrics.io/latency-fields: "p50_ms,p95_ms"}
spec:
  service: checkout
  indicatorRef: checkout-p95
  timeWindow: [{duration: 1M, calendar: {startTime: "2026-01-01 00:00:00", timeZone: Europe/Madrid}}]
  budgetingMethod: Occurrences
  objectives: [{displayName: Fast, target: 0.99, op: lte, value: 300}]
  alertPolicies:
`

func mustParse(t *testing.T, b []byte) openslo.Plan {
	t.Helper()
	plan, err := openslo.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, b)
	}
	return plan
}

func mustImport(t *testing.T, s *sqlstore.Store, b []byte, dry bool) openslo.Result {
	t.Helper()
	res, err := s.ImportOpenSLO(ctx, "ci", mustParse(t, b), dry)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func mustExport(t *testing.T, s *sqlstore.Store) []byte {
	t.Helper()
	out, err := s.ExportOpenSLO(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// richWithHistory imports richExample and changes checkout-latency's target at
// the given time, as someone would in the UI.
func richWithHistory(t *testing.T, s *sqlstore.Store, at time.Time) {
	t.Helper()
	mustFeed(t, s, "web", "service")
	mustImport(t, s, []byte(richExample), false)
	s.Now = func() time.Time { return at }
	d, _ := s.SLOByName(ctx, "checkout-latency")
	in := d.Input()
	in.Target = "99.5"
	if _, _, err := s.UpdateSLO(ctx, "alice", d.ID, in); err != nil {
		t.Fatal(err)
	}
}

func auditCount(t *testing.T, s *sqlstore.Store) int {
	t.Helper()
	var n int64
	if err := s.DB().Table("audit_log").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func counts(r openslo.Result) [6]int {
	return [6]int{r.Count("service", openslo.ActionCreate), r.Count("service", openslo.ActionUpdate), r.Count("service", openslo.ActionNone),
		r.Count("SLO", openslo.ActionCreate), r.Count("SLO", openslo.ActionUpdate), r.Count("SLO", openslo.ActionNone)}
}

func TestOpenSLOImportMapsEveryConstruct(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		mustFeed(t, s, "web", "service")
		res := mustImport(t, s, []byte(richExample), false)
		if got := counts(res); got != [6]int{1, 0, 0, 3, 0, 0} {
			t.Fatalf("counts %v", got)
		}
		if len(res.Notices) != 4 || !strings.Contains(strings.Join(res.Notices, "\n"), `SLO "checkout-availability": alert policy "page-oncall" referred to, not applied`) {
			t.Errorf("notices: %q", res.Notices)
		}
		sla, err := s.SLOByName(ctx, "checkout-availability.2")
		if err != nil {
			t.Fatal(err)
		}
		if sla.ObjectiveOf != "checkout-availability" || sla.ObjectiveIndex != 1 || sla.ObjectiveName != "SLA" || sla.Title() != "Checkout availability — SLA" ||
			sla.Binding.Method() != models.BudgetTimeslices || sla.Binding.SliceTarget != 0.95 || sla.Target(s.Now()) != 0.995 || sla.Labels != `{"journey":"buy"}` {
			t.Fatalf("second objective stored as %+v", sla)
		}
		lat, err := s.SLOByName(ctx, "checkout-latency")
		if err != nil || lat.Binding.Method() != models.BudgetOccurrences || lat.Binding.Indicator != models.IndicatorThreshold ||
			lat.WindowSpec != "month" || lat.TimeZone != "Europe/Madrid" || lat.LatencyFields != "p50_ms,p95_ms" || lat.ObjectiveOf != "" {
			t.Fatalf("latency SLO %+v %v", lat, err)
		}
		svc, _ := s.Services(ctx)
		if len(svc) != 1 || svc[0].DisplayName != "Checkout" || svc[0].Team != "payments" || svc[0].Labels != `{"region":["eu","us"]}` ||
			svc[0].Annotations != `{"example.com/owner":"payments@example.com"}` {
			t.Fatalf("service %+v", svc)
		}
	})
}

// Export → import → export gives the same bytes, and the import in between changes
// nothing and writes no audit entry.
func TestOpenSLORoundTripIsByteIdenticalAndQuiet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		// A target change made in the UI: the export must carry the history.
		richWithHistory(t, s, time.Date(2026, 3, 15, 10, 4, 5, 123456000, time.UTC))
		first := mustExport(t, s)
		if !bytes.Contains(first, []byte(`sitemetrics/target-history: '[{"from":"1970-01-01T00:00:00Z","target":0.99},{"from":"2026-03-15T10:04:05.123456Z","target":0.995}]'`)) ||
			!bytes.Contains(first, []byte("timeSliceWindow: 5m")) || !bytes.Contains(first, []byte("displayName: SLA")) || !bytes.Contains(first, []byte("alertPolicyRef: page-oncall")) {
			t.Fatalf("export lacks history, slice window, objective names or alert policies:\n%s", first)
		}
		before := auditCount(t, s)
		res := mustImport(t, s, first, false)
		if got := counts(res); got != [6]int{0, 0, 1, 0, 0, 3} {
			t.Fatalf("re-import of an unchanged export: counts %v, changes %+v", got, res.SLOs)
		}
		if after := auditCount(t, s); after != before {
			t.Fatalf("a no-op import wrote %d audit entries", after-before)
		}
		if again := mustExport(t, s); !bytes.Equal(first, again) {
			t.Fatalf("export changed after a no-op import:\n%s\n---\n%s", first, again)
		}

		// Into an empty database: the history is read back, the export is the same.
		fresh := dbtest.Open(t, s.Dialect())
		mustFeed(t, fresh, "web", "service")
		fresh.Now = func() time.Time { return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) }
		if got := counts(mustImport(t, fresh, first, false)); got != [6]int{1, 0, 0, 3, 0, 0} {
			t.Fatalf("import into an empty database: %v", got)
		}
		if second := mustExport(t, fresh); !bytes.Equal(first, second) {
			t.Fatalf("export from a database restored by import differs:\n%s\n---\n%s", first, second)
		}
		lat, _ := fresh.SLOByName(ctx, "checkout-latency")
		march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		if lat.Target(march) != 0.99 || lat.Target(fresh.Now()) != 0.995 {
			t.Fatalf("restored history: %+v", lat.Targets)
		}
	})
}

func TestOpenSLODryRunChangesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		mustFeed(t, s, "web", "service")
		mustImport(t, s, []byte(richExample), false)
		before, audits := mustExport(t, s), auditCount(t, s)
		edited := strings.NewReplacer("target: 0.999, timeSliceTarget: 0.99", "target: 0.9995, timeSliceTarget: 0.99",
			"labels: {journey: buy}", "labels: {journey: pay}", "value: 300", "value: 250").Replace(richExample)
		res := mustImport(t, s, []byte(edited), true)
		if !res.DryRun || counts(res) != [6]int{0, 0, 1, 0, 3, 0} {
			t.Fatalf("dry run counts %v", counts(res))
		}
		diff := ""
		for _, c := range res.SLOs {
			diff += c.Name + ": " + strings.Join(c.Diff, "; ") + "\n"
		}
		for _, want := range []string{"checkout-availability: target: 99.9% → 99.95%", `labels: "{\"journey\":\"buy\"}" → "{\"journey\":\"pay\"}"`, `checkout-latency: threshold: "300" → "250"`} {
			if !strings.Contains(diff, want) {
				t.Errorf("dry-run diff lacks %q:\n%s", want, diff)
			}
		}
		if after := mustExport(t, s); !bytes.Equal(before, after) || auditCount(t, s) != audits {
			t.Fatal("a dry run changed the database")
		}
		// The same file for real: one target change, audited, history kept.
		res = mustImport(t, s, []byte(edited), false)
		if counts(res) != [6]int{0, 0, 1, 0, 3, 0} || auditCount(t, s) <= audits {
			t.Fatalf("import counts %v", counts(res))
		}
		d, _ := s.SLOByName(ctx, "checkout-availability")
		if len(d.Targets) != 2 || d.Targets[0].Target != 0.999 || d.Targets[1].Target != 0.9995 {
			t.Fatalf("targets %+v", d.Targets)
		}
	})
}

func TestOpenSLOHistoryRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		mustFeed(t, s, "web", "service")
		s.Now = func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }
		mustImport(t, s, []byte(richExample), false)
		withHistory := func(h string) []byte {
			return []byte(strings.Replace(richExample, `annotations: {sitemetrics.io/latency-fields: "p50_ms,p95_ms"}`,
				`annotations: {sitemetrics.io/latency-fields: "p50_ms,p95_ms", sitemetrics/target-history: '`+h+`'}`, 1))
		}
		// The stored history is a prefix of the file's: the file extends it.
		ext := withHistory(`[{"from":"1970-01-01T00:00:00Z","target":0.99},{"from":"2026-02-01T00:00:00Z","target":0.98},{"from":"2026-04-01T00:00:00Z","target":0.99}]`)
		res := mustImport(t, s, ext, false)
		if counts(res)[4] != 1 {
			t.Fatalf("extension: %+v", res.SLOs)
		}
		d, _ := s.SLOByName(ctx, "checkout-latency")
		if len(d.Targets) != 3 || d.Target(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) != 0.98 {
			t.Fatalf("targets %+v", d.Targets)
		}
		// The file's history is a prefix of the stored one: nothing to do.
		if res := mustImport(t, s, []byte(richExample), false); counts(res)[5] != 3 {
			t.Fatalf("prefix: %+v", res.SLOs)
		}
		// A rewrite of the past is refused, and nothing is applied.
		audits := auditCount(t, s)
		conflict := withHistory(`[{"from":"1970-01-01T00:00:00Z","target":0.99},{"from":"2026-02-01T00:00:00Z","target":0.97}]`)
		_, err := s.ImportOpenSLO(ctx, "ci", mustParse(t, []byte(strings.Replace(string(conflict), "labels: {journey: buy}", "labels: {journey: x}", 1))), false)
		if err == nil || models.ErrorCode(err) != models.EINVALID || !strings.Contains(err.Error(), `metadata.annotations["sitemetrics/target-history"]: disagrees with the stored target history from change 2 on`) {
			t.Fatalf("conflict: %v", err)
		}
		if a, _ := s.SLOByName(ctx, "checkout-availability"); a.Labels != `{"journey":"buy"}` || auditCount(t, s) != audits {
			t.Fatal("a refused import applied part of the file")
		}
		// A change dated in the future is refused.
		future := withHistory(`[{"from":"1970-01-01T00:00:00Z","target":0.99},{"from":"2027-01-01T00:00:00Z","target":0.999}]`)
		if _, err := s.ImportOpenSLO(ctx, "ci", mustParse(t, future), false); err == nil || !strings.Contains(err.Error(), "in the future") {
			t.Fatalf("future: %v", err)
		}
	})
}

func TestOpenSLOObjectiveDroppedIsKeptAlone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		mustFeed(t, s, "web", "service")
		mustImport(t, s, []byte(richExample), false)
		one := strings.Replace(richExample, "    - {displayName: SLA, target: 0.995, timeSliceTarget: 0.95, timeSliceWindow: 5m}\n", "", 1)
		res := mustImport(t, s, []byte(one), false)
		var detached string
		for _, c := range res.SLOs {
			if c.Name == "checkout-availability.2" {
				detached = strings.Join(c.Diff, ";")
			}
		}
		if !strings.Contains(detached, "kept as an SLO of its own") {
			t.Fatalf("changes %+v", res.SLOs)
		}
		d, _ := s.SLOByName(ctx, "checkout-availability.2")
		first, _ := s.SLOByName(ctx, "checkout-availability")
		if d.ObjectiveOf != "" || first.ObjectiveOf != "" {
			t.Fatalf("still grouped: %+v %+v", d.SLO, first.SLO)
		}
	})
}

func TestOpenSLOReferencesAreChecked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		mustFeed(t, s, "web", "service")
		tests := []struct{ name, doc, want string }{
			{"a slice other than the feed's interval", strings.ReplaceAll(richExample, "timeSliceWindow: 5m", "timeSliceWindow: 1m"),
				`document 5 (SLO "checkout-availability"), spec.objectives[0], timeSliceWindow: a slice of 1m has no meaning here: one slice is one sample of feed web, every 5m0s`},
			{"an unknown feed", strings.ReplaceAll(richExample, "feed: web", "feed: mobile"), `feed "mobile" does not exist`},
			{"an unknown service", strings.Replace(richExample, "  service: checkout\n  indicatorRef", "  service: search\n  indicatorRef", 1), `service "search" is neither in the file nor defined`},
			{"an unknown alert policy", strings.Replace(richExample, "alertPolicyRef: page-oncall", "alertPolicyRef: page-nobody", 1), `alertPolicyRef "page-nobody" names no AlertPolicy`},
		}
		for _, tc := range tests {
			_, err := s.ImportOpenSLO(ctx, "ci", mustParse(t, []byte(tc.doc)), false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			}
		}
		if list, _ := s.SLOs(ctx); len(list) != 0 {
			t.Fatalf("refused imports stored %d SLOs", len(list))
		}
	})
}

// The third-party files that Sitemetrics reads import into a real database.
func TestOpenSLOThirdPartyFilesImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		mustFeed(t, s, "web", "service")
		if _, err := s.CreateService(ctx, "ci", models.ServiceInput{Name: "web-shop"}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"openslo-occurrences-slo.yaml", "openslo-readme-alert-condition.yaml", "sloctl-alert-condition.yaml",
			"sloctl-alert-policy.yaml", "sloctl-invalid-alert-notification-target.yaml", "sloctl-service.yaml", "sloctl-service.json"} {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "openslo", f))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ImportOpenSLO(ctx, "ci", mustParse(t, b), false); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		out := mustExport(t, s)
		for _, want := range []string{"name: search-slo", "budgetingMethod: Occurrences", "op: lt", "kind: AlertPolicy", "nobl9.com/metadata.project: my-project"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("export lacks %q:\n%s", want, out)
			}
		}
		if res := mustImport(t, s, out, false); counts(res)[3]+counts(res)[4]+counts(res)[0]+counts(res)[1] != 0 {
			t.Errorf("re-import of the export changed %+v %+v", res.Services, res.SLOs)
		}
	})
}

// The real oslo CLI (github.com/OpenSLO/oslo) accepts what Sitemetrics exports.
func TestOpenSLOExportPassesOsloValidate(t *testing.T) {
	oslo := os.Getenv("SITEMETRICS_TEST_OSLO")
	if oslo == "" {
		oslo, _ = exec.LookPath("oslo")
	}
	dbtest.Require(t, "oslo", oslo != "", "the oslo CLI is not on PATH (SITEMETRICS_TEST_OSLO names it; .ci/with-services installs it)")
	s := dbtest.Open(t, "sqlite")
	richWithHistory(t, s, time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "export.yaml")
	if err := os.WriteFile(path, mustExport(t, s), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(oslo, "validate", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("oslo validate refused the export: %v\n%s", err, out)
	}
	// And it is a real check: a Timeslices objective without its slice window fails it.
	b, _ := os.ReadFile(path)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, bytes.Replace(b, []byte("timeSliceWindow: 5m"), []byte("timeSliceWindow: \"\""), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(oslo, "validate", "-f", bad).CombinedOutput(); err == nil {
		t.Fatalf("oslo validate accepted a Timeslices objective without timeSliceWindow:\n%s", out)
	}
}
