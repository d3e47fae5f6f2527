package models

import (
	"time"
)

// BudgetPoint is one step of a burn-down chart.
type BudgetPoint struct {
	At        time.Time
	Remaining float64 // unclamped, as Evaluation.Remaining
	SLI       float64 // meaningful only when HasData
	HasData   bool
}

// BudgetSeries is the budget remaining over time, for burn-down charts: one point at from,
// from + step, … and a last one at to exactly, so the chart ends at the value Evaluate(…, to)
// shows. At each instant t the budget is computed as Evaluate would with windows ending at
// t: for a calendar window over [start of the period before t, t) (it starts each period
// at 100% and only falls, except that a ratio budget grows back as good traffic adds to
// the allowance); for a rolling window over [t − N days, t) (it rises as old errors age
// out), so pass points from from − N days on. Maintenance is excluded as in Evaluate.
//
// It runs in O(points + steps): prefix sums, and two cursors that only move forward because
// both ends of the range only move forward with t. Charts want ≤ 500 steps; pick step to fit.
// A step ≤ 0 or to before from gives nil.
func BudgetSeries(obj Objective, points []Point, maint []Span, from, to time.Time, step time.Duration) []BudgetPoint {
	if step <= 0 || to.Before(from) {
		return nil
	}
	pts := sortedByAt(points)
	led := newLedger(pts, maint)
	out := make([]BudgetPoint, 0, int(to.Sub(from)/step)+2)
	lo, hi := 0, 0 // pts[:lo] are before the range start, pts[:hi] are before t
	for k := 0; ; k++ {
		t := from.Add(time.Duration(k) * step)
		if t.After(to) {
			t = to
		}
		start, _ := obj.period(t)
		for hi < len(pts) && pts[hi].At.Before(t) {
			hi++
		}
		for lo < len(pts) && pts[lo].At.Before(start) {
			lo++
		}
		b := budgetOf(obj.Indicator, obj.Target, obj.Interval, led.sum(lo, hi), obj.Window.Length(t.Add(-time.Nanosecond)))
		out = append(out, BudgetPoint{At: t, Remaining: b.remaining, SLI: b.sli, HasData: b.hasData})
		if !t.Before(to) {
			return out
		}
	}
}

// IdealRemaining is the straight line a calendar burn-down chart is read against: 100% at
// the period start falling evenly to 0% at its end. Spending on or under this line lasts the
// period. Outside the period it stays at 1 or 0.
func IdealRemaining(periodStart, periodEnd, t time.Time) float64 {
	length := periodEnd.Sub(periodStart)
	if length <= 0 || !t.After(periodStart) {
		return 1
	}
	if !t.Before(periodEnd) {
		return 0
	}
	return 1 - float64(t.Sub(periodStart))/float64(length)
}

// MonthAttainment is how an SLO did over one closed month (or any closed range), for reports.
type MonthAttainment struct {
	Start, End time.Time
	Target     float64
	Good       float64
	Total      float64
	Bad        float64
	HasData    bool
	SLI        float64 // meaningful only when HasData
	// BudgetUsed is bad / allowed bad over the month; above 1 means overspent (1.186 = 118.6%).
	BudgetUsed float64
	// TimeInBreach is how long during the month the budget counted from the month start
	// was at or below 0.
	TimeInBreach time.Duration
	// Met is true when the month had data and did not overspend its budget (BudgetUsed ≤ 1).
	// For a ratio SLO that is SLI ≥ target; for a threshold SLO it is bad time ≤ allowed bad
	// time, so missing slices do not fail a month. A month that ends with exactly 0% left is
	// met, yet counted in breach from the moment it reached 0: "breached" means no budget is
	// left, "met" means the target was reached.
	Met bool
}

// Attainment judges the closed range [monthStart, monthEnd) against target (from TargetFor
// with monthEnd, not necessarily obj.Target). A threshold SLO's allowance is based on the
// full range length, so pass the real month bounds from Window.MonthOf (743 h for a March
// with a DST change). For the month in progress use Evaluate: a range ending in the future
// would count time in breach that has not happened yet.
//
// Time in breach is exact rather than sampled: the cumulative budget only changes when a
// point arrives, so each stretch between points is wholly in breach or wholly not. A
// threshold budget never recovers within the month, so its breach runs from the slice
// that spent it to the month end; a ratio budget can recover as good traffic arrives.
func Attainment(obj Objective, points []Point, maint []Span, monthStart, monthEnd time.Time, target float64) MonthAttainment {
	pts := sortedByAt(points)
	led := newLedger(pts, maint)
	lo, hi := led.from(monthStart), led.from(monthEnd)
	length := monthEnd.Sub(monthStart)
	remainingAt := func(j int) float64 {
		return budgetOf(obj.Indicator, target, obj.Interval, led.sum(lo, j), length).remaining
	}

	a := MonthAttainment{Start: monthStart, End: monthEnd, Target: target}
	for i := lo; i < hi; {
		j := i + 1
		for j < hi && pts[j].At.Equal(pts[i].At) { // points sharing an instant land together
			j++
		}
		next := monthEnd
		if j < hi {
			next = pts[j].At
		}
		if remainingAt(j) <= 0 {
			a.TimeInBreach += next.Sub(pts[i].At)
		}
		i = j
	}

	s := led.sum(lo, hi)
	b := budgetOf(obj.Indicator, target, obj.Interval, s, length)
	a.Good, a.Total, a.Bad = s.Total-s.Bad, s.Total, s.Bad
	a.HasData, a.SLI = b.hasData, b.sli
	a.BudgetUsed = 1 - b.remaining
	a.Met = a.HasData && a.BudgetUsed <= 1
	return a
}

// BudgetAt is the budget point of a window that ends at at and has the sums s: what a
// burn-down or a sparkline shows there, with the same formulas as Evaluate.
func (o Objective) BudgetAt(at time.Time, s Sums) BudgetPoint {
	b := budgetOf(o.Indicator, o.Target, o.Interval, s, o.Window.Length(at.Add(-time.Nanosecond)))
	return BudgetPoint{At: at, Remaining: b.remaining, SLI: b.sli, HasData: b.hasData}
}

// Period is the window period a window ending at end belongs to (see Evaluate).
func (o Objective) Period(end time.Time) (start, periodEnd time.Time) { return o.period(end) }

// AttainmentOf judges a closed range from its sums, as Attainment does from points,
// without the time in breach (which needs the points).
func (o Objective) AttainmentOf(s Sums, start, end time.Time, target float64) MonthAttainment {
	b := budgetOf(o.Indicator, target, o.Interval, s, end.Sub(start))
	a := MonthAttainment{Start: start, End: end, Target: target, Good: s.Total - s.Bad, Total: s.Total, Bad: s.Bad,
		HasData: b.hasData, SLI: b.sli, BudgetUsed: 1 - b.remaining}
	a.Met = a.HasData && a.BudgetUsed <= 1
	return a
}
