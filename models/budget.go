package models

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Indicator is how an SLO counts good and bad.
type Indicator string

// The indicators (OpenSLO: ratioMetric with Occurrences, thresholdMetric with Timeslices).
const (
	// IndicatorRatio counts events: good and total from each Splunk row.
	IndicatorRatio Indicator = "ratio"
	// IndicatorThreshold counts time slices: each sample is one slice of the feed's
	// interval, good when its value met the threshold.
	IndicatorThreshold Indicator = "threshold"
)

// Point is one derived observation of an SLO. Ratio: one Splunk row's good and total events.
// Threshold: one time slice, Total = 1 and Good = 1 or 0. Several points may share At (one
// row per host); they all count. The store guarantees 0 ≤ Good ≤ Total.
type Point struct {
	At          time.Time
	Good, Total float64
}

// Span is a maintenance window, [Start, End): points inside it do not count at all — not in
// the SLI, the budget or any burn rate — as if they had never been received.
type Span struct {
	Start, End time.Time
}

// Objective is what the math needs to know about an SLO.
type Objective struct {
	Indicator Indicator
	Target    float64       // fraction, 0 < Target < 1
	Window    Window        // rolling days or calendar month/quarter
	Interval  time.Duration // the feed's interval: one time slice, and the staleness clock
}

// Validate checks the objective before any math divides by its parts.
func (o Objective) Validate() error {
	if o.Indicator != IndicatorRatio && o.Indicator != IndicatorThreshold {
		return FieldErrorf("indicator", "indicator %q is not one of ratio, threshold", o.Indicator)
	}
	if err := ValidateTarget(o.Target); err != nil {
		return err
	}
	if o.Window.IsZero() {
		return FieldErrorf("window", "window is required: write a number of days such as 28d, or month or quarter")
	}
	if o.Interval <= 0 {
		return FieldErrorf("interval", "interval must be positive: it is the feed's reporting interval, e.g. 5m")
	}
	return nil
}

// SLOStatus is the one-word verdict on an SLO, shown as text (and colour) everywhere.
type SLOStatus string

// The statuses, in the precedence Evaluate applies them.
const (
	// StatusBreached: the budget of the current window is spent (remaining ≤ 0).
	StatusBreached SLOStatus = "breached"
	// StatusAtRisk: a page tier fires, or the budget is projected to run out (see Evaluate).
	StatusAtRisk SLOStatus = "at risk"
	// StatusNoData: nothing was ever received for this SLO.
	StatusNoData SLOStatus = "no data"
	// StatusStale: the feed is late, no sample for more than 2× its interval.
	StatusStale SLOStatus = "stale"
	// StatusHealthy: none of the above.
	StatusHealthy SLOStatus = "healthy"
)

// Rank orders statuses by urgency for sorting lists, breached highest.
func (s SLOStatus) Rank() int {
	switch s {
	case StatusBreached:
		return 4
	case StatusAtRisk:
		return 3
	case StatusStale:
		return 2
	case StatusNoData:
		return 1
	}
	return 0
}

