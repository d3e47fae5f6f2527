package charts

import (
	"math"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the host's zoneinfo
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// wobble is deterministic noise in [-1, 1], so fixtures are stable without a
// random generator.
func wobble(i int) float64 {
	return 0.6*math.Sin(float64(i)*0.37) + 0.4*math.Sin(float64(i)*1.91+1)
}

// burnDownFixture is a 30-day event-based budget in Madrid (the period
// crosses the spring DST change): an early incident overspends the budget
// while traffic is still low, good traffic brings it back, a deploy on day 20
// starts a steady burn, and the projection says it runs out before the end.
func burnDownFixture(t testing.TB) BurnDownInput {
	loc := mustLoad(t, "Europe/Madrid")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, loc)
	now := time.Date(2026, 3, 24, 14, 0, 0, 0, loc)
	var pts []Point
	for t := start; !t.After(now); t = t.Add(time.Hour) {
		h := t.Sub(start).Hours()
		var v float64
		switch {
		case h < 50:
			v = 1 - 0.002*h
		case h < 56: // incident: overspent within hours
			v = 0.9 - (h-50)*0.22
		case h < 456: // recovering as good traffic dilutes the early errors
			v = -0.42 + (h-56)/400*0.95
		case h < 480: // deploy regression
			v = 0.53 - (h-456)*0.012
		default:
			v = 0.24 - (h-480)*0.0018
		}
		pts = append(pts, Point{T: t, V: math.Min(1, v+0.004*wobble(int(h)))})
	}
	// A feed outage: six hours without samples.
	for i := range pts {
		if h := pts[i].T.Sub(start).Hours(); h >= 300 && h < 306 {
			pts[i] = Point{T: pts[i].T, NoData: true}
		}
	}
	return BurnDownInput{
		ID:          "slo-7-burndown",
		Title:       "Checkout availability: error budget, March",
		Summary:     "Budget 9% left and falling: at the current burn rate it runs out on 26 March, before the month ends.",
		Location:    loc,
		Start:       start,
		End:         end,
		Now:         now,
		Points:      pts,
		Ideal:       true,
		Exhaustion:  time.Date(2026, 3, 26, 15, 0, 0, 0, loc),
		Maintenance: []Span{{Start: time.Date(2026, 3, 12, 1, 0, 0, 0, loc), End: time.Date(2026, 3, 12, 7, 0, 0, 0, loc), Label: "Database failover test"}},
		Annotations: []Annotation{
			{T: time.Date(2026, 3, 3, 2, 10, 0, 0, loc), Kind: "incident", Label: "INC-2291 payment gateway timeouts"},
			{T: time.Date(2026, 3, 20, 0, 30, 0, 0, loc), Kind: "deploy", Label: "checkout v2.14"},
		},
	}
}

// sliFixture is a week of 15-minute SLI values against 99.9%, with one dip.
func sliFixture(t testing.TB) SLIInput {
	loc := mustLoad(t, "America/New_York")
	start := time.Date(2026, 3, 5, 0, 0, 0, 0, loc)
	end := time.Date(2026, 3, 12, 0, 0, 0, 0, loc) // crosses the 8 March DST change
	var pts []Point
	for t, i := start, 0; t.Before(end); t, i = t.Add(15*time.Minute), i+1 {
		v := 0.99955 + 0.00015*math.Sin(float64(i)*0.05) + 0.00006*wobble(i)
		if i >= 400 && i < 412 {
			v = 0.9978 + 0.0001*float64(i-400)
		}
		pts = append(pts, Point{T: t, V: math.Min(v, 1)})
	}
	return SLIInput{
		ID:          "slo-7-sli",
		Title:       "Checkout availability: SLI, last 7 days",
		Summary:     "SLI 99.95% over 7 days against a 99.9% target; below target for 3 hours on 9 March.",
		Location:    loc,
		Start:       start,
		End:         end,
		Now:         end.Add(-time.Hour),
		Points:      pts,
		Target:      0.999,
		Annotations: []Annotation{{T: pts[398].T, Kind: "incident", Label: "INC-2304 cache eviction storm"}},
	}
}

