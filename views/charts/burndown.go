package charts

import (
	"math"
	"time"
)

// BurnDownInput is what a handler knows about one SLO's error budget over its
// budget period. All fields are plain data so handlers can fill it straight
// from the SLO math.
type BurnDownInput struct {
	// ID prefixes every element id of the chart (title, desc, patterns); it
	// must be unique on the page, e.g. "slo-42-burndown".
	ID string
	// Title names the chart, e.g. "Checkout availability: error budget".
	Title string
	// Summary states the conclusion in words and becomes the SVG <desc>,
	// e.g. "Budget 62% left, on track to last the window".
	Summary string
	// Location is the viewer's time zone for labels; nil means UTC.
	Location *time.Location
	// Start and End bound the budget period; zero values fall back to the
	// extent of Points.
	Start, End time.Time
	// Now places the "now" marker and picks the current value; zero means
	// the time of the last point.
	Now time.Time
	// Points is the remaining budget as a fraction: 1 is untouched, 0 is
	// spent, below 0 is overspent.
	Points []Point
	// Ideal draws the dashed straight line from 100% at Start to 0% at End.
	Ideal bool
	// Exhaustion is when the budget reaches 0 at the current burn rate; zero
	// means no projection (not burning, or already spent).
	Exhaustion time.Time
	// Maintenance spans are shaded; Annotations are drawn as labelled rules.
	Maintenance []Span
	Annotations []Annotation
}

// BurnDown is the laid-out burn-down chart: build it with NewBurnDown and
// render it with BurnDownChart.
type BurnDown struct {
	frame     frame
	line      string
	ideal     *segment
	zone      *box
	zoneLabel *label
	proj      *projection
	current   *valueMark
}

type segment struct{ X1, Y1, X2, Y2 string }

type projection struct{ D, MarkX, MarkY string }

// valueMark is a dot with a label and, optionally, a second line under it.
type valueMark struct {
	X, Y  string
	Label label
	Sub   *label
}

// NewBurnDown lays out a burn-down chart. The y axis is fixed at 0–100% so
// that SLOs compare at a glance, and extends below 0 (or above 100) only when
// the data goes there.
func NewBurnDown(in BurnDownInput) BurnDown {
	loc := orUTC(in.Location)
	start, end := period(in.Start, in.End, in.Points)
	pts := clip(in.Points, start, end)
	lo, hi, ok := valueRange(pts)

	dLo, dHi := 0.0, 1.0
	if ok {
		dLo, dHi = math.Min(0, lo), math.Max(1, hi)
	}
	step := niceStep(dLo, dHi, maxYTicks)
	d := stepDecimals(step)
	// The bottom goes down to a labelled tick; the top stays at 100% unless
	// the data really goes above it, and then only as far as the data, so a
	// hair over 100% does not stretch the axis by a whole step.
	dLo = roundTo(math.Floor(dLo/step+1e-9)*step, d)
	pd := percentDecimals(step)

	c := BurnDown{frame: newFrame(frameSpec{
		id: in.ID, title: in.Title, summary: in.Summary, height: 360,
		start: start, end: end, now: in.Now, loc: loc,
		yLo: dLo, yHi: dHi, yStep: step,
		yLabel:      func(v float64) string { return formatPercent(v, pd) },
		maintenance: in.Maintenance, annotations: in.Annotations,
		empty: !ok,
	})}
	f := &c.frame
	if dLo < 0 {
		y0 := f.y.at(0)
		c.zone = &box{num(f.left), num(y0), num(f.right - f.left), num(f.bottom - y0)}
		c.zoneLabel = &label{X: num(f.left + 6), Y: num(f.bottom - 6), Anchor: "start", Text: "overspent"}
	}
	if in.Ideal {
		c.ideal = &segment{num(f.left), num(f.y.at(1)), num(f.right), num(f.y.at(0))}
	}
	if ok {
		c.line = linePath(downsample(pts, maxPoints), f.x.at, f.y.at)
		now := in.Now
		if now.IsZero() {
			now = pts[len(pts)-1].T
		}
		if cur, found := lastAtOrBefore(pts, now); found {
			var outcome string
			c.proj, outcome = c.projection(cur, in.Exhaustion)
			c.current = c.currentMark(cur, outcome)
		}
	}
	f.Legend = c.legend()
	f.Table = c.table(pts)
	return c
}