// Evaluation is everything the pages show about one SLO at one instant.
type Evaluation struct {
	// PeriodStart and PeriodEnd bound the current period (see Window.Period); the figures
	// below cover [PeriodStart, now].
	PeriodStart, PeriodEnd time.Time
	// Length is the period's length: N days rolling, the real calendar length otherwise.
	Length time.Duration
	Target float64

	// Good, Total and Bad are events (ratio) or slices with data (threshold).
	Good, Total, Bad float64
	// HasData is false when the period holds no events; SLI is then 0 and means nothing.
	HasData bool
	SLI     float64
	// AllowedBad is the budget in events (ratio) or in slices (threshold).
	AllowedBad float64
	// BadTime and AllowedBadTime are the time-slice budget in time; zero for ratio SLOs.
	BadTime, AllowedBadTime time.Duration
	// Remaining is 1 − Bad/AllowedBad, not clamped: −0.186 means overspent by 18.6%.
	// Consumed is 1 − Remaining.
	Remaining, Consumed float64

	// Tiers are the burn-rate tiers for this window with their rates now.
	Tiers []TierState
	// FastestBurnRate is the highest long-window rate among the tiers that have data.
	FastestBurnRate float64
	// BurnRate is the current burn rate, over BurnRateWindow (the ticket-quick long window).
	BurnRate        float64
	BurnRateWindow  time.Duration
	BurnRateHasData bool
	// TimeToExhaustion and ExhaustsAt project BurnRate forward; nil when the budget is not
	// burning (no data or rate 0 in the lookback, or centuries away) or is already spent.
	TimeToExhaustion *time.Duration
	ExhaustsAt       *time.Time

	Status SLOStatus
	// Stale and LowTraffic are kept apart from Status so a breached SLO can also say its
	// feed is late or its traffic too thin to trust.
	Stale      bool
	LowTraffic bool
	// LastDataAt is the lastDataAt given to Evaluate, or the newest point when that was zero.
	LastDataAt time.Time
}

// Evaluate judges an SLO at now.
//
// Period figures (SLI, budget) use the points in [PeriodStart, now] outside maintenance;
// points after now are ignored, and a late point counts in the period its At falls in.
// Burn rates look back over [now − L, now) whatever the period start, so the first hour of a
// month still sees the last hour of the previous one.
//
// Status, first match wins:
//   - breached: Remaining ≤ 0.
//   - at risk: a page tier fires; or, for a calendar window, the budget is projected to run
//     out before the period ends; or, for a rolling window, the current burn rate is ≥ 1 —
//     kept up for a window, that rate spends the whole budget, and the projected exhaustion
//     (Remaining × N days / rate) then falls within one window length.
//   - no data: nothing ever received (lastDataAt zero and no points).
//   - stale: the last data is more than 2 × Interval before now.
//   - healthy: otherwise — also a fresh calendar period with no points yet (100% left).
//
// lastDataAt is when data for this SLO last arrived (zero if never); the store passes it
// because the points it loads may not reach back far enough to know.
// points must be sorted by At; unsorted input is sorted in a copy, which costs time only.
func Evaluate(obj Objective, points []Point, maint []Span, now, lastDataAt time.Time) Evaluation {
	pts := sortedByAt(points)
	spans := mergeSpans(maint)

	e := Evaluation{Target: obj.Target}
	e.PeriodStart, e.PeriodEnd = obj.Window.Period(now)
	e.Length = obj.Window.Length(now)
	// [start, now] is [start, now + 1ns): time has nanosecond resolution.
	e.setBudget(obj, sumsBefore(pts, spans, now.Add(time.Nanosecond), []time.Time{e.PeriodStart})[0], e.Length)

	// Burn rates: every lookback ends just before now, so one backward pass serves them all.
	tiers := Tiers(obj.Window.Nominal(), obj.Interval)
	starts := make([]time.Time, 0, 2*len(tiers))
	for _, t := range tiers {
		starts = append(starts, now.Add(-t.Long), now.Add(-t.Short))
	}
	lookback := sumsBefore(pts, spans, now, starts)
	e.Tiers = make([]TierState, len(tiers))
	pageFiring := false
	for i, t := range tiers {
		ts := TierState{BurnTier: t}
		long, short := lookback[2*i], lookback[2*i+1]
		ts.LongRate, ts.LongHasData = BurnRate(long.bad, long.total, obj.Target)
		ts.ShortRate, ts.ShortHasData = BurnRate(short.bad, short.total, obj.Target)
		ts.Firing = ts.LongHasData && ts.ShortHasData && ts.LongRate > t.Factor && ts.ShortRate > t.Factor
		if ts.LongHasData && ts.LongRate > e.FastestBurnRate {
			e.FastestBurnRate = ts.LongRate
		}
		pageFiring = pageFiring || (ts.Firing && t.Severity == SeverityPage)
		e.Tiers[i] = ts
	}
	if len(tiers) > currentBurnTier {
		cur := e.Tiers[currentBurnTier]
		e.BurnRate, e.BurnRateHasData, e.BurnRateWindow = cur.LongRate, cur.LongHasData, cur.Long
	}

	// Time to exhaustion: remaining × window / rate, the Datadog formula. It assumes the
	// window's allowance is what a full window of traffic at today's rate would give. A rate
	// so small that the answer overflows a Duration (about 292 years) counts as not burning.
	if e.BurnRateHasData && e.BurnRate > 0 && e.Remaining > 0 {
		if x := e.Remaining * float64(e.Length) / e.BurnRate; x < float64(math.MaxInt64/2) {
			tte := time.Duration(x)
			at := now.Add(tte)
			e.TimeToExhaustion, e.ExhaustsAt = &tte, &at
		}
	}

	e.LastDataAt = lastDataAt
	if e.LastDataAt.IsZero() && len(pts) > 0 {
		e.LastDataAt = pts[len(pts)-1].At
	}
	e.Stale = !e.LastDataAt.IsZero() && obj.Interval > 0 && now.Sub(e.LastDataAt) > 2*obj.Interval

	projected := false
	if obj.Window.Calendar() {
		projected = e.ExhaustsAt != nil && e.ExhaustsAt.Before(e.PeriodEnd)
	} else {
		projected = e.BurnRateHasData && e.BurnRate >= 1
	}
	switch {
	case e.Remaining <= 0:
		e.Status = StatusBreached
	case pageFiring || projected:
		e.Status = StatusAtRisk
	case e.LastDataAt.IsZero():
		e.Status = StatusNoData
	case e.Stale:
		e.Status = StatusStale
	default:
		e.Status = StatusHealthy
	}
	return e
}

