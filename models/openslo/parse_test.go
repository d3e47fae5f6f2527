package openslo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// The third-party files of testdata/openslo (see its README), read as they are.
func TestParseThirdPartyFiles(t *testing.T) {
	tests := []struct {
		file                     string
		slos, services, alerting int
		refused                  string // part of the message, "" when the file is read
	}{
		{"openslo-occurrences-slo.yaml", 1, 0, 0, ""},
		{"openslo-readme-alert-condition.yaml", 0, 0, 1, ""},
		{"sloctl-alert-condition.yaml", 0, 0, 1, ""},
		{"sloctl-alert-policy.yaml", 0, 0, 1, ""},
		{"sloctl-invalid-alert-notification-target.yaml", 0, 0, 1, ""},
		{"sloctl-service.yaml", 0, 1, 0, ""},
		{"sloctl-service.json", 0, 1, 0, ""},
		{"openslo-timeslices-slo.yaml", 0, 0, 0, `document 1 (SLO "service-availability"), spec.timeWindow[0].duration: a calendar 1-minute window has no meaning here`},
		{"openslo-low-traffic-timeslices-slo.yaml", 0, 0, 0, `document 1 (SLO "service-availability"), spec.timeWindow[0].duration: a calendar 1-week window`},
		{"sloctl-slos.yaml", 0, 0, 0, `document 1 (SLO "annotator-throughput"), spec.timeWindow[0].duration: a calendar 1-week window`},
		{"openslo-ratio-timeslices.yaml", 0, 0, 0, `document 1 (SLO "main-page"), spec.budgetingMethod: RatioTimeslices`},
		{"openslo-readme-slo-inline-sli.yaml", 0, 0, 0, `document 1 (SLO "foo-slo"), spec.timeWindow: is required here`},
		{"openslo-readme-alert-notification-target.yaml", 0, 0, 0, `metadata.name: "OnCallDevopsMailNotification" is not a name`},
		{"openslo-readme-alert-policy-inline-condition.yaml", 0, 0, 0, `metadata.name: "AlertPolicy" is not a name`},
		{"oslo-validate-v1.yaml", 0, 0, 0, `document 3 (Service "example service"), metadata.name`},
		{"sloth-openslo-getting-started.yml", 0, 0, 0, `apiVersion: is "openslo/v1alpha"; only openslo/v1`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("..", "..", "testdata", "openslo", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			plan, err := Parse(f)
			if tc.refused != "" {
				if err == nil || models.ErrorCode(err) != models.EINVALID || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("got %v, want a refusal containing %q", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.SLOs) != tc.slos || len(plan.Services) != tc.services || len(plan.Alerting) != tc.alerting {
				t.Fatalf("%d SLOs, %d services, %d alerting documents; want %d, %d, %d", len(plan.SLOs), len(plan.Services), len(plan.Alerting), tc.slos, tc.services, tc.alerting)
			}
			if tc.alerting > 0 && (len(plan.Notices) == 0 || !strings.Contains(plan.Notices[0], "not applied")) {
				t.Errorf("alerting documents without a notice: %v", plan.Notices)
			}
		})
	}
}

// The OpenSLO examples' threshold SLO with Occurrences budgeting, as Sitemetrics reads it.
func TestParseThresholdOccurrences(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "openslo", "openslo-occurrences-slo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plan, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	in := plan.SLOs[0].Input
	if in.Indicator != "threshold" || in.Budgeting != "occurrences" || in.Window != "14d" || in.Op != "lt" || in.Threshold != "500" ||
		in.Target != "99" || plan.SLOs[0].ObjectiveName != "Good experience" || in.Description == "" {
		t.Fatalf("read as %+v (objective %q)", in, plan.SLOs[0].ObjectiveName)
	}
}

const base = `apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-latency}
spec:
  service: checkout
  indicator:
    metadata: {name: p95}
    spec:
      thresholdMetric: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Timeslices
  objectives: [{displayName: Fast, op: lte, value: 300, target: 0.99, timeSliceTarget: 1, timeSliceWindow: 5m}]
`

const ratio = `apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-availability}
spec:
  service: checkout
  indicator:
    metadata: {name: good}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: good}}}
        total: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: total}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: Available, target: 0.999}]
`

func TestParseRefusesWithDocumentPathAndSentence(t *testing.T) {
	r := strings.NewReplacer
	tests := []struct{ name, doc, want string }{
		{"a 1-minute rolling window", r("duration: 28d", "duration: 1m").Replace(base),
			`document 1 (SLO "checkout-latency"), spec.timeWindow[0].duration: a 1-minute window has no meaning here`},
		{"a metric source Sitemetrics does not read", r("type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}", "type: prometheus, spec: {query: x}").Replace(base),
			`spec.indicator.spec.thresholdMetric.metricSource.type: is "prometheus", a source Sitemetrics does not read`},
		{"a percentage where a fraction belongs", r("target: 0.99,", "target: 99.5,").Replace(base),
			`spec.objectives[0].target: 99.5 is a percentage, but target is a fraction below 1: write target: 0.995 or targetPercent: 99.5`},
		{"a target of 1", r("target: 0.99,", "target: 1,").Replace(base), `spec.objectives[0].target: 1 leaves no error budget`},
		{"a missing value", r("value: 300, ", "").Replace(base), `spec.objectives[0].value: is required with a thresholdMetric: the threshold`},
		{"a missing op", r("op: lte, ", "").Replace(base), `spec.objectives[0].op: is required with a thresholdMetric: lte, lt, gte or gt`},
		{"a quoted value", r("value: 300", `value: "300"`).Replace(base), `spec.objectives[0].value: "300" is not a number`},
		{"op on a ratio objective", r("target: 0.999}", "target: 0.999, op: gt}").Replace(ratio), `spec.objectives[0].op: op and value compare a thresholdMetric's values`},
		{"ratio in time slices without a slice target", r("Occurrences", "Timeslices").Replace(ratio), `spec.objectives[0].timeSliceTarget: is required with a ratioMetric budgeted in Timeslices`},
		{"a slice target on an events budget", r("target: 0.999}", "target: 0.999, timeSliceTarget: 0.9}").Replace(ratio), `timeSliceTarget: applies to budgetingMethod: Timeslices`},
		{"a rolling month", r("{duration: 28d, isRolling: true}", "{duration: 1M, isRolling: true}").Replace(ratio), `a rolling 1-month window has no fixed length`},
		{"a calendar month starting mid-month", r("{duration: 28d, isRolling: true}", `{duration: 1M, calendar: {startTime: "2026-01-15 00:00:00", timeZone: UTC}}`).Replace(ratio),
			`spec.timeWindow[0].calendar.startTime: periods starting at 2026-01-15 00:00:00 have no meaning here`},
		{"a rolling window with a calendar", r("{duration: 28d, isRolling: true}", `{duration: 1M, isRolling: true, calendar: {timeZone: UTC}}`).Replace(ratio), `a rolling window (isRolling: true) has no calendar`},
		{"isRolling false without a calendar", r("isRolling: true", "isRolling: false").Replace(ratio), `a calendar window (isRolling: false) needs calendar`},
		{"a precomputed ratio", r("counter: true", "raw: {metricSource: {type: sitemetrics, spec: {feed: web, field: r}}}").Replace(ratio), `spec.indicator.spec.ratioMetric.raw: a precomputed ratio cannot be added up`},
		{"a DataSource reference", r("type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}", "metricSourceRef: prom, type: sitemetrics").Replace(base), `metricSourceRef: refers to a DataSource`},
		{"RatioTimeslices", r("Occurrences", "RatioTimeslices").Replace(ratio), `spec.budgetingMethod: RatioTimeslices (the average of every slice's ratio) is not a budget Sitemetrics keeps`},
		{"a composite SLO", r("  indicator:\n    metadata: {name: p95}\n    spec:\n      thresholdMetric: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}}}\n", "").Replace(
			r("{displayName: Fast,", "{indicatorRef: x, displayName: Fast,").Replace(base)), `an indicator per objective makes a composite SLO`},
		{"a composite weight", r("{displayName: Fast,", "{compositeWeight: 2, displayName: Fast,").Replace(base), `compositeWeight: weights combine objectives into a composite SLO`},
		{"an unknown field", r("  budgetingMethod: Timeslices", "  budgetingMethod: Timeslices\n  sloth: x").Replace(base), `spec.sloth: has no meaning in Sitemetrics`},
		{"an indicatorRef to nothing", r("  indicator:\n    metadata: {name: p95}\n    spec:\n      thresholdMetric: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}}}\n", "  indicatorRef: p95\n").Replace(base),
			`spec.indicatorRef: "p95" names no SLI document in the file`},
		{"a DataSource document", "apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: prom}\nspec: {type: Prometheus}\n", `document 1 (DataSource "prom"), kind: a DataSource has no meaning here`},
		{"an unknown kind in a list", "- apiVersion: openslo/v1\n  kind: Service\n  metadata: {name: a}\n  spec: {}\n- apiVersion: openslo/v1\n  kind: Widget\n  metadata: {name: b}\n",
			`document 2 (Widget "b"), kind: "Widget" is not an OpenSLO v1 kind`},
		{"a document that is text", "just text\n", "document 1 is text, not an OpenSLO object"},
		{"YAML that does not parse", "apiVersion: openslo/v1\nkind: [SLO\n", "document 1: the YAML does not parse"},
		{"no documents", "# nothing\n", "no OpenSLO documents"},
		{"a history out of order", r("metadata: {name: checkout-availability}", `metadata: {name: checkout-availability, annotations: {sitemetrics/target-history: '[{"from":"2026-02-01T00:00:00Z","target":0.99},{"from":"2026-01-01T00:00:00Z","target":0.999}]'}}`).Replace(ratio),
			`metadata.annotations["sitemetrics/target-history"]: entry 1: the changes of objective 0 must be in time order`},
		{"a history for a missing objective", r("metadata: {name: checkout-availability}", `metadata: {name: checkout-availability, annotations: {sitemetrics/target-history: '[{"objective":3,"from":"2026-02-01T00:00:00Z","target":0.99}]'}}`).Replace(ratio),
			`has targets for objective 3, but the SLO has 1 objective(s)`},
		{"an objective named like another SLO", r("objectives: [{displayName: Available, target: 0.999}]", "objectives: [{target: 0.9}, {target: 0.99}]").Replace(ratio) +
			"---\n" + r("name: checkout-availability}", "name: checkout-availability.2}").Replace(ratio), `makes SLO "checkout-availability.2", a name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.doc))
			if err == nil || models.ErrorCode(err) != models.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an invalid-input error containing %q", err, tc.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	r := strings.NewReplacer
	sli := "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: p95, displayName: p95 latency}\nspec:\n  description: From the access log\n" +
		"  thresholdMetric: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}}}\n"
	byRef := r("  indicator:\n    metadata: {name: p95}\n    spec:\n      thresholdMetric: {metricSource: {type: sitemetrics, spec: {feed: web, series: checkout, field: p95_ms}}}\n", "  indicatorRef: p95\n").Replace(base)
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, p Plan)
	}{
		{"an SLI document and indicatorRef, in a multi-document file", sli + "---\n" + byRef, func(t *testing.T, p Plan) {
			if p.SLOs[0].Input.ValueField != "p95_ms" || !strings.Contains(p.SLOs[0].Extras, `"description":"From the access log"`) {
				t.Errorf("%+v", p.SLOs[0])
			}
		}},
		{"a top-level list", "- " + strings.ReplaceAll(strings.TrimSpace(sli), "\n", "\n  ") + "\n- " + strings.ReplaceAll(strings.TrimSpace(byRef), "\n", "\n  ") + "\n", func(t *testing.T, p Plan) {
			if len(p.SLOs) != 1 {
				t.Errorf("%d SLOs", len(p.SLOs))
			}
		}},
		{"an empty alertPolicies", r("  budgetingMethod: Occurrences", "  budgetingMethod: Occurrences\n  alertPolicies:").Replace(ratio), func(t *testing.T, p Plan) {
			if len(p.Notices) != 0 {
				t.Errorf("notices %v", p.Notices)
			}
		}},
		{"an inline alert policy, kept and named as not applied", r("  budgetingMethod: Occurrences", `  budgetingMethod: Occurrences
  alertPolicies:
    - kind: AlertPolicy
      metadata: {name: fast-burn}
      spec:
        alertWhenBreaching: true
        conditions: [{kind: AlertCondition, metadata: {name: burn}, spec: {severity: page, condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h}}}]
        notificationTargets: [{targetRef: oncall}]`).Replace(ratio), func(t *testing.T, p Plan) {
			if len(p.Notices) != 1 || !strings.Contains(p.Notices[0], `alert policy "fast-burn" parsed and kept, not applied`) || !strings.Contains(p.SLOs[0].Extras, "fast-burn") {
				t.Errorf("notices %v extras %s", p.Notices, p.SLOs[0].Extras)
			}
		}},
		{"isRolling left out with a calendar: a calendar window", r("{duration: 28d, isRolling: true}", `{duration: 1Q, calendar: {startTime: "2026-04-01 00:00:00", timeZone: Europe/Madrid}}`).Replace(ratio), func(t *testing.T, p Plan) {
			if in := p.SLOs[0].Input; in.Window != "quarter" || in.TimeZone != "Europe/Madrid" {
				t.Errorf("%+v", in)
			}
		}},
		{"isRolling left out without a calendar: a rolling window", r("{duration: 28d, isRolling: true}", `{duration: 4w}`).Replace(ratio), func(t *testing.T, p Plan) {
			if in := p.SLOs[0].Input; in.Window != "28d" {
				t.Errorf("%+v", in)
			}
		}},
		{"targetPercent", r("target: 0.999}", "targetPercent: 99.95}").Replace(ratio), func(t *testing.T, p Plan) {
			if p.SLOs[0].Input.Target != "99.95" {
				t.Errorf("%+v", p.SLOs[0].Input)
			}
		}},
		{"ratio in time slices", r("Occurrences", "Timeslices", "target: 0.999}", "target: 0.999, timeSliceTarget: 0.95, timeSliceWindow: 5m}").Replace(ratio), func(t *testing.T, p Plan) {
			x := p.SLOs[0]
			if x.Input.Budgeting != "timeslices" || x.Input.SliceTarget != "95" || x.SliceWindow != 5*time.Minute {
				t.Errorf("%+v", x)
			}
		}},
		{"several objectives: one SLO each, named deterministically", r("objectives: [{displayName: Available, target: 0.999}]",
			"objectives: [{displayName: Internal, target: 0.9995}, {displayName: SLA, target: 0.999}, {target: 0.99}]").Replace(ratio), func(t *testing.T, p Plan) {
			var got []string
			for _, x := range p.SLOs {
				got = append(got, x.Input.Name+"/"+x.ObjectiveOf+"/"+x.ObjectiveName+"/"+x.Input.Target)
			}
			want := "checkout-availability/checkout-availability/Internal/99.95 checkout-availability.2/checkout-availability/SLA/99.9 checkout-availability.3/checkout-availability//99"
			if strings.Join(got, " ") != want {
				t.Errorf("got %v\nwant %s", got, want)
			}
		}},
		{"labels, annotations and a target history", r("metadata: {name: checkout-availability}", `metadata:
  name: checkout-availability
  labels: {team: [payments, web], tier: "1"}
  annotations:
    example.com/runbook: https://runbooks/checkout
    sitemetrics.io/latency-fields: p95_ms
    sitemetrics/target-history: '[{"from":"1970-01-01T00:00:00Z","target":0.99},{"from":"2026-02-01T10:00:00.5Z","target":0.999}]'`).Replace(ratio), func(t *testing.T, p Plan) {
			x := p.SLOs[0]
			if x.Labels != `{"team":["payments","web"],"tier":"1"}` || x.Annotations != `{"example.com/runbook":"https://runbooks/checkout"}` || x.Input.LatencyFields != "p95_ms" ||
				len(x.History) != 2 || x.History[1].Target != 0.999 || !x.History[1].From.Equal(time.Date(2026, 2, 1, 10, 0, 0, 5e8, time.UTC)) {
				t.Errorf("%+v", x)
			}
		}},
		{"a byte-order mark", "\ufeff" + ratio, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(strings.NewReader(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestShiftDecimal(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{{"0.999", 2, "99.9"}, {"0.9995", 2, "99.95"}, {"0.99", 2, "99"}, {"1", 2, "100"}, {"99.5", -2, "0.995"}, {"5", -2, "0.05"}, {"0.00001", 2, "0.001"}}
	for _, tc := range tests {
		if got := shiftDecimal(tc.in, tc.n); got != tc.want {
			t.Errorf("shiftDecimal(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
