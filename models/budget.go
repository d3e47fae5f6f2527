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
	// Excluded counts rows at At that the SLO could not use (Good and Total left out).
	Excluded int
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
	// StatusComputing: the SLO's history is being derived (a new SLO, or a changed binding);
	// no verdict is shown until it is done.
	StatusComputing SLOStatus = "computing"
	// StatusBreached: the budget of the current window is spent (remaining ≤ 0).
	StatusBreached SLOStatus = "breached"
	// StatusAtRisk: a page tier fires, or the budget is projected to run out before the
	// window ends (see Evaluate).
	StatusAtRisk SLOStatus = "at risk"
	// StatusNoData: the window holds no events (or no slices) to judge.
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
		return 5
	case StatusAtRisk:
		return 4
	case StatusStale:
		return 3
	case StatusNoData:
		return 2
	case StatusComputing:
		return 1
	}
	return 0
}

// Judged reports whether the status is a verdict on the budget: an SLO that is
// computing or has no data is neither meeting nor missing its objective.
func (s SLOStatus) Judged() bool { return s != StatusComputing && s != StatusNoData }

// Evaluation is everything the pages show about one SLO at one instant.
type Evaluation struct {
	// End is where every window ends: the data time (see DataTime).
	End time.Time
	// PeriodStart and PeriodEnd bound the current period (see Window.Period); the figures
	// below cover [PeriodStart, End).
	PeriodStart, PeriodEnd time.Time
	// Length is the period's length: N days rolling, the real calendar length otherwise.
	Length time.Duration
	Target float64

	// Good, Total and Bad are events (ratio) or slices with data (threshold).
	Good, Total, Bad float64
	// Excluded counts the rows in the period this SLO could not use (see Binding.Check).
	Excluded int
	// HasData is false when the period holds no events; SLI and Remaining then mean nothing
	// and are shown as "—".
	HasData bool
	SLI     float64
	// AllowedBad is the budget in events (ratio) or in slices (threshold).
	AllowedBad float64
	// BadTime and AllowedBadTime are the time-slice budget in time; zero for ratio SLOs.
	BadTime, AllowedBadTime time.Duration
	// Remaining is 1 − Bad/AllowedBad, not clamped: −0.186 means overspent by 18.6%.
	// Consumed is 1 − Remaining.
	Remaining, Consumed float64

	// Tiers are the burn-rate tiers for this window with their rates at End.
	Tiers []TierState
	// FastestBurnRate is the highest long-window rate among the tiers that have data.
	FastestBurnRate float64
	// BurnRate is the current burn rate, over BurnRateWindow (the ticket-quick long window).
	BurnRate        float64
	BurnRateWindow  time.Duration
	BurnRateHasData bool
	// TimeToExhaustion and ExhaustsAt project BurnRate forward. They are set only when the
	// budget would run out before the window ends (which makes the SLO at risk): never for
	// a budget that is not burning, already spent, or would last the window.
	TimeToExhaustion *time.Duration
	ExhaustsAt       *time.Time

	Status SLOStatus
	// Stale and LowTraffic are kept apart from Status so a breached SLO can also say its
	// feed is late or its traffic too thin to trust.
	Stale      bool
	LowTraffic bool
	// LastDataAt is the end of the newest bucket received (zero if none ever was).
	LastDataAt time.Time
}

// DataTime is where an SLO's windows end and whether its feed is late.
type DataTime struct {
	// End is the end of the newest bucket delivered, or the start of the current bucket
	// once the feed is stale (or never delivered).
	End time.Time
	// Last is the end of the newest bucket delivered; zero if none ever was.
	Last  time.Time
	Stale bool
}

// DataTimeOf places an SLO's windows. lastBucket is the start of the newest bucket
// delivered for its series (zero if none), taking only buckets that did not start after
// they were received. Every lookback ends at the end of that bucket and holds whole
// buckets, so on a 5-minute feed the 5-minute window holds exactly the newest bucket,
// whether Splunk stamps rows at the bucket's start or its end. Once nothing has arrived
// for more than 2 × interval after that end, the feed is stale and windows end at now
// (the start of the current bucket), so old data does not look current.
func DataTimeOf(lastBucket time.Time, interval time.Duration, now time.Time) DataTime {
	if interval <= 0 {
		interval = time.Minute
	}
	floorNow := now.Truncate(interval)
	if lastBucket.IsZero() {
		return DataTime{End: floorNow}
	}
	last := lastBucket.Add(interval)
	if now.Sub(last) > 2*interval {
		return DataTime{End: floorNow, Last: last, Stale: true}
	}
	return DataTime{End: last, Last: last}
}