// setBudget fills the period figures from its sums; length is the base of a time-slice
// allowance (the full period, even the part not yet lived).
func (e *Evaluation) setBudget(obj Objective, s sums, length time.Duration) {
	b := budgetOf(obj.Indicator, obj.Target, obj.Interval, s, length)
	e.Good, e.Total, e.Bad = s.total-s.bad, s.total, s.bad
	e.HasData, e.SLI = b.hasData, b.sli
	e.AllowedBad, e.AllowedBadTime, e.BadTime = b.allowed, b.allowedTime, b.badTime
	e.Remaining, e.Consumed = b.remaining, 1-b.remaining
	e.LowTraffic = b.lowTraffic
}

// budget is the period math shared by Evaluate, BudgetSeries and Attainment.
type budget struct {
	hasData              bool
	sli                  float64
	allowed              float64 // events or slices
	allowedTime, badTime time.Duration
	remaining            float64
	lowTraffic           bool
}

// budgetOf applies the formulas of SPEC §5 to one range's sums.
//   - ratio: SLI = good / total; allowed bad = (1 − target) × total.
//   - threshold: SLI = good slices / slices with data; allowed bad time = (1 − target) ×
//     length, i.e. (1 − target) × length / interval slices. Missing slices are not bad.
//   - both: remaining = 1 − bad / allowed, unclamped; 1 when nothing is bad (even with no
//     traffic, where the ratio formula would be 0/0). Low traffic when (1 − target) × total
//     < 1: the range allows less than one bad event (or slice), so one error breaches it.
//
// Float rounding leaves 1e-16 where the exact answer is 0 (999 of 1000 at 99.9%), and
// whether that lands above or below 0 decides "breached"; remaining within 1e-9 of 0 is
// taken as 0, and low traffic allows the same slack, so such cases are judged exactly.
func budgetOf(ind Indicator, target float64, interval time.Duration, s sums, length time.Duration) budget {
	b := budget{hasData: s.total > 0, remaining: 1, lowTraffic: (1-target)*s.total < 1-roundingSlack}
	if b.hasData {
		b.sli = (s.total - s.bad) / s.total
	}
	switch ind {
	case IndicatorThreshold:
		b.allowedTime = time.Duration(float64(length) * (1 - target))
		b.badTime = time.Duration(s.bad * float64(interval))
		if interval > 0 {
			b.allowed = float64(length) * (1 - target) / float64(interval)
		}
	default:
		b.allowed = (1 - target) * s.total
	}
	if s.bad > 0 {
		b.remaining = 1 - s.bad/b.allowed
		if math.Abs(b.remaining) < roundingSlack {
			b.remaining = 0
		}
	}
	return b
}

