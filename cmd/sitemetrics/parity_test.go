package main

// TestPeerParity sets our numbers beside a real Prometheus evaluating the PromQL that Sloth
// and Pyrra generate, on the same 30 days of data (issue 11).
//
// Three parties, one data set (parity_data_test.go):
//   - the reference: SPEC §5 written out in this package from the buckets, sharing no code
//     with models. The app must equal it exactly (to float rounding), through its webhook
//     and API, for rows stamped at the bucket's start and at its end.
//   - Prometheus, with the buckets backfilled as counters and queried with Sloth's and Pyrra's
//     expressions (parity_prometheus_test.go).
//   - the app, fed through POST /hooks/splunk/{token} and read back from /api/v1/slos.
//
// Where a peer differs from us by design, the difference is named and bounded. Each bound is
// what the peer's expression can give on these counters, computed from the generated events
// and the documented semantics, never from what Prometheus answered:
//   - Extrapolation at window edges. Counters are sampled every minute and every evaluation
//     time is a multiple of 5 minutes, so on Prometheus 2.x (closed ranges [t−L, t]) rate()
//     and increase() extrapolate nothing and the bound is zero: their burn rates, Pyrra's
//     SLI and budget must equal ours. Prometheus 3.x (left-open ranges) drops the window's
//     first minute and scales up; the bound is then derived in promRatio.
//   - Sloth's 30-day SLI is the unweighted mean of its 5-minute ratios (1-minute steps): a
//     quiet night's 5 minutes weigh as much as a busy afternoon's. The bound is the mean
//     computed from the buckets (slothPeriodRatio), and so is Sloth's budget remaining.
//   - Pyrra's own tiers scale the 28-day windows to 30 days (1h4m, 6h26m, 25h43m, 102h51m
//     long; 5m, 32m, 2h9m, 6h26m short) with factors 14, 7, 2, 1: their rates are bounded
//     by the same events over those windows, and their firing is counted, not compared.
//   - Our windows hold whole buckets and end at the end of the newest bucket: at these
//     evaluation times that is Prometheus's window too, so it adds nothing to the bounds.
//
// The app answers for the wall clock, so the reference is evaluated at each answer's
// evaluated_at. A stale feed moves the windows' end to now; SPEC's "no sample for more than
// 2× the interval" can be counted from the newest bucket's end or from its label, which for
// rows stamped at the bucket's start differ by an interval. The test accepts either reading
// of the app's own `stale` flag, holds the numbers to it, and compares a stale SLO with the
// reference only (its windows no longer end where Prometheus was asked). A run that reads the
// API within 5 minutes of the data's end sees no stale feed under either reading.

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// paritySeriesSpan is how far back the test evaluates every 5 minutes: across the incidents.
const paritySeriesSpan = 6 * time.Hour