// Range is a span of time [From, To).
type Range struct {
	From, To time.Time
}

// Ranges are the lookbacks an evaluation ending at end needs, in the order Evaluate takes
// their sums: the period [PeriodStart, end), then each tier's long and short windows.
func (o Objective) Ranges(end time.Time) []Range {
	start, _ := o.period(end)
	tiers := Tiers(o.Window.Nominal(), o.Interval)
	out := make([]Range, 0, 1+2*len(tiers))
	out = append(out, Range{start, end})
	for _, t := range tiers {
		out = append(out, Range{end.Add(-t.Long), end}, Range{end.Add(-t.Short), end})
	}
	return out
}

// period is the window period that [.., end) belongs to: for a calendar window the one
// holding the instant just before end (a window ending at midnight on the 1st is the
// month that just ended); for a rolling window the N days before end.
func (o Objective) period(end time.Time) (start, periodEnd time.Time) {
	if o.Window.Calendar() {
		return o.Window.Period(end.Add(-time.Nanosecond))
	}
	return end.Add(-time.Duration(o.Window.Days()) * day), end
}

// Evaluate judges an SLO from its points (see EvaluateSums): windows end at dt.End and
// the status is as of now. Points must be sorted by At; unsorted input is sorted in a copy.
func Evaluate(obj Objective, points []Point, maint []Span, dt DataTime, now time.Time) Evaluation {
	return EvaluateSums(obj, SumRanges(points, maint, obj.Ranges(dt.End)), dt, now)
}