// roundingSlack is far above float64 noise on budget figures and far below any budget a
// person could tell apart from zero (one event in a billion allowed).
const roundingSlack = 1e-9

// sortedByAt returns points if already in order, else a sorted copy: the caller's slice is
// never reordered under it.
func sortedByAt(points []Point) []Point {
	sorted := true
	for i := 1; i < len(points) && sorted; i++ {
		sorted = !points[i].At.Before(points[i-1].At)
	}
	if sorted {
		return points
	}
	c := slices.Clone(points)
	slices.SortStableFunc(c, func(a, b Point) int { return a.At.Compare(b.At) })
	return c
}

// sums are bad and total over a range. Bad is summed rather than good so that a few bad
// events among billions keep their precision: good would be a difference of two huge sums.
type sums struct{ bad, total float64 }

// sumsBefore returns, for each start, the sums over the points in [start, end) outside the
// merged spans. It walks backward from end once, snapshotting the running sums as it passes
// each start, so Evaluate reads each point of its longest range once and allocates nothing
// per point.
func sumsBefore(pts []Point, spans []Span, end time.Time, starts []time.Time) []sums {
	order := make([]int, len(starts))
	for k := range order {
		order[k] = k
	}
	slices.SortFunc(order, func(a, b int) int { return starts[b].Compare(starts[a]) }) // latest first
	out := make([]sums, len(starts))
	i := sort.Search(len(pts), func(i int) bool { return !pts[i].At.Before(end) }) - 1
	j := len(spans) - 1 // the last span starting at or before pts[i]
	var run sums
	for _, k := range order {
		for ; i >= 0 && !pts[i].At.Before(starts[k]); i-- {
			p := pts[i]
			for j >= 0 && p.At.Before(spans[j].Start) {
				j--
			}
			if j < 0 || !p.At.Before(spans[j].End) {
				run.bad += p.Total - p.Good
				run.total += p.Total
			}
		}
		out[k] = run
	}
	return out
}

// ledger holds prefix sums over sorted points, maintenance already excluded, so any
// range is two binary searches and a subtraction: cum[i] covers points[:i].
type ledger struct {
	pts []Point
	cum []sums
}

func newLedger(pts []Point, maint []Span) ledger {
	spans := mergeSpans(maint)
	cum := make([]sums, len(pts)+1)
	j := 0
	for i, p := range pts {
		for j < len(spans) && !p.At.Before(spans[j].End) {
			j++
		}
		c := cum[i]
		if j == len(spans) || p.At.Before(spans[j].Start) {
			c.bad += p.Total - p.Good
			c.total += p.Total
		}
		cum[i+1] = c
	}
	return ledger{pts: pts, cum: cum}
}

// from is the index of the first point at or after t.
func (l ledger) from(t time.Time) int {
	return sort.Search(len(l.pts), func(i int) bool { return !l.pts[i].At.Before(t) })
}

// sum covers points[i:j].
func (l ledger) sum(i, j int) sums {
	if j <= i {
		return sums{}
	}
	return sums{bad: l.cum[j].bad - l.cum[i].bad, total: l.cum[j].total - l.cum[i].total}
}

// mergeSpans sorts the spans and joins overlapping ones, dropping empty ones, so a
// single forward walk can test each point.
func mergeSpans(maint []Span) []Span {
	var out []Span
	for _, s := range maint {
		if s.End.After(s.Start) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Span) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && !s.Start.After(merged[n-1].End) {
			if s.End.After(merged[n-1].End) {
				merged[n-1].End = s.End
			}
			continue
		}
		merged = append(merged, s)
	}
	return merged
}