// latencyFixture is two days of 5-minute percentiles in Madrid with an
// afternoon breach of the 300 ms p95 objective.
func latencyFixture(t testing.TB) LatencyInput {
	loc := mustLoad(t, "Europe/Madrid")
	start := time.Date(2026, 3, 9, 0, 0, 0, 0, loc)
	end := start.Add(48 * time.Hour)
	var p50, p95, p99 []Point
	for t, i := start, 0; t.Before(end); t, i = t.Add(5*time.Minute), i+1 {
		load := 1 + 0.5*math.Sin(float64(t.In(loc).Hour())/24*2*math.Pi-math.Pi/2)
		base := 80 * load
		if i >= 400 && i < 430 {
			base *= 2.4
		}
		p50 = append(p50, Point{T: t, V: base + 6*wobble(i)})
		p95 = append(p95, Point{T: t, V: base*2.3 + 15*wobble(i+7)})
		p99 = append(p99, Point{T: t, V: base*3.4 + 25*wobble(i+13)})
	}
	return LatencyInput{
		ID:          "slo-8-latency",
		Title:       "Checkout latency, last 48 hours",
		Summary:     "p95 above 300 ms for 2.5 hours on 10 March after a deploy; within the objective since.",
		Location:    loc,
		Start:       start,
		End:         end,
		P50:         p50,
		P95:         p95,
		P99:         p99,
		Threshold:   300,
		ThresholdOf: "p95",
		Maintenance: []Span{{Start: start.Add(4 * time.Hour), End: start.Add(5 * time.Hour), Label: "Kernel patching"}},
		Annotations: []Annotation{
			{T: p95[396].T, Kind: "deploy", Label: "checkout v2.15"},
			{T: p95[432].T, Kind: "deploy", Label: "rollback to v2.14"},
		},
	}
}

// sparklineFixture is 30 days of budget that dips below zero and recovers.
func sparklineFixture(t testing.TB) SparklineInput {
	in := burnDownFixture(t)
	return SparklineInput{
		ID:      "slo-7-spark",
		Title:   "Checkout availability: budget this month",
		Summary: "9% left, falling",
		Start:   in.Start,
		End:     in.End,
		Points:  in.Points,
	}
}

// fiveMinuteSeries is 30 days of 5-minute points (8,640), for size and speed.
func fiveMinuteSeries(start time.Time, f func(i int) float64) []Point {
	pts := make([]Point, 8640)
	for i := range pts {
		pts[i] = Point{T: start.Add(time.Duration(i) * 5 * time.Minute), V: f(i)}
	}
	return pts
}

// monthInputs are 30 days of 5-minute points for every chart (three latency
// series), with annotations and maintenance as a busy SLO page would have.
func monthInputs(t testing.TB) (BurnDownInput, SLIInput, LatencyInput, SparklineInput) {
	loc := mustLoad(t, "Europe/Madrid")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	end := start.Add(30 * 24 * time.Hour)
	anns := []Annotation{
		{T: start.Add(100 * time.Hour), Kind: "deploy", Label: "checkout v2.13"},
		{T: start.Add(200 * time.Hour), Kind: "incident", Label: "INC-2291 payment gateway timeouts"},
		{T: start.Add(400 * time.Hour), Kind: "deploy", Label: "checkout v2.14"},
	}
	maint := []Span{{Start: start.Add(300 * time.Hour), End: start.Add(304 * time.Hour), Label: "Database failover test"}}
	budget := fiveMinuteSeries(start, func(i int) float64 { return 1 - float64(i)/6000 + 0.01*wobble(i) })
	sli := fiveMinuteSeries(start, func(i int) float64 { return 0.9995 + 0.0007*wobble(i) })
	lat := func(scale float64) []Point {
		return fiveMinuteSeries(start, func(i int) float64 { return scale * (100 + 40*wobble(i) + 30*math.Sin(float64(i)/288*2*math.Pi)) })
	}
	return BurnDownInput{
			ID: "m-burn", Title: "Budget", Summary: "Overspent", Location: loc, Start: start, End: end,
			Now: end.Add(-time.Hour), Points: budget, Ideal: true, Maintenance: maint, Annotations: anns,
		}, SLIInput{
			ID: "m-sli", Title: "SLI", Summary: "Below target at times", Location: loc, Start: start, End: end,
			Points: sli, Target: 0.999, Maintenance: maint, Annotations: anns,
		}, LatencyInput{
			ID: "m-lat", Title: "Latency", Summary: "Breaches daily", Location: loc, Start: start, End: end,
			P50: lat(1), P95: lat(2.2), P99: lat(3.5), Threshold: 300, ThresholdOf: "p95", Maintenance: maint, Annotations: anns,
		}, SparklineInput{
			ID: "m-spark", Title: "Budget", Summary: "Overspent", Start: start, End: end, Points: budget,
		}
}