func TestPeerParity(t *testing.T) {
	bin := os.Getenv("SITEMETRICS_TEST_PROMETHEUS")
	dbtest.Require(t, "prometheus", isExecutable(bin) && isExecutable(filepath.Join(filepath.Dir(bin), "promtool")),
		"SITEMETRICS_TEST_PROMETHEUS must name a prometheus binary with promtool beside it (Debian's prometheus package)")
	began := time.Now()

	// The data ends at now truncated to 5 minutes; rows stamped at that instant (the newest
	// bucket's end) must not be in the future when they are posted.
	end := time.Now().UTC().Truncate(parityInterval)
	for !time.Now().After(end) {
		time.Sleep(time.Millisecond)
	}
	d := generateParity(end)
	checkParityShapes(t, d)

	p := startPrometheus(t, bin, d)
	peers := askPeers(t, p, d)
	t.Logf("Prometheus %s (%s ranges), data %s → %s, %d series; generated, backfilled and queried in %.1f s",
		p.version, map[bool]string{false: "closed", true: "left-open"}[peers.leftOpen],
		d.start.Format(time.RFC3339), d.end.Format(time.RFC3339), len(d.series), time.Since(began).Seconds())
	counts := checkPeers(t, d, peers)

	// The dialects side by side: PostgreSQL's time goes mostly to deriving the history of the
	// SLOs created after their data, in the database server.
	var mu sync.Mutex
	t.Run("app", func(t *testing.T) {
		for _, dialect := range dbtest.Dialects() {
			t.Run(dialect, func(t *testing.T) {
				t.Parallel()
				slos := runParityApp(t, dialect, d)
				n := compareApp(t, d, peers, slos)
				mu.Lock()
				defer mu.Unlock()
				counts.app[dialect] = n
			})
		}
	})
	counts.log(t)
	t.Logf("peer parity took %.1f s", time.Since(began).Seconds())
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return path != "" && err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// checkParityShapes holds the data set to what parityShapes promises, in the reference's own
// terms, so that a change to the generator cannot quietly make the comparisons trivial.
func checkParityShapes(t *testing.T, d parityData) {
	t.Helper()
	byName := map[string]*paritySeries{}
	for _, s := range d.series {
		byName[s.name] = s
	}
	at := func(name string, now time.Time) refEval {
		return byName[name].labelled(d, false, now).evaluate(now, false)
	}
	firing := func(e refEval) (out []string) {
		for _, tier := range e.tiers {
			if tier.firing {
				out = append(out, tier.name)
			}
		}
		return out
	}
	want := map[string][]string{
		"checkout": {"page 14.4×"},
		"search":   nil,
		"payments": {"ticket 3×", "ticket 1×"},
		"static":   nil,
	}
	for name, w := range want {
		e := at(name, d.end)
		if got := firing(e); !slices.Equal(got, w) {
			t.Errorf("data set: %s fires %v at the end, want %v", name, got, w)
		}
		// No rate within 2 % of its factor at the end: float rounding cannot decide a tier.
		for _, tier := range e.tiers {
			for _, r := range []float64{tier.longRate, tier.shortRate} {
				if math.Abs(r-tier.factor) < 0.02*tier.factor {
					t.Errorf("data set: %s %s has a rate of %.4f, too close to its factor", name, tier.name, r)
				}
			}
		}
		if e.remaining <= 0 || e.remaining >= 1 {
			t.Errorf("data set: %s has %.3f of its budget left, want some spent and none overspent", name, e.remaining)
		}
	}
	// Across the last 6 hours: the medium incident pages at 6×, never at 14.4×; the quiet
	// series never fires.
	search6, search14, static := 0, 0, 0
	for at2 := d.end.Add(-paritySeriesSpan); !at2.After(d.end); at2 = at2.Add(parityInterval) {
		e := at("search", at2)
		search6 += int(b2i(e.tiers[1].firing))
		search14 += int(b2i(e.tiers[0].firing))
		static += len(firing(at("static", at2)))
	}
	if search6 == 0 || search14 != 0 || static != 0 {
		t.Errorf("data set: search pages at 6× %d times and at 14.4× %d times, static fires %d times in the last 6 hours; want >0, 0, 0",
			search6, search14, static)
	}
}

// parityPeers is everything Sloth's and Pyrra's expressions say about the data set.
type parityPeers struct {
	leftOpen bool
	steps    []time.Time
	// slothRatio[window][service][unix] is slo:sli_error:ratio_rate<window> every 5 minutes
	// over the last 6 hours.
	slothRatio map[time.Duration]map[string]map[int64]float64
	// slothAlert[i] and pyrraAlert[i] hold the steps at which tier i's condition held:
	// Sloth on our tiers, Pyrra on its own (pyrraTiers).
	slothAlert, pyrraAlert [4]map[string]map[int64]float64
	// At the data's end.
	slothPeriodRatio, slothBudget             map[string]float64
	pyrraBudget, pyrraAvailability, goodRatio map[string]float64
	pyrraRatio                                map[time.Duration]map[string]float64 // our windows and Pyrra's
	counters                                  map[string]float64
}

func parityWindows(tiers []parityTier) []time.Duration {
	var ws []time.Duration
	for _, t := range tiers {
		ws = append(ws, t.long, t.short)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

func askPeers(t *testing.T, p *promServer, d parityData) parityPeers {
	t.Helper()
	pp := parityPeers{leftOpen: p.major >= 3, slothRatio: map[time.Duration]map[string]map[int64]float64{},
		pyrraRatio: map[time.Duration]map[string]float64{}}
	from := d.end.Add(-paritySeriesSpan)
	for at := from; !at.After(d.end); at = at.Add(parityInterval) {
		pp.steps = append(pp.steps, at)
	}
	for _, w := range parityWindows(parityTiers()) {
		pp.slothRatio[w] = p.queryRange(t, slothErrorRatio(w), from, d.end, parityInterval)
	}
	own := pyrraTiers(paritySLOWindow)
	for i, tier := range parityTiers() {
		pp.slothAlert[i] = p.queryRange(t, slothTierAlert(tier), from, d.end, parityInterval)
		pp.pyrraAlert[i] = p.queryRange(t, pyrraTierAlert(own[i], parityTarget), from, d.end, parityInterval)
	}
	for _, w := range parityWindows(append(parityTiers(), own...)) {
		pp.pyrraRatio[w] = p.query(t, pyrraBurnrate(w), d.end)
	}
	pp.slothPeriodRatio = p.query(t, slothPeriodErrorRatio(), d.end)
	pp.slothBudget = p.query(t, slothPeriodBudgetRemaining(), d.end)
	pp.pyrraBudget = p.query(t, pyrraErrorBudget(), d.end)
	pp.pyrraAvailability = p.query(t, pyrraAvailability(), d.end)
	pp.goodRatio = p.query(t, fmt.Sprintf("sum by (service) (increase(%s[30d])) / %s", promGood, pyrraIncrease(promTotal)), d.end)
	pp.counters = p.query(t, fmt.Sprintf("sum by (service) (%s)", promTotal), d.end)
	return pp
}

// tolerance: float rounding only.
func closeTo(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))+1e-12
}

func within(v, lo, hi float64) bool {
	return (v >= lo || closeTo(v, lo)) && (v <= hi || closeTo(v, hi))
}

// relDiff is (b − a) / a in percent, for messages and the log.
func relDiff(a, b float64) float64 {
	if a == 0 {
		if b == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return 100 * (b - a) / math.Abs(a)
}

// bound is how far a peer's value may be from ref when the peer can give anything in
// [lo, hi] on this data.
func bound(ref, lo, hi float64) float64 {
	return math.Max(math.Abs(ref-lo), math.Abs(ref-hi))
}

// decided reports whether rate (ours) and anything in [lo, hi] (the peer's) lie on the same
// side of factor, so their firing states must agree.
func decided(rate, lo, hi, factor float64) bool {
	above := rate > factor
	return !closeTo(rate, factor) && !closeTo(lo, factor) && !closeTo(hi, factor) &&
		(lo > factor) == above && (hi > factor) == above
}

type parityCounts struct {
	steps                      int
	refNow, slothNow, pyrraNow int // page tiers firing at the data's end, over all series
	ref, sloth, pyrra          int // page tiers firing, summed over the steps of the last 6 hours
	app                        map[string][2]int
}

func (c parityCounts) log(t *testing.T) {
	t.Logf("page tiers firing at the data's end (4 series): reference %d, Sloth %d, Pyrra (own tiers) %d", c.refNow, c.slothNow, c.pyrraNow)
	for _, dialect := range slices.Sorted(maps.Keys(c.app)) {
		n := c.app[dialect]
		t.Logf("page tiers firing in the app (%s) now: rows stamped at the bucket's start %d, at its end %d", dialect, n[0], n[1])
	}
	t.Logf("page tiers firing over %d evaluations (every 5 min for 6 h) × 4 series: reference %d, Sloth %d, Pyrra (own tiers, no `for:`) %d",
		c.steps, c.ref, c.sloth, c.pyrra)
}

// checkPeers compares the peers with the reference over the last 6 hours and at the end, and
// counts page tiers firing.
func checkPeers(t *testing.T, d parityData, pp parityPeers) parityCounts {
	c := parityCounts{steps: len(pp.steps), app: map[string][2]int{}}
	budget := 1 - parityTarget
	own := pyrraTiers(paritySLOWindow)
	for _, s := range d.series {
		if got, want := pp.counters[s.name], float64(s.cumTotal[len(s.cumTotal)-1]); got != want {
			t.Errorf("%s: the backfilled counter reads %v at the end, want %v", s.name, got, want)
		}
		failures := 0
		for _, at := range pp.steps {
			ref := s.labelled(d, false, at).evaluate(at, false)
			for i, tier := range ref.tiers {
				// Burn rates: Sloth's ratio / error budget, against ours over the same window.
				for _, w := range []struct {
					length time.Duration
					rate   float64
				}{{tier.long, tier.longRate}, {tier.short, tier.shortRate}} {
					lo, hi, ok := d.promRatio(s, at, w.length, pp.leftOpen)
					got, has := pp.slothRatio[w.length][s.name][at.Unix()]
					if !ok || !has {
						t.Errorf("%s at %s: no Sloth ratio over %s", s.name, at.Format("15:04"), w.length)
						continue
					}
					lo, hi, got = lo/budget, hi/budget, got/budget
					if !within(got, lo, hi) || math.Abs(got-w.rate) > bound(w.rate, lo, hi)+1e-9*w.rate {
						if failures++; failures <= 5 {
							t.Errorf("%s at %s, %s over %s: Sloth's burn rate %.6g, reference %.6g (%+.3g %%), bound %.3g (Sloth's expression gives [%.6g, %.6g] on this data)",
								s.name, at.Format("15:04"), tier.name, w.length, got, w.rate, relDiff(w.rate, got), bound(w.rate, lo, hi), lo, hi)
						}
					}
				}
				// Firing: ours against Sloth's alert condition, where the bound cannot blur it.
				_, slothFires := pp.slothAlert[i][s.name][at.Unix()]
				llo, lhi, _ := d.promRatio(s, at, tier.long, pp.leftOpen)
				slo, shi, _ := d.promRatio(s, at, tier.short, pp.leftOpen)
				if decided(tier.longRate, llo/budget, lhi/budget, tier.factor) && decided(tier.shortRate, slo/budget, shi/budget, tier.factor) &&
					slothFires != tier.firing {
					t.Errorf("%s at %s, %s: Sloth fires %v, the reference %v", s.name, at.Format("15:04"), tier.name, slothFires, tier.firing)
				}
				if tier.page {
					c.ref += int(b2i(tier.firing))
					c.sloth += int(b2i(slothFires))
					if at.Equal(d.end) {
						c.refNow += int(b2i(tier.firing))
						c.slothNow += int(b2i(slothFires))
					}
				}
				// Pyrra's own tier: its condition must be what its windows give on these
				// events; it is counted, not compared with ours (other windows and factors).
				_, pyrraFires := pp.pyrraAlert[i][s.name][at.Unix()]
				plo, phi, _ := d.promRatio(s, at, own[i].long, pp.leftOpen)
				qlo, qhi, _ := d.promRatio(s, at, own[i].short, pp.leftOpen)
				if decided(plo/budget, plo/budget, phi/budget, own[i].factor) && decided(qlo/budget, qlo/budget, qhi/budget, own[i].factor) &&
					pyrraFires != (plo/budget > own[i].factor && qlo/budget > own[i].factor) {
					t.Errorf("%s at %s, %s: Pyrra fires %v, its windows give long %.6g, short %.6g", s.name, at.Format("15:04"),
						own[i].name, pyrraFires, plo/budget, qlo/budget)
				}
				if own[i].page {
					c.pyrra += int(b2i(pyrraFires))
					if at.Equal(d.end) {
						c.pyrraNow += int(b2i(pyrraFires))
					}
				}
			}
		}
		if failures > 5 {
			t.Errorf("%s: %d more burn-rate differences over the last 6 hours", s.name, failures-5)
		}

		// Pyrra's burn-rate recordings at the end, over our windows and its own.
		for w, bySeries := range pp.pyrraRatio {
			lo, hi, _ := d.promRatio(s, d.end, w, pp.leftOpen)
			if got := bySeries[s.name]; !within(got, lo, hi) {
				t.Errorf("%s: Pyrra's %s ratio over %s is %.6g, outside [%.6g, %.6g] that its expression gives on this data",
					s.name, "burnrate", w, got, lo, hi)
			}
		}
		// The 30-day figures at the end.
		lo, hi, _ := d.promRatio(s, d.end, paritySLOWindow, pp.leftOpen)
		for _, x := range []struct {
			what   string
			got    float64
			lo, hi float64
		}{
			{"Pyrra's availability (1 − errors/total over increase30d)", pp.pyrraAvailability[s.name], 1 - hi, 1 - lo},
			{"good/total over increase30d", pp.goodRatio[s.name], 1 - hi, 1 - lo},
			{"Pyrra's error budget (QueryErrorBudget)", pp.pyrraBudget[s.name], 1 - hi/budget, 1 - lo/budget},
		} {
			if !within(x.got, x.lo, x.hi) {
				t.Errorf("%s: %s is %.9g, outside [%.9g, %.9g] that the expression gives on this data", s.name, x.what, x.got, x.lo, x.hi)
			}
		}
		ulo, uhi := d.slothPeriodRatio(s, d.end, pp.leftOpen)
		if got := pp.slothPeriodRatio[s.name]; !within(got, ulo, uhi) {
			t.Errorf("%s: Sloth's slo:sli_error:ratio_rate30d is %.9g, outside [%.9g, %.9g], the unweighted mean of its 5-minute ratios on this data",
				s.name, got, ulo, uhi)
		}
		if got := pp.slothBudget[s.name]; !within(got, 1-uhi/budget, 1-ulo/budget) {
			t.Errorf("%s: Sloth's slo:period_error_budget_remaining:ratio is %.9g, outside [%.9g, %.9g]", s.name, got, 1-uhi/budget, 1-ulo/budget)
		}
	}
	return c
}

// --- The app ---

// paritySLO is an SLO as GET /api/v1/slos answers, with what the test knows about it.
type paritySLO struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Rederiving json.RawMessage `json:"rederiving"`
	Status     struct {
		Status          string     `json:"status"`
		Stale           bool       `json:"stale"`
		Good            float64    `json:"good"`
		Total           float64    `json:"total"`
		Bad             float64    `json:"bad"`
		SLI             *float64   `json:"sli"`
		BudgetRemaining *float64   `json:"budget_remaining"`
		LastDataAt      *time.Time `json:"last_data_at"`
		EvaluatedAt     time.Time  `json:"evaluated_at"`
		Tiers           []struct {
			Name      string  `json:"name"`
			Severity  string  `json:"severity"`
			Factor    float64 `json:"factor"`
			Long      string  `json:"long_window"`
			Short     string  `json:"short_window"`
			LongRate  float64 `json:"long_rate"`
			ShortRate float64 `json:"short_rate"`
			Firing    bool    `json:"firing"`
		} `json:"burn_rate_tiers"`
	} `json:"status"`
	series     *paritySeries
	stampAtEnd bool
}

func parityConvention(atEnd bool) string {
	if atEnd {
		return "end"
	}
	return "start"
}

// runParityApp starts the app on a fresh database of the dialect, feeds it the data set
// through the webhook twice (rows stamped at the bucket's start, and at its end: two feeds,
// an SLO per series on each), and returns what the API answers once every SLO has its data.
func runParityApp(t *testing.T, dialect string, d parityData) []*paritySLO {
	began := time.Now()
	env := testEnv(t, dialect)
	hooks := map[bool]string{
		false: newFeed(t, env, "--name", "parity-start", "--series-field", "service", "--interval", "5m"),
		true:  newFeed(t, env, "--name", "parity-end", "--series-field", "service", "--interval", "5m"),
	}
	sre := newAPIToken(t, env, "sre")
	a := startApp(t, env)
	for _, s := range d.series {
		r := apiSend(t, a, "POST", sre, "/api/v1/services", map[string]string{"name": s.name, "team": "parity"})
		mustf(t, r.Status == 201, "service %s: %d %s", s.name, r.Status, r.Body)
	}
	var slos []*paritySLO
	createSLOs := func(atEnd bool, series ...*paritySeries) {
		for _, s := range series {
			slo := &paritySLO{series: s, stampAtEnd: atEnd}
			var created struct {
				SLO struct {
					ID int64 `json:"id"`
				} `json:"slo"`
			}
			r := apiSend(t, a, "POST", sre, "/api/v1/slos", map[string]any{"service": s.name, "name": s.name + "-" + parityConvention(atEnd),
				"indicator": "ratio", "target": parityTargetPercent, "window": "30d", "feed": "parity-" + parityConvention(atEnd),
				"series": s.name, "good_field": "good", "total_field": "total"})
			r.json(t, &created)
			mustf(t, r.Status == 201 && created.SLO.ID > 0, "create SLO: %d %s", r.Status, r.Body)
			slo.ID = created.SLO.ID
			slos = append(slos, slo)
		}
	}
	// Most SLOs exist before their data (points derived at ingest); one is created after it
	// (its history derived from the stored samples), the series with the most incidents.
	createSLOs(false, d.series...)
	createSLOs(true, d.series[1:]...)
	postParity(t, hooks[false], d, false)
	postParity(t, hooks[true], d, true)
	createSLOs(true, d.series[0])
	posted := time.Now()

	// Wait until every SLO has its history and its newest bucket (SPEC: derivation of 30 days
	// within 60 s, fresh within 5 s).
	byID := map[int64]*paritySLO{}
	for _, s := range slos {
		byID[s.ID] = s
	}
	newest := map[bool]time.Time{false: d.end.Add(-parityInterval), true: d.end}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var list struct {
			SLOs []json.RawMessage `json:"slos"`
		}
		apiGet(t, a, sre, "/api/v1/slos", &list)
		ready := len(list.SLOs) == len(slos)
		for _, raw := range list.SLOs {
			var got paritySLO
			must(t, json.Unmarshal(raw, &got))
			s := byID[got.ID]
			mustf(t, s != nil, "an SLO the test did not create: %s", raw)
			s.Name, s.Rederiving, s.Status = got.Name, got.Rederiving, got.Status
			ready = ready && (len(s.Rederiving) == 0 || string(s.Rederiving) == "null") &&
				s.Status.LastDataAt != nil && !s.Status.LastDataAt.Before(newest[s.stampAtEnd])
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: SLOs still without their newest data 60 s after the last delivery", dialect)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// One SLO's own page agrees with the list (SPEC §5 "One status, everywhere").
	var one paritySLO
	apiGet(t, a, sre, fmt.Sprintf("/api/v1/slos/%d", slos[0].ID), &one)
	if one.Status.Good != slos[0].Status.Good || one.Status.Total != slos[0].Status.Total || one.Status.Status != slos[0].Status.Status {
		t.Errorf("%s: GET /api/v1/slos/%d says %+v, the list %+v", dialect, slos[0].ID, one.Status, slos[0].Status)
	}
	t.Logf("%s: %d rows posted in %.1f s, all SLOs current %.1f s later", dialect, 2*len(d.series)*parityBuckets,
		posted.Sub(began).Seconds(), time.Since(posted).Seconds())
	if late := time.Since(d.end); late > parityInterval {
		t.Logf("%s: the API was read %s after the data's end, past the next bucket: start-stamped SLOs are stale if staleness counts from the newest row's label", dialect, late.Round(time.Second))
	}
	return slos
}

// postParity sends every bucket of every series to a feed as Splunk's batch webhook would:
// strings for numbers, rows in time order, 2,000 rows a delivery.
func postParity(t *testing.T, hook string, d parityData, stampAtEnd bool) {
	t.Helper()
	var rows []string
	flush := func() {
		if len(rows) == 0 {
			return
		}
		body := `{"search_name":"SLO - parity - 5m","results":[` + strings.Join(rows, ",") + "]}"
		r := do(t, "POST", hook, []byte(body), "Content-Type", "application/json")
		var got struct {
			Accepted int               `json:"accepted"`
			Rejected []json.RawMessage `json:"rejected"`
		}
		r.json(t, &got)
		mustf(t, r.Status == 200 && got.Accepted == len(rows) && len(got.Rejected) == 0, "delivery of %d rows: %d %s", len(rows), r.Status, r.Body)
		rows = rows[:0]
	}
	for k := range parityBuckets {
		at := d.start.Add(time.Duration(k) * parityInterval)
		if stampAtEnd {
			at = at.Add(parityInterval)
		}
		for _, s := range d.series {
			rows = append(rows, fmt.Sprintf(`{"_time":"%d","service":%q,"good":"%d","total":"%d"}`, at.Unix(), s.name, s.good[k], s.total[k]))
		}
		if len(rows) >= 2000 {
			flush()
		}
	}
	flush()
}

// compareApp holds every SLO's numbers to the reference at the moment the app evaluated
// them, exactly, and to the peers at the data's end within the named bounds. It returns how
// many page tiers fire in the app, for rows stamped at the bucket's start and at its end.
func compareApp(t *testing.T, d parityData, pp parityPeers, slos []*paritySLO) (pageFiring [2]int) {
	budget := 1 - parityTarget
	for _, s := range slos {
		for _, tier := range s.Status.Tiers {
			if tier.Firing && tier.Severity == "page" {
				pageFiring[b2i(s.stampAtEnd)]++
			}
		}
		st := s.Status
		now := st.EvaluatedAt
		name := s.Name
		// Staleness moves the windows' end to now. Read from the newest bucket's end, a run
		// that reads the API within 10 minutes of the data's end never sees it; read from the
		// newest row's label, a start-stamped feed is stale once the run crosses into the
		// next 5 minutes. Either reading is taken from the app, and the numbers must follow it.
		labels := s.series.labelled(d, s.stampAtEnd, now)
		staleEnd, staleLabel := labels.staleness(now)
		if st.Stale && !staleLabel || !st.Stale && staleEnd {
			t.Errorf("%s: stale %v %s after the newest bucket's end", name, st.Stale, now.Sub(labels.at[len(labels.at)-1].Add(parityInterval)).Round(time.Second))
		}
		ref := labels.evaluate(now, st.Stale)
		// Against the reference: exact.
		if st.Good != ref.total-ref.bad || st.Total != ref.total || st.Bad != ref.bad {
			t.Errorf("%s: good/total %v/%v over 30 days, reference %v/%v (%+.0f events, %+.0f bad)",
				name, st.Good, st.Total, ref.total-ref.bad, ref.total, st.Total-ref.total, st.Bad-ref.bad)
		}
		if st.SLI == nil || !closeTo(*st.SLI, ref.sli) {
			t.Errorf("%s: SLI %v, reference %.9f", name, fmtPtr(st.SLI), ref.sli)
		}
		if st.BudgetRemaining == nil || !closeTo(*st.BudgetRemaining, ref.remaining) {
			t.Errorf("%s: budget remaining %v, reference %.9f", name, fmtPtr(st.BudgetRemaining), ref.remaining)
		}
		if len(st.Tiers) != len(ref.tiers) {
			t.Errorf("%s: %d burn-rate tiers, want %d", name, len(st.Tiers), len(ref.tiers))
			continue
		}
		for i, rt := range ref.tiers {
			at := st.Tiers[i]
			long, _ := time.ParseDuration(at.Long)
			short, _ := time.ParseDuration(at.Short)
			if at.Factor != rt.factor || long != rt.long || short != rt.short {
				t.Errorf("%s: tier %d is %v× %s/%s, want %s", name, i, at.Factor, at.Long, at.Short, rt.name)
				continue
			}
			if !closeTo(at.LongRate, rt.longRate) || !closeTo(at.ShortRate, rt.shortRate) || at.Firing != rt.firing {
				t.Errorf("%s, %s: long %s %.6g, short %s %.6g, firing %v; reference %.6g (%+.3g %%), %.6g (%+.3g %%), %v",
					name, rt.name, at.Long, at.LongRate, at.Short, at.ShortRate, at.Firing,
					rt.longRate, relDiff(rt.longRate, at.LongRate), rt.shortRate, relDiff(rt.shortRate, at.ShortRate), rt.firing)
			}
		}
		// SPEC §5: a page tier firing makes the SLO at risk (or breached); quiet is healthy.
		if ref.pageTiersFiring > 0 && st.Status != "at risk" && st.Status != "breached" {
			t.Errorf("%s: status %q while a page tier fires (reference)", name, st.Status)
		}
		if s.series.name == "static" && st.Status != "healthy" && !(st.Stale && st.Status == "stale") {
			t.Errorf("%s: status %q for the quiet series", name, st.Status)
		}

		if st.Stale {
			t.Logf("%s: stale at %s, its windows end at now: not comparable with the peers at the data's end", name, now.Format(time.RFC3339))
			continue
		}
		// Against the peers at the data's end. Rates: Sloth's ratio_rate<w> and Pyrra's
		// burnrate<w> over our windows, divided by the error budget.
		var lines []string
		for i, rt := range ref.tiers {
			at := st.Tiers[i]
			for _, w := range []struct {
				what     string
				length   time.Duration
				app, ref float64
			}{{"long", rt.long, at.LongRate, rt.longRate}, {"short", rt.short, at.ShortRate, rt.shortRate}} {
				lo, hi, _ := d.promRatio(s.series, d.end, w.length, pp.leftOpen)
				lo, hi = lo/budget, hi/budget
				b := bound(w.ref, lo, hi)
				sloth := pp.slothRatio[w.length][s.series.name][d.end.Unix()] / budget
				pyrra := pp.pyrraRatio[w.length][s.series.name] / budget
				if tol := b + 1e-9*math.Abs(w.ref); math.Abs(w.app-sloth) > tol || math.Abs(w.app-pyrra) > tol {
					t.Errorf("%s, %s %s window (%s): ours %.6g, Sloth's slo:sli_error:ratio_rate%s %.6g (%+.3g %%), Pyrra's burnrate%s %.6g (%+.3g %%); bound %.3g %% (extrapolation at the window's edges)",
						name, rt.name, w.what, promDuration(w.length), w.app, promDuration(w.length), sloth, relDiff(sloth, w.app),
						promDuration(w.length), pyrra, relDiff(pyrra, w.app), 100*b/math.Max(math.Abs(w.ref), 1e-300))
				}
			}
			// Firing: Sloth's alert condition and Pyrra's (on our windows and factors).
			_, slothFires := pp.slothAlert[i][s.series.name][d.end.Unix()]
			pyrraFires := pp.pyrraRatio[rt.long][s.series.name] > rt.factor*budget && pp.pyrraRatio[rt.short][s.series.name] > rt.factor*budget
			if at.Firing != slothFires || at.Firing != pyrraFires {
				t.Errorf("%s, %s: firing here %v, Sloth %v, Pyrra's expression on our windows %v", name, rt.name, at.Firing, slothFires, pyrraFires)
			}
			ownTier := pyrraTiers(paritySLOWindow)[i]
			_, ownFires := pp.pyrraAlert[i][s.series.name][d.end.Unix()]
			lines = append(lines, fmt.Sprintf("  %-10s here %8.4f/%8.4f %-5v | reference %8.4f/%8.4f %-5v | Sloth %8.4f/%8.4f %-5v | Pyrra own %2.f× %s/%s %8.4f/%8.4f %v",
				rt.name, at.LongRate, at.ShortRate, at.Firing, rt.longRate, rt.shortRate, rt.firing,
				pp.slothRatio[rt.long][s.series.name][d.end.Unix()]/budget, pp.slothRatio[rt.short][s.series.name][d.end.Unix()]/budget, slothFires,
				ownTier.factor, promDuration(ownTier.long), promDuration(ownTier.short),
				pp.pyrraRatio[ownTier.long][s.series.name]/budget, pp.pyrraRatio[ownTier.short][s.series.name]/budget, ownFires))
		}

		// SLI and budget remaining. Pyrra: increase() over 30 days, bound from extrapolation
		// (zero on Prometheus 2.x). Sloth: the unweighted mean of 5-minute ratios, bound by
		// that mean computed from the buckets.
		lo, hi, _ := d.promRatio(s.series, d.end, paritySLOWindow, pp.leftOpen)
		ulo, uhi := d.slothPeriodRatio(s.series, d.end, pp.leftOpen)
		refRatio := ref.bad / ref.total
		sli, remaining := deref(st.SLI), deref(st.BudgetRemaining)
		for _, x := range []struct {
			what         string
			app, peer, b float64
			why          string
		}{
			{"SLI vs Pyrra availability", sli, pp.pyrraAvailability[s.series.name], bound(refRatio, lo, hi), "extrapolation at the window's edges"},
			{"budget vs Pyrra QueryErrorBudget", remaining, pp.pyrraBudget[s.series.name], bound(refRatio, lo, hi) / budget, "extrapolation at the window's edges"},
			{"SLI vs Sloth 1 − ratio_rate30d", sli, 1 - pp.slothPeriodRatio[s.series.name], bound(refRatio, ulo, uhi), "Sloth's unweighted mean of 5-minute ratios"},
			{"budget vs Sloth period_error_budget_remaining", remaining, pp.slothBudget[s.series.name], bound(refRatio, ulo, uhi) / budget, "Sloth's unweighted mean of 5-minute ratios"},
		} {
			if math.Abs(x.app-x.peer) > x.b+1e-9 {
				t.Errorf("%s: %s: ours %.9g, theirs %.9g, %.3g apart, bound %.3g (%s)", name, x.what, x.app, x.peer, math.Abs(x.app-x.peer), x.b, x.why)
			}
		}
		t.Logf("%s (%s, evaluated %s after the data's end): SLI %.6f (Pyrra %.6f, Sloth %.6f: %+.2f %% of the error ratio), budget left %.4f (Pyrra %.4f, Sloth %.4f)\n  tier       here long/short firing | reference | Sloth | Pyrra's own tier\n%s",
			name, st.Status, now.Sub(d.end).Round(time.Second), sli, pp.pyrraAvailability[s.series.name], 1-pp.slothPeriodRatio[s.series.name],
			relDiff(refRatio, pp.slothPeriodRatio[s.series.name]), remaining, pp.pyrraBudget[s.series.name], pp.slothBudget[s.series.name],
			strings.Join(lines, "\n"))
	}
	return pageFiring
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%.9f", *p)
}