// currentMark is the dot on the latest value with its "62% left" label and,
// under it, the projection's outcome ("runs out 14 Mar"). Both go where the
// line is not: above-right of the dot while there is room to the right (the
// line arrives from the left and the projection leaves downwards), else
// below-left. Stacking the two with em offsets keeps them apart at every font
// size, however short the projection.
func (c *BurnDown) currentMark(p Point, projText string) *valueMark {
	f := &c.frame
	x, y := f.x.at(p.T), f.y.at(p.V)
	text := formatPercent(p.V, 0) + " left"
	if p.V < 0 {
		text = formatPercent(-p.V, 0) + " overspent"
	}
	lines := 1.0
	if projText != "" {
		lines = 2
	}
	m := &valueMark{X: num(x), Y: num(y)}
	right := x < f.right-190
	above := y-12-lines*1.2*fontMax > f.top
	if !right {
		// Below-left, unless that runs into the x axis.
		above = y+12+lines*1.2*fontMax > f.bottom
	}
	lx, anchor := x+9, "start"
	if !right {
		lx, anchor = x-9, "end"
	}
	if above {
		ly := num(y - 12)
		m.Label = label{X: num(lx), Y: ly, Anchor: anchor, Text: text}
		if projText != "" {
			m.Label.DY = "-1.2em"
			m.Sub = &label{X: num(lx), Y: ly, Anchor: anchor, Text: projText}
		}
	} else {
		ly := num(y + 12)
		m.Label = label{X: num(lx), Y: ly, DY: ".9em", Anchor: anchor, Text: text}
		if projText != "" {
			m.Sub = &label{X: num(lx), Y: ly, DY: "2.1em", Anchor: anchor, Text: projText}
		}
	}
	return m
}

// projection draws the dotted line from the current value to 0% at the
// projected exhaustion instant, or to the period end if the budget lasts
// longer than the period, and returns the words for the outcome.
func (c *BurnDown) projection(cur Point, exhaustion time.Time) (*projection, string) {
	f := &c.frame
	if exhaustion.IsZero() || !exhaustion.After(cur.T) || cur.V <= 0 {
		return nil, ""
	}
	x0, y0 := f.x.at(cur.T), f.y.at(cur.V)
	var x1, y1 float64
	var text string
	if exhaustion.After(f.end) {
		left := cur.V * (1 - float64(f.end.Sub(cur.T))/float64(exhaustion.Sub(cur.T)))
		x1, y1 = f.right, f.y.at(left)
		text = "≈" + formatPercent(left, 0) + " left at end"
	} else {
		x1, y1 = f.x.at(exhaustion), f.y.at(0)
		layout := "2 Jan"
		if exhaustion.In(f.loc).Year() != f.end.In(f.loc).Year() {
			layout = "2 Jan 2006"
		}
		if f.end.Sub(f.start) <= 72*time.Hour {
			layout += " 15:04 MST"
		}
		text = "runs out " + exhaustion.In(f.loc).Format(layout)
	}
	return &projection{
		D:     "M" + num(x0) + "," + num(y0) + "L" + num(x1) + "," + num(y1),
		MarkX: num(x1), MarkY: num(y1),
	}, text
}

func (c *BurnDown) legend() []legendItem {
	var items []legendItem
	if c.line != "" {
		items = append(items, legendItem{"budget", "Budget left"})
	}
	if c.ideal != nil {
		items = append(items, legendItem{"ideal", "Ideal burn"})
	}
	if c.proj != nil {
		items = append(items, legendItem{"proj", "Projection at current burn"})
	}
	if c.zone != nil {
		items = append(items, legendItem{"overspent", "Overspent (below 0%)"})
	}
	return append(items, c.frame.markLegend()...)
}

func (c *BurnDown) table(pts []Point) dataTable {
	f := &c.frame
	buckets, unit := f.tableBuckets(pts)
	t := dataTable{
		Caption: "Budget left at the last sample of each " + unit,
		Head:    []string{"Time", "Budget left"},
	}
	for _, b := range buckets {
		if p, ok := lastAtOrBefore(b.pts, f.end); ok {
			t.Rows = append(t.Rows, []string{f.when(p.T), formatPercent(p.V, 1)})
		}
	}
	return t
}

// lastAtOrBefore is the latest plottable point not after t.
func lastAtOrBefore(pts []Point, t time.Time) (Point, bool) {
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i].ok() && !pts[i].T.After(t) {
			return pts[i], true
		}
	}
	return Point{}, false
}

// valueRange is the min and max of the plottable values; ok is false when
// there are none.
func valueRange(series ...[]Point) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s {
			if p := &s[i]; p.ok() {
				lo, hi, ok = math.Min(lo, p.V), math.Max(hi, p.V), true
			}
		}
	}
	return lo, hi, ok
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