// EvaluateSums judges an SLO from the sums over obj.Ranges(dt.End), in that order.
//
// Period figures (SLI, budget) cover [PeriodStart, End); burn rates look back over
// [End − L, End) whatever the period start, so the first hour of a month still sees the
// last hour of the previous one.
//
// Status, first match wins:
//   - breached: Remaining ≤ 0.
//   - at risk: a page tier fires; or the budget is projected to run out before the window
//     ends — at the current burn rate r with remaining R, in R × length / r, which for a
//     calendar window must fall before the period's end and for a rolling window within
//     one window length (r > R).
//   - no data: the period holds no events (or slices with data).
//   - stale: the feed is late (see DataTimeOf).
//   - healthy: otherwise.
func EvaluateSums(obj Objective, sums []Sums, dt DataTime, now time.Time) Evaluation {
	e := Evaluation{Target: obj.Target, End: dt.End, LastDataAt: dt.Last, Stale: dt.Stale}
	e.PeriodStart, e.PeriodEnd = obj.period(dt.End)
	e.Length = obj.Window.Length(dt.End.Add(-time.Nanosecond))
	if len(sums) == 0 {
		sums = []Sums{{}}
	}
	e.setBudget(obj, sums[0], e.Length)

	tiers := Tiers(obj.Window.Nominal(), obj.Interval)
	e.Tiers = make([]TierState, len(tiers))
	pageFiring := false
	for i, t := range tiers {
		ts := TierState{BurnTier: t}
		var long, short Sums
		if 2+2*i < len(sums) {
			long, short = sums[1+2*i], sums[2+2*i]
		}
		ts.LongRate, ts.LongHasData = BurnRate(long.Bad, long.Total, obj.Target)
		ts.ShortRate, ts.ShortHasData = BurnRate(short.Bad, short.Total, obj.Target)
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

	// Time to exhaustion: remaining × window / rate, the Datadog formula. It is shown only
	// when it falls before the window ends, and then the SLO is at risk: "healthy" beside
	// "runs out in 3 hours" would contradict itself. A rate so small that the answer
	// overflows a Duration (about 292 years) counts as not burning.
	if e.HasData && e.BurnRateHasData && e.BurnRate > 0 && e.Remaining > 0 {
		if x := e.Remaining * float64(e.Length) / e.BurnRate; x < float64(math.MaxInt64/2) {
			tte := time.Duration(x)
			at := dt.End.Add(tte)
			horizon := dt.End.Add(e.Length)
			if obj.Window.Calendar() {
				horizon = e.PeriodEnd
			}
			if at.Before(horizon) {
				e.TimeToExhaustion, e.ExhaustsAt = &tte, &at
			}
		}
	}

	switch {
	case e.HasData && e.Remaining <= 0:
		e.Status = StatusBreached
	case pageFiring || e.ExhaustsAt != nil:
		e.Status = StatusAtRisk
	case !e.HasData:
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
func (e *Evaluation) setBudget(obj Objective, s Sums, length time.Duration) {
	b := budgetOf(obj.Indicator, obj.Target, obj.Interval, s, length)
	e.Good, e.Total, e.Bad, e.Excluded = s.Total-s.Bad, s.Total, s.Bad, s.Excluded
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

// budgetOf applies the budget formulas (see FormulaHelp) to one range's sums.
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
func budgetOf(ind Indicator, target float64, interval time.Duration, s Sums, length time.Duration) budget {
	b := budget{hasData: s.Total > 0, remaining: 1, lowTraffic: (1-target)*s.Total < 1-roundingSlack}
	if b.hasData {
		b.sli = (s.Total - s.Bad) / s.Total
	}
	switch ind {
	case IndicatorThreshold:
		b.allowedTime = time.Duration(float64(length) * (1 - target))
		b.badTime = time.Duration(s.Bad * float64(interval))
		if interval > 0 {
			b.allowed = float64(length) * (1 - target) / float64(interval)
		}
	default:
		b.allowed = (1 - target) * s.Total
	}
	if s.Bad > 0 {
		b.remaining = 1 - s.Bad/b.allowed
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

// Sums are bad and total events (or slices) over a range, and how many rows there the SLO
// could not use. Bad is summed rather than good so that a few bad events among billions
// keep their precision: good would be a difference of two huge sums.
type Sums struct {
	Bad, Total float64
	Excluded   int
}

// Add returns the sums of both.
func (s Sums) Add(o Sums) Sums {
	return Sums{Bad: s.Bad + o.Bad, Total: s.Total + o.Total, Excluded: s.Excluded + o.Excluded}
}

// Sub returns s without o (o a part of s).
func (s Sums) Sub(o Sums) Sums {
	return Sums{Bad: s.Bad - o.Bad, Total: s.Total - o.Total, Excluded: s.Excluded - o.Excluded}
}

// SumRanges returns, for each range, the sums of the points in [From, To) outside the
// maintenance spans. It sorts a copy of the points if needed and costs
// O((points + ranges) × log points) through prefix sums.
func SumRanges(points []Point, maint []Span, ranges []Range) []Sums {
	pts := sortedByAt(points)
	led := newLedger(pts, maint)
	out := make([]Sums, len(ranges))
	for i, r := range ranges {
		out[i] = led.sum(led.from(r.From), led.from(r.To))
	}
	return out
}

// ledger holds prefix sums over sorted points, maintenance already excluded, so any
// range is two binary searches and a subtraction: cum[i] covers points[:i].
type ledger struct {
	pts []Point
	cum []Sums
}

func newLedger(pts []Point, maint []Span) ledger {
	spans := mergeSpans(maint)
	cum := make([]Sums, len(pts)+1)
	j := 0
	for i, p := range pts {
		for j < len(spans) && !p.At.Before(spans[j].End) {
			j++
		}
		c := cum[i]
		if j == len(spans) || p.At.Before(spans[j].Start) {
			c.Bad += p.Total - p.Good
			c.Total += p.Total
			c.Excluded += p.Excluded
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
func (l ledger) sum(i, j int) Sums {
	if j <= i {
		return Sums{}
	}
	return l.cum[j].Sub(l.cum[i])
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

// Rejudge brings an evaluation computed earlier up to now without new data: if the feed
// has since become late, the evaluation is marked stale (and a healthy one becomes
// stale). It reports whether that happened, in which case the numbers themselves are due
// to be computed again with windows ending at now.
func (e *Evaluation) Rejudge(now time.Time, interval time.Duration) bool {
	if e.Stale || e.LastDataAt.IsZero() || now.Sub(e.LastDataAt) <= 2*interval {
		return false
	}
	e.Stale = true
	if e.Status == StatusHealthy {
		e.Status = StatusStale
	}
	return true
}

// Meeting counts, as every page says it, "N of M meeting objective": M is the SLOs with
// a verdict (not computing, not without data), N those of them with budget left. The
// SLOs without a verdict are named apart.
func Meeting(reports []SLOReport) (n, m int, unjudged []string) {
	for _, r := range reports {
		if !r.Eval.Status.Judged() {
			unjudged = append(unjudged, r.Title())
			continue
		}
		m++
		if r.Eval.Remaining > 0 {
			n++
		}
	}
	return n, m, unjudged
}
