package main

// A real Prometheus for the peer-parity test: the generated events written as OpenMetrics
// counters, backfilled with promtool, served by a Prometheus the test starts and stops, and
// queried with the PromQL that Sloth and Pyrra generate for a 30-day ratio SLO.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// The counters: cumulative events per series, labelled service="…". Sloth's and Pyrra's
// ratio SLIs read errors and total; good is there for the SLI as good / total.
const (
	promErrors = "parity_errors_total"
	promTotal  = "parity_requests_total"
	promGood   = "parity_good_total"
)

// writeOpenMetrics writes every series' counters, one sample per minute from the data's start
// (0) to its end (the 30 days' totals), so each bucket's counter reaches its cumulative value
// at the bucket's end and rate() over 5 minutes has six samples.
func writeOpenMetrics(w io.Writer, d parityData) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	families := []struct {
		name  string
		value func(s *paritySeries, m int) int64
	}{
		{promErrors, func(s *paritySeries, m int) int64 { return s.cumBad[m] }},
		{promTotal, func(s *paritySeries, m int) int64 { return s.cumTotal[m] }},
		{promGood, func(s *paritySeries, m int) int64 { return s.cumTotal[m] - s.cumBad[m] }},
	}
	var line []byte
	for _, f := range families {
		fmt.Fprintf(bw, "# TYPE %s counter\n", strings.TrimSuffix(f.name, "_total"))
		for _, s := range d.series {
			prefix := fmt.Sprintf("%s{service=%q} ", f.name, s.name)
			for m := range s.cumTotal {
				line = append(line[:0], prefix...)
				line = strconv.AppendInt(line, f.value(s, m), 10)
				line = append(line, ' ')
				line = strconv.AppendInt(line, d.start.Add(time.Duration(m)*paritySample).Unix(), 10)
				line = append(line, '\n')
				bw.Write(line)
			}
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// promServer is one Prometheus process serving the backfilled blocks.
type promServer struct {
	url     string
	major   int // 2: closed range selectors; 3 and later: left-open
	version string
	client  *http.Client
	log     *syncBuffer
}

var promVersionRE = regexp.MustCompile(`version (\d+)\.(\d+)\.\S*`)

// startPrometheus backfills d into a fresh storage directory and starts Prometheus on it,
// on 127.0.0.1 and a free port. It is stopped (by its pid) when the test ends.
func startPrometheus(t *testing.T, bin string, d parityData) *promServer {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	m := promVersionRE.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	p := &promServer{version: m[0], client: &http.Client{Timeout: 60 * time.Second}, log: &syncBuffer{}}
	p.major, _ = strconv.Atoi(m[1])

	// Backfill. promtool cuts blocks of --max-block-duration (2h by default) and reads the
	// whole input once per block: 361 passes over 30 days, two minutes on two cores. One
	// block per 31 days (aligned, so at most two here) takes seconds.
	om := filepath.Join(dir, "parity.om")
	f, err := os.Create(om)
	must(t, err)
	must(t, writeOpenMetrics(f, d))
	must(t, f.Close())
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	promtool := filepath.Join(filepath.Dir(bin), "promtool")
	if out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics",
		"--max-block-duration=744h", "--quiet", om, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	must(t, os.Remove(om))
	cfg := filepath.Join(dir, "prometheus.yml")
	must(t, os.WriteFile(cfg, []byte("global:\n  evaluation_interval: 1m\n"), 0o644))

	addr := dbtest.FreeAddr(t)
	p.url = "http://" + addr
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		// Blocks reach back 30 days: the default 15 days would delete half of them at start.
		"--storage.tsdb.retention.time=400d",
		"--web.listen-address="+addr,
		// Every query here reads ranges, which ignore the lookback. The one instant read of raw
		// counters (a sanity check) may then borrow no sample older than one spacing.
		"--query.lookback-delta=1m",
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = p.log, p.log
	must(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := p.client.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30 s: %v\n%s", err, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type promAnswer struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func (p *promServer) get(t *testing.T, path string, q url.Values) promAnswer {
	t.Helper()
	resp, err := p.client.PostForm(p.url+path, q)
	if err != nil {
		t.Fatalf("prometheus %s: %v", path, err)
	}
	defer resp.Body.Close()
	var a promAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Status != "success" {
		t.Fatalf("prometheus %s %s: %d %v %s", path, q.Get("query"), resp.StatusCode, err, a.Error)
	}
	return a
}

func promFloat(t *testing.T, v any) float64 {
	s, _ := v.(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("prometheus value %v: %v", v, err)
	}
	return f
}

// query evaluates expr at at; the result is per service label.
func (p *promServer) query(t *testing.T, expr string, at time.Time) map[string]float64 {
	t.Helper()
	a := p.get(t, "/api/v1/query", url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}})
	out := map[string]float64{}
	for _, r := range a.Data.Result {
		out[r.Metric["service"]] = promFloat(t, r.Value[1])
	}
	return out
}

// queryRange evaluates expr at every step from start to end; the result is per service,
// per evaluation time. A series absent at a step (an alert not firing) has no entry.
func (p *promServer) queryRange(t *testing.T, expr string, start, end time.Time, step time.Duration) map[string]map[int64]float64 {
	t.Helper()
	a := p.get(t, "/api/v1/query_range", url.Values{"query": {expr}, "start": {strconv.FormatInt(start.Unix(), 10)},
		"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}})
	out := map[string]map[int64]float64{}
	for _, r := range a.Data.Result {
		vals := map[int64]float64{}
		for _, v := range r.Values {
			ts, _ := v[0].(float64)
			vals[int64(ts)] = promFloat(t, v[1])
		}
		out[r.Metric["service"]] = vals
	}
	return out
}

// promDuration writes d as Prometheus writes durations and Sloth and Pyrra name their
// rules ("5m", "1h4m", "1d", "4d6h51m").
func promDuration(d time.Duration) string {
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}

// errorBudgetPromQL is 1 − target written as Sloth and Pyrra write it into their rules.
func errorBudgetPromQL() string {
	return "(1 - " + strconv.FormatFloat(parityTarget, 'f', -1, 64) + ")"
}

// --- Sloth (slok/sloth @0e395d8) ---
//
// Sloth evaluates one SLO per service with errorQuery sum(rate(parity_errors_total{service="S"}[{{.window}}]))
// and totalQuery sum(rate(parity_requests_total{service="S"}[{{.window}}])). The queries below
// write the same with "by (service)", which evaluates every service's SLO in one query; each
// service's value is the one its own SLO would record.

// slothErrorRatio is slo:sli_error:ratio_rate<window>, the events SLI recording rule
// (internal/plugin/slo/core/sli_rules_v1, eventsSLIRecordGenerator: "(errorQuery)\n/\n(totalQuery)").
func slothErrorRatio(window time.Duration) string {
	w := promDuration(window)
	return fmt.Sprintf("(sum by (service) (rate(%s[%s])))\n/\n(sum by (service) (rate(%s[%s])))", promErrors, w, promTotal, w)
}

// slothPeriodErrorRatio is slo:sli_error:ratio_rate30d as Sloth's default, optimized
// generator writes it (sli_rules_v1, optimizedSLIRecordGenerator):
// sum_over_time(slo:sli_error:ratio_rate5m[30d]) / ignoring (sloth_window) count_over_time(…[30d]),
// the unweighted mean of the recorded 5-minute ratios. With no rules evaluated here, a [30d:1m]
// subquery evaluates the 5-minute ratio at the 1-minute steps at which a rule group with
// evaluation_interval 1m (Prometheus's default) would have recorded it.
func slothPeriodErrorRatio() string {
	r5 := slothErrorRatio(5 * time.Minute)
	return fmt.Sprintf("sum_over_time((%s)[30d:1m])\n/\ncount_over_time((%s)[30d:1m])", r5, r5)
}

// slothPeriodBudgetRemaining is slo:period_error_budget_remaining:ratio = 1 − slo:period_burn_rate:ratio,
// where the period burn rate is slo:sli_error:ratio_rate30d / slo:error_budget:ratio
// (internal/plugin/slo/core/metadata_rules_v1).
func slothPeriodBudgetRemaining() string {
	return fmt.Sprintf("1 - ((%s) / %s)", slothPeriodErrorRatio(), errorBudgetPromQL())
}

// slothTierAlert is one half of Sloth's multiwindow alert (alert_rules_v1, mwmbAlertTpl):
// the short and the long window's ratio both above factor × error budget. Sloth wraps each
// side in max(…) without (sloth_window) to drop its window label; these inline ratios have none.
// Sloth takes the objective in percent and prints ErrorBudgetRatio as (100 − objective)/100: 0.005.
func slothTierAlert(t parityTier) string {
	objective, _ := strconv.ParseFloat(parityTargetPercent, 64)
	budget := strconv.FormatFloat((100-objective)/100, 'f', -1, 64)
	th := fmt.Sprintf("(%s * %s)", strconv.FormatFloat(t.factor, 'f', -1, 64), budget)
	return fmt.Sprintf("((%s) > %s)\nand\n((%s) > %s)", slothErrorRatio(t.short), th, slothErrorRatio(t.long), th)
}

// --- Pyrra (pyrra-dev/pyrra @1ba95af) ---

// pyrraBurnrate is the recording rule <metric>:burnrate<window> of a ratio objective
// (slo/rules.go, Objective.Burnrate): sum by (grouping) (rate(errors[w])) / sum by (grouping) (rate(total[w])),
// grouped here by service. Despite its name it is an error ratio; the alert divides by nothing
// and compares it with factor × (1 − target).
func pyrraBurnrate(window time.Duration) string {
	w := promDuration(window)
	return fmt.Sprintf("sum by (service) (rate(%s[%s])) / sum by (service) (rate(%s[%s]))", promErrors, w, promTotal, w)
}

// pyrraIncrease is <metric>:increase30d (slo/rules.go, increaseRulesRatio without
// PerformanceOverAccuracy): sum by (grouping) (increase(metric[window])).
func pyrraIncrease(metric string) string {
	return fmt.Sprintf("sum by (service) (increase(%s[30d]))", metric)
}

// pyrraErrorBudget is QueryErrorBudget for a ratio objective (slo/promql.go):
// ((1 − target) − (errors:increase30d / total:increase30d)) / (1 − target), the recorded
// increases written inline. Pyrra's "or vector(0)" for an absent errors series is left out:
// every series here has an errors counter, and by (service) would add a series without the label.
func pyrraErrorBudget() string {
	return fmt.Sprintf("(%s - (%s / %s)) / %s", errorBudgetPromQL(), pyrraIncrease(promErrors), pyrraIncrease(promTotal), errorBudgetPromQL())
}

// pyrraAvailability is the SLI Pyrra's UI shows: (total − errors) / total over the window
// (QueryTotal and QueryErrors on the increase30d recordings).
func pyrraAvailability() string {
	return fmt.Sprintf("(%s - %s) / %s", pyrraIncrease(promTotal), pyrraIncrease(promErrors), pyrraIncrease(promTotal))
}

// pyrraTier is one of Pyrra's own multi-burn-rate alerts for an SLO window (slo/rules.go,
// Windows): windows scaled from a 28-day base and rounded to the minute, factors 14, 7, 2, 1.
// For 30 days: 1h4m/5m ×14 and 6h26m/32m ×7 (critical), 25h43m/2h9m ×2 and 102h51m/6h26m ×1 (warning).
func pyrraTiers(window time.Duration) []parityTier {
	r := func(d time.Duration) time.Duration { return d.Round(time.Minute) }
	return []parityTier{
		{"pyrra critical 14×", true, 14, r(window / (28 * 24)), r(window / (28 * 24 * 12))},
		{"pyrra critical 7×", true, 7, r(window / (28 * 4)), r(window / (28 * 24 * 2))},
		{"pyrra warning 2×", false, 2, r(window / 28), r(window / (28 * 12))},
		{"pyrra warning 1×", false, 1, r(window / 7), r(window / (28 * 4))},
	}
}

// pyrraTierAlert is Pyrra's alert expression for a tier (slo/rules.go, Burnrates):
// "%s > (%.f * (1-%s)) and %s > (%.f * (1-%s))" with the short window first and the factor
// printed without decimals. Its `for:` (2m to 3h) is not modelled: this is the condition.
func pyrraTierAlert(t parityTier, target float64) string {
	tg := strconv.FormatFloat(target, 'f', -1, 64)
	return fmt.Sprintf("(%s) > (%.f * (1-%s)) and (%s) > (%.f * (1-%s))",
		pyrraBurnrate(t.short), t.factor, tg, pyrraBurnrate(t.long), t.factor, tg)
}
